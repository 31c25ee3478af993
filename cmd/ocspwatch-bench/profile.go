package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startCPUProfile profiles the agent's process over the steady-state
// rounds, when dir is set: the work behind "CPU per probe" (the floor runs
// in its own process). Profiling adds a few percent to the CPU figures.
func startCPUProfile(dir string, targets int) (stop func() error, err error) {
	return startCPUProfileNamed(dir, fmt.Sprintf("cpu-%d.pprof", targets))
}

func startCPUProfileNamed(dir, name string) (stop func() error, err error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// writeHeapProfile writes the live heap (after the GC the memory figures
// force) and the goroutines, when dir is set.
func writeHeapProfile(dir string, targets int) error {
	if dir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", targets)))
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// What the goroutines were doing then: a live heap that holds more
	// than the runs in flight need shows up here as their stacks.
	g, err := os.Create(filepath.Join(dir, fmt.Sprintf("goroutines-%d.txt", targets)))
	if err != nil {
		return err
	}
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
		g.Close()
		return err
	}
	return g.Close()
}

// Package proc runs the real programs that tests drive (ocspwatch itself,
// openssl, nginx, Prometheus) as child processes on 127.0.0.1, and stops
// them when the test ends.
package proc

import (
	"bytes"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a running child process with its combined output.
type Process struct {
	Name   string
	cmd    *exec.Cmd
	output *Buffer
	done   chan struct{}
}

// Start runs bin with args and stops it at the end of the test.
func Start(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: bin, output: &Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Output is everything the process printed so far.
func (p *Process) Output() string { return p.output.String() }

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode is the exit status once the process has ended, -1 before.
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Stop asks the process to terminate, then kills it after 5 seconds. It
// is safe to call twice.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// WaitOutput waits until the output contains s.
func (p *Process) WaitOutput(t testing.TB, s string, limit time.Duration) {
	t.Helper()
	WaitFor(t, limit, p.Name+" to print "+s, func() bool {
		if p.Exited() && !strings.Contains(p.Output(), s) {
			t.Fatalf("%s exited before printing %q:\n%s", p.Name, s, p.Output())
		}
		return strings.Contains(p.Output(), s)
	})
}

// Buffer collects a process's output while tests read it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// for a server that must be told its port before it starts (openssl ocsp,
// nginx). It is drawn below Linux's ephemeral range (32768 and up), where
// the kernel places every port-0 listener and the local end of every
// outgoing connection: a port from that range could be taken again by any
// test running in parallel before the server binds it.
func FreePort(t testing.TB) string {
	t.Helper()
	for range 200 {
		port := strconv.Itoa(20000 + rand.IntN(12000))
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

// WaitFor polls cond until it holds, failing the test after limit.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

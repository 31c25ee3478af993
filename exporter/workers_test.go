package exporter

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// gatedRuns records the runs a workers pool makes and holds each one
// until the test releases it.
type gatedRuns struct {
	mu      sync.Mutex
	order   []string
	inside  atomic.Int32
	most    atomic.Int32
	release chan struct{}
}

func (g *gatedRuns) run(r queuedRun) {
	n := g.inside.Add(1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	g.mu.Lock()
	g.order = append(g.order, r.st.name)
	g.mu.Unlock()
	<-g.release
	g.inside.Add(-1)
}

func (g *gatedRuns) ran() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.order...)
}

// Runs wait in the queue, not as goroutines, go at most limit at a time
// in the order queued, and a changed limit takes effect at once.
func TestWorkersLimitAndOrder(t *testing.T) {
	g := &gatedRuns{release: make(chan struct{})}
	w := newWorkers(g.run)
	w.setLimit(2)
	for i := range 6 {
		w.push(queuedRun{st: &targetState{name: fmt.Sprintf("t%d", i)}})
	}
	proc.WaitFor(t, 2*time.Second, "two runs to start", func() bool { return g.inside.Load() == 2 })
	if got := w.waiting(); got != 4 {
		t.Errorf("%d runs waiting, want 4", got)
	}
	w.setLimit(3)
	proc.WaitFor(t, 2*time.Second, "a third worker to take a run", func() bool { return g.inside.Load() == 3 })
	w.setLimit(1)
	for range 6 {
		g.release <- struct{}{}
	}
	proc.WaitFor(t, 2*time.Second, "every run to finish", func() bool { return len(g.ran()) == 6 && g.inside.Load() == 0 })
	if got := g.ran(); fmt.Sprint(got) != "[t0 t1 t2 t3 t4 t5]" {
		t.Errorf("runs went in the order %v, want the order queued", got)
	}
	if most := g.most.Load(); most != 3 {
		t.Errorf("at most %d runs at once, want 3 (the highest limit)", most)
	}
	// Once lowered to 1, runs go one at a time.
	g.most.Store(0)
	for i := range 3 {
		w.push(queuedRun{st: &targetState{name: fmt.Sprintf("u%d", i)}})
	}
	for range 3 {
		g.release <- struct{}{}
	}
	proc.WaitFor(t, 2*time.Second, "the later runs to finish", func() bool { return len(g.ran()) == 9 })
	if most := g.most.Load(); most != 1 {
		t.Errorf("after lowering the limit to 1, %d runs went at once", most)
	}
	w.stop()
}

// stop drops what is queued and waits for the runs in flight.
func TestWorkersStop(t *testing.T) {
	g := &gatedRuns{release: make(chan struct{})}
	w := newWorkers(g.run)
	w.setLimit(1)
	for i := range 3 {
		w.push(queuedRun{st: &targetState{name: fmt.Sprintf("t%d", i)}})
	}
	proc.WaitFor(t, 2*time.Second, "a run to start", func() bool { return g.inside.Load() == 1 })
	stopped := make(chan struct{})
	go func() { w.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned with a run in flight")
	case <-time.After(50 * time.Millisecond):
	}
	g.release <- struct{}{}
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("stop did not return once the run in flight ended")
	}
	if got := g.ran(); len(got) != 1 {
		t.Errorf("runs %v after stop, want only the one in flight", got)
	}
	w.push(queuedRun{st: &targetState{name: "late"}})
	if w.waiting() != 0 {
		t.Error("a stopped pool queued a run")
	}
}

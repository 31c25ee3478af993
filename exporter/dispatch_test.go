package exporter

import (
	"sync/atomic"
	"testing"
	"time"
)

// every is a schedule firing every period from the first call's time.
type every struct{ period time.Duration }

func (e every) Next(t time.Time) time.Time { return t.Add(e.period) }

func TestDispatcherRunsAndRemoves(t *testing.T) {
	d := newDispatcher()
	var fast, slow atomic.Int32
	fastID := d.schedule(every{20 * time.Millisecond}, func() { fast.Add(1) })
	d.schedule(every{50 * time.Millisecond}, func() { slow.Add(1) })
	d.start()
	defer d.stop()
	time.Sleep(300 * time.Millisecond)
	f, s := fast.Load(), slow.Load()
	if f < 5 || s < 2 || f <= s {
		t.Errorf("in 300 ms: %d runs every 20 ms, %d every 50 ms", f, s)
	}
	d.remove(fastID)
	time.Sleep(30 * time.Millisecond)
	before := fast.Load()
	time.Sleep(100 * time.Millisecond)
	if after := fast.Load(); after != before {
		t.Errorf("a removed job ran %d more times", after-before)
	}
}

// BenchmarkDispatcherStart is the cost of starting one run among 50,000
// scheduled jobs: robfig/cron sorted all of them each time.
func BenchmarkDispatcherStart(b *testing.B) {
	d := newDispatcher()
	for i := range 50000 {
		d.schedule(every{time.Duration(60000+i) * time.Millisecond}, func() {})
	}
	b.ReportAllocs()
	for b.Loop() {
		d.mu.Lock()
		j := d.queue[0]
		j.next = j.sched.Next(j.next)

		d.fixTop()
		d.mu.Unlock()
	}
}

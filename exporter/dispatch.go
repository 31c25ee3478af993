package exporter

import (
	"container/heap"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// dispatcher starts jobs at the times their robfig/cron schedules name,
// from one timer over a min-heap: each start costs O(log n).
// robfig/cron's own loop re-sorts every entry whenever it wakes, which
// with 50,000 targets on millisecond offsets took a third of the
// agent's CPU.
type dispatcher struct {
	mu      sync.Mutex
	queue   jobQueue
	byID    map[int]*job
	nextID  int
	wake    chan struct{}
	stopped chan struct{}
	done    chan struct{}
	started bool
}

type job struct {
	id    int
	sched cron.Schedule
	next  time.Time
	run   func()
	index int
}

func newDispatcher() *dispatcher {
	return &dispatcher{byID: map[int]*job{}, wake: make(chan struct{}, 1), stopped: make(chan struct{}), done: make(chan struct{})}
}

// wallClockUTC is the wall clock in UTC, in which the schedules' cron fields are
// read.
func wallClockUTC() time.Time { return time.Now().UTC() }

// schedule adds run on sched and returns the id that removes it.
func (d *dispatcher) schedule(sched cron.Schedule, run func()) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextID++
	j := &job{id: d.nextID, sched: sched, next: sched.Next(wallClockUTC()), run: run}
	d.byID[j.id] = j
	if !j.next.IsZero() {
		heap.Push(&d.queue, j)
	}
	d.poke()
	return j.id
}

// remove drops a job; a run already started goes on.
func (d *dispatcher) remove(id int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.byID[id]
	if !ok {
		return
	}
	delete(d.byID, id)
	if j.index >= 0 && j.index < len(d.queue) && d.queue[j.index] == j {
		heap.Remove(&d.queue, j.index)
	}
}

func (d *dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// start runs the loop; stop ends it and waits for it, not for the jobs it
// started, which their owner tracks.
func (d *dispatcher) start() {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return
	}
	d.started = true
	d.mu.Unlock()
	go d.loop()
}

func (d *dispatcher) stop() {
	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	close(d.stopped)
	if started {
		<-d.done
	}
}

func (d *dispatcher) loop() {
	defer close(d.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		t := wallClockUTC()
		var due []func()
		for len(d.queue) > 0 && !d.queue[0].next.After(t) {
			j := d.queue[0]
			due = append(due, j.run)
			j.next = j.sched.Next(t)
			d.fixTop()
		}
		wait := time.Hour
		if len(d.queue) > 0 {
			wait = d.queue[0].next.Sub(t)
		}
		d.mu.Unlock()
		for _, run := range due {
			run()
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-d.wake:
		case <-d.stopped:
			return
		}
	}
}

// fixTop puts the first job back in order after its next start moved,
// or drops it when its schedule ends.
func (d *dispatcher) fixTop() {
	if d.queue[0].next.IsZero() {
		heap.Pop(&d.queue)
		return
	}
	heap.Fix(&d.queue, 0)
}

// jobQueue is a min-heap of jobs by their next start.
type jobQueue []*job

func (q jobQueue) Len() int           { return len(q) }
func (q jobQueue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q jobQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *jobQueue) Push(x any) {
	j := x.(*job)
	j.index = len(*q)
	*q = append(*q, j)
}
func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*q = old[:len(old)-1]
	return j
}

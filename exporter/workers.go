package exporter

import "sync"

// queuedRun is a run waiting for a worker.
type queuedRun struct {
	st    *targetState
	first bool
}

// workers run the queued runs, at most limit at a time, in the order
// they were queued. A run waits as an entry in the queue rather than as
// a parked goroutine: when the agent falls behind (a burst of slow
// targets, a restart's first pass), 20,000 waiting runs cost 20,000
// small entries instead of 20,000 goroutine stacks, and each worker's
// stack, grown once by the TLS handshake, serves every later run.
type workers struct {
	run func(queuedRun)

	mu      sync.Mutex
	wake    *sync.Cond
	queue   []queuedRun
	head    int
	limit   int
	started int
	closed  bool
	done    sync.WaitGroup
}

func newWorkers(run func(queuedRun)) *workers {
	w := &workers{run: run}
	w.wake = sync.NewCond(&w.mu)
	return w
}

// setLimit sets how many runs go at once: new workers start at once, and
// workers past a lowered limit stop after their current run.
func (w *workers) setLimit(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit = n
	for ; !w.closed && w.started < n; w.started++ {
		w.done.Go(w.loop)
	}
	w.wake.Broadcast()
}

// push queues a run; it never blocks.
func (w *workers) push(r queuedRun) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.head > 0 && w.head == len(w.queue) {
		// Drained: reuse the array from its start.
		w.queue, w.head = w.queue[:0], 0
	}
	w.queue = append(w.queue, r)
	w.wake.Signal()
}

// waiting is how many runs wait for a worker.
func (w *workers) waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue) - w.head
}

func (w *workers) loop() {
	for {
		w.mu.Lock()
		for !w.closed && w.started <= w.limit && w.head == len(w.queue) {
			w.wake.Wait()
		}
		if w.closed || w.started > w.limit {
			w.started--
			w.mu.Unlock()
			return
		}
		r := w.queue[w.head]
		w.queue[w.head] = queuedRun{} // the target state may be gone by the next reload
		w.head++
		if w.head > len(w.queue)/2 && w.head > 1024 {
			// Keep the array from growing with every run ever queued.
			w.queue, w.head = append(w.queue[:0], w.queue[w.head:]...), 0
		}
		w.mu.Unlock()
		w.run(r)
	}
}

// stop drops the queued runs and waits for the runs in flight, which
// the caller has cancelled.
func (w *workers) stop() {
	w.mu.Lock()
	w.closed = true
	w.queue, w.head = nil, 0
	w.wake.Broadcast()
	w.mu.Unlock()
	w.done.Wait()
}

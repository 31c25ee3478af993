package exporter

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// targetState is everything the agent remembers about one target: its
// configuration, its last report and its counters. A state belongs to one
// configuration of the target; a reload that changes the target replaces
// it, so no series from the old settings lingers.
type targetState struct {
	target  *config.Target
	running atomic.Bool

	// Guarded by store.mu.
	last     *probe.Report
	finished time.Time
	success  float64
	failure  float64
	reasons  map[probe.Reason]float64
	skipped  float64
}

// store holds the states of the configured targets.
type store struct {
	mu     sync.RWMutex
	states map[string]*targetState
}

func newStore() *store { return &store{states: map[string]*targetState{}} }

// record keeps a finished run. Reasons are counted once per run, however
// many addresses or URLs showed them.
func (s *store) record(st *targetState, rep *probe.Report, finished time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.last, st.finished = rep, finished
	if rep.Success {
		st.success++
		return
	}
	st.failure++
	if st.reasons == nil {
		st.reasons = map[probe.Reason]float64{}
	}
	seen := map[probe.Reason]bool{}
	for _, p := range rep.Failures {
		if !seen[p.Reason] {
			seen[p.Reason] = true
			st.reasons[p.Reason]++
		}
	}
}

func (s *store) skip(st *targetState) {
	s.mu.Lock()
	st.skipped++
	s.mu.Unlock()
}

// snapshot is a consistent copy for one scrape or one page render.
type snapshot struct {
	name     string
	target   *config.Target
	last     *probe.Report
	finished time.Time
	success  float64
	failure  float64
	reasons  map[probe.Reason]float64
	skipped  float64
}

func (s *store) snapshot() []snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]snapshot, 0, len(s.states))
	for name, st := range s.states {
		out = append(out, snapshot{name: name, target: st.target, last: st.last, finished: st.finished,
			success: st.success, failure: st.failure, reasons: cloneMap(st.reasons), skipped: st.skipped})
	}
	slices.SortFunc(out, func(a, b snapshot) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

func (s *store) get(name string) *targetState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.states[name]
}

func cloneMap(m map[probe.Reason]float64) map[probe.Reason]float64 {
	out := make(map[probe.Reason]float64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

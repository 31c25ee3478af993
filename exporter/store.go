package exporter

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// results is what the agent remembers about one target: its
// configuration, its last report and its counters.
type results struct {
	target *config.Target
	// last is the last run's report: for a scheduled target in the
	// compact form the scheduler stores (probe.Report.Compact), with no
	// certificates and no raw bytes; whole in a /probe registry.
	last     *probe.Report
	finished time.Time
	success  float64
	failure  float64
	reasons  map[probe.Reason]float64
	skipped  float64
}

// targetState belongs to one configuration of a target; a reload that
// changes the target replaces it, so no series from the old settings
// lingers. Its results are guarded by store.mu; name, ctx and cancel
// never change. A reload that removes or changes the target cancels ctx,
// which ends its runs in flight and those waiting for a slot.
type targetState struct {
	results
	name    string
	ctx     context.Context
	cancel  context.CancelFunc
	running atomic.Bool
	// inFirstRun is set while the target's first run, from the start-up
	// pass, is in progress.
	inFirstRun atomic.Bool
}

// store holds the states of the configured targets.
type store struct {
	mu     sync.RWMutex
	states map[string]*targetState
}

func newStore() *store { return &store{states: map[string]*targetState{}} }

// sync makes the stored states match targets: an unchanged target keeps
// its state, counters and results; a changed or removed one loses its
// state, which is returned for the scheduler to unschedule and cancel;
// new and changed targets get a fresh state derived from parent.
func (s *store) sync(parent context.Context, targets []*config.Target) (removed, added []*targetState) {
	wanted := make(map[string]*config.Target, len(targets))
	for _, t := range targets {
		wanted[t.Name] = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, st := range s.states {
		if t, ok := wanted[name]; ok && t.Fingerprint() == st.target.Fingerprint() {
			continue
		}
		delete(s.states, name)
		removed = append(removed, st)
	}
	for _, t := range targets {
		if _, ok := s.states[t.Name]; ok {
			continue
		}
		st := newTargetState(parent, t)
		s.states[t.Name] = st
		added = append(added, st)
	}
	return removed, added
}

// singleResult is a store holding one report, for the registry a /probe
// call builds; it is never scheduled, so its state needs no context.
func singleResult(t *config.Target, rep *probe.Report, finished time.Time) *store {
	s := newStore()
	st := &targetState{results: results{target: t}, name: t.Name}
	s.states[t.Name] = st
	s.record(st, rep, finished)
	return s
}

func newTargetState(parent context.Context, t *config.Target) *targetState {
	ctx, cancel := context.WithCancel(parent)
	return &targetState{results: results{target: t}, name: t.Name, ctx: ctx, cancel: cancel}
}

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
	for _, r := range probe.UniqueReasons(rep.Failures) {
		st.reasons[r]++
	}
}

func (s *store) skip(st *targetState) {
	s.mu.Lock()
	st.skipped++
	s.mu.Unlock()
}

// snapshot is a consistent copy of one target, for one scrape or page.
type snapshot struct {
	name string
	// state identifies the configuration of the target the results
	// belong to: a reload that changes the target makes a new one.
	state *targetState
	results
}

func (s *store) snapshot() []snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]snapshot, 0, len(s.states))
	for name, st := range s.states {
		r := st.results
		r.reasons = maps.Clone(st.reasons)
		out = append(out, snapshot{name: name, state: st, results: r})
	}
	slices.SortFunc(out, func(a, b snapshot) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s *store) get(name string) *targetState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.states[name]
}

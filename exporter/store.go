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
// configuration, its last report and its run counters.
type results struct {
	target *config.Target
	// last is the last run's report: for a scheduled target in the
	// compact form the scheduler stores (probe.Report.Compact), with no
	// certificates and no raw bytes; whole in a /probe registry.
	last     *probe.Report
	finished time.Time
	success  float64
	failure  float64
}

// targetState belongs to one configuration of a target; a reload that
// changes the target replaces it, so no series from the old settings
// lingers. Its results are guarded by store.mu; name never changes. A
// reload that removes or changes the target retires the state, which
// cancels its run in flight and drops its queued one.
//
// The state holds no context of its own: a context per target, with the
// map of children each run leaves behind, cost 50,000 targets 20 MB.
type targetState struct {
	results
	name    string
	running atomic.Bool
	// inFirstRun is set while the target's first run, from the start-up
	// pass, is in progress.
	inFirstRun atomic.Bool
	// exposition is the target's series, rendered when its results last
	// changed, so a scrape copies bytes instead of building metrics.
	exposition atomic.Pointer[rendered]
	// claimed is the store's sync generation that last kept or replaced
	// this state; guarded by store.mu.
	claimed uint64

	runMu sync.Mutex
	// gone is set when a reload retires the state; cancelRun cancels the
	// run in flight, if any.
	gone      bool
	cancelRun context.CancelFunc
}

// retire marks the state as removed or replaced by a reload and cancels
// its run in flight.
func (st *targetState) retire() {
	st.runMu.Lock()
	defer st.runMu.Unlock()
	st.gone = true
	if st.cancelRun != nil {
		st.cancelRun()
	}
}

// retired reports whether a reload removed or replaced the target.
func (st *targetState) retired() bool {
	st.runMu.Lock()
	defer st.runMu.Unlock()
	return st.gone
}

// startRun returns the context of a run, derived from parent and
// cancelled by retire, and the function that ends it; false when the
// state is already retired.
func (st *targetState) startRun(parent context.Context) (context.Context, func(), bool) {
	st.runMu.Lock()
	defer st.runMu.Unlock()
	if st.gone {
		return nil, nil, false
	}
	ctx, cancel := context.WithCancel(parent)
	st.cancelRun = cancel
	return ctx, func() {
		st.runMu.Lock()
		st.cancelRun = nil
		st.runMu.Unlock()
		cancel()
	}, true
}

// store holds the states of the configured targets.
type store struct {
	mu     sync.RWMutex
	states map[string]*targetState
	// order is the targets of the last sync, in their order, and
	// orderStates their states; a reload that reuses a target's
	// *config.Target at the same place (an unchanged target file) is then
	// matched by one pointer comparison instead of a map lookup.
	order       []*config.Target
	orderStates []*targetState
	// gen counts syncs; a state whose claimed is not the current gen
	// after a sync is gone from the configuration.
	gen uint64
	// sorted is states in name order, for the scrape; nil after a change.
	sorted []*targetState
	// region is the region label the targets' expositions are rendered with.
	region string
	// failures and skipped count every run the agent recorded, fleet-wide.
	// They live here, not per target, so a target that a reload removes or
	// replaces takes nothing away: the totals never go down, which rate()
	// would read as a counter reset.
	failures map[probe.Reason]float64
	skipped  float64
}

func newStore() *store {
	return &store{states: map[string]*targetState{}, failures: map[probe.Reason]float64{}}
}

// sync makes the stored states match targets: an unchanged target keeps
// its state, counters and results; a changed or removed one loses its
// state, which is returned for the scheduler to unschedule and retire;
// new and changed targets get a fresh state. Its
// cost is a pointer comparison per target reused in place, and a map
// lookup per other target.
func (s *store) sync(targets []*config.Target) (removed, added []*targetState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	states := make([]*targetState, len(targets))
	for i, t := range targets {
		if i < len(s.order) && s.order[i] == t {
			st := s.orderStates[i]
			st.claimed, states[i] = s.gen, st
			continue
		}
		st, ok := s.states[t.Name]
		if ok && (st.target == t || st.target.Fingerprint() == t.Fingerprint()) {
			st.claimed, states[i] = s.gen, st
			continue
		}
		if ok {
			st.claimed = s.gen // handled here, not by the sweep
			removed = append(removed, st)
		}
		st = &targetState{results: results{target: t}, name: t.Name}
		st.claimed, states[i] = s.gen, st
		s.states[t.Name] = st
		s.sorted = nil
		added = append(added, st)
	}
	// Only a state at a place the pointer comparison did not match can
	// be gone; a sync that changed nothing sweeps nothing.
	for i, st := range s.orderStates {
		if (i >= len(targets) || targets[i] != s.order[i]) && st.claimed != s.gen {
			st.claimed = s.gen
			delete(s.states, st.name)
			s.sorted = nil
			removed = append(removed, st)
		}
	}
	s.order, s.orderStates = targets, states
	return removed, added
}

// singleResult is a store holding one report, for the registry a /probe
// call builds; it is never scheduled.
func singleResult(t *config.Target, rep *probe.Report, finished time.Time) *store {
	s := newStore()
	st := &targetState{results: results{target: t}, name: t.Name}
	s.states[t.Name] = st
	s.record(st, rep, finished)
	return s
}

// record keeps a finished run and renders the target's series anew.
// Reasons are counted once per run, however many addresses or URLs
// showed them.
func (s *store) record(st *targetState, rep *probe.Report, finished time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.last, st.finished = rep, finished
	if rep.Success {
		st.success++
	} else {
		st.failure++
		for _, r := range probe.UniqueReasons(rep.Failures) {
			s.failures[r]++
		}
	}
	st.exposition.Store(renderTarget(st.name, st.results, s.region))
}

func (s *store) skip() {
	s.mu.Lock()
	s.skipped++
	s.mu.Unlock()
}

// setRegion sets the region label of the series rendered from now on;
// targets rendered with another one are rendered again when scraped.
func (s *store) setRegion(region string) {
	s.mu.Lock()
	s.region = region
	s.mu.Unlock()
}

// totals are the fleet-wide counters.
func (s *store) totals() (failures map[probe.Reason]float64, skipped float64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.failures), s.skipped
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
	sorted := s.inOrder()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]snapshot, 0, len(sorted))
	for _, st := range sorted {
		// A state a reload removed since inOrder is left out; one it
		// added shows from the next snapshot.
		if s.states[st.name] == st {
			out = append(out, snapshot{name: st.name, state: st, results: st.results})
		}
	}
	return out
}

func (s *store) get(name string) *targetState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.states[name]
}

// inOrder returns the states sorted by name, the order a scrape
// writes them in; the slice is shared and must not be changed.
func (s *store) inOrder() []*targetState {
	s.mu.RLock()
	sorted := s.sorted
	s.mu.RUnlock()
	if sorted != nil {
		return sorted
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sorted == nil {
		s.sorted = slices.SortedFunc(maps.Values(s.states), func(a, b *targetState) int { return strings.Compare(a.name, b.name) })
	}
	return s.sorted
}

// lastReports are the targets' last reports in name order, for the
// series the targets share; a scrape needs no more of the store.
func (s *store) lastReports() []*probe.Report {
	sorted := s.inOrder()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*probe.Report, 0, len(sorted))
	for _, st := range sorted {
		if st.last != nil && s.states[st.name] == st {
			out = append(out, st.last)
		}
	}
	return out
}

// reportsOf are the snapshots' last reports, in their order.
func reportsOf(snaps []snapshot) []*probe.Report {
	out := make([]*probe.Report, 0, len(snaps))
	for _, s := range snaps {
		if s.last != nil {
			out = append(out, s.last)
		}
	}
	return out
}

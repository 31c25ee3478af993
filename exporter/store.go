package exporter

import (
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
	target   *config.Target
	last     *probe.Report
	finished time.Time
	success  float64
	failure  float64
	reasons  map[probe.Reason]float64
	skipped  float64
}

// targetState belongs to one configuration of a target; a reload that
// changes the target replaces it, so no series from the old settings
// lingers. Its results are guarded by store.mu.
type targetState struct {
	results
	running atomic.Bool
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
	for _, r := range probe.UniqueReasons(rep.Failures) {
		st.reasons[r]++
	}
}

// target is st's configuration, which a reload may replace with an equal one.
func (s *store) target(st *targetState) *config.Target {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return st.target
}

func (s *store) skip(st *targetState) {
	s.mu.Lock()
	st.skipped++
	s.mu.Unlock()
}

// snapshot is a consistent copy of one target, for one scrape or page.
type snapshot struct {
	name string
	results
}

func (s *store) snapshot() []snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]snapshot, 0, len(s.states))
	for name, st := range s.states {
		r := st.results
		r.reasons = maps.Clone(st.reasons)
		out = append(out, snapshot{name: name, results: r})
	}
	slices.SortFunc(out, func(a, b snapshot) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s *store) get(name string) *targetState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.states[name]
}

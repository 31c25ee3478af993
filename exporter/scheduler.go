package exporter

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// scheduler runs each target on its own schedule, never twice at once,
// under a global concurrency limit, with every probe's context derived
// from the agent's root context so shutdown stops probes in flight.
type scheduler struct {
	root      context.Context
	store     *store
	pool      *probe.ResponderPool
	logger    *slog.Logger
	now       func() time.Time
	userAgent string
	resolver  *net.Resolver

	mu      sync.Mutex
	cfg     *config.Config
	cron    *cron.Cron
	entries map[string]cron.EntryID
	slots   chan struct{}
	running sync.WaitGroup
}

func newScheduler(root context.Context, st *store, pool *probe.ResponderPool, logger *slog.Logger, now func() time.Time, userAgent string, resolver *net.Resolver) *scheduler {
	return &scheduler{
		root: root, store: st, pool: pool, logger: logger, now: now, userAgent: userAgent, resolver: resolver,
		cron:    cron.New(cron.WithLocation(time.UTC)),
		entries: map[string]cron.EntryID{},
	}
}

// apply installs a validated configuration. Unchanged targets keep their
// state, schedule and results; changed and new targets get a fresh state
// and run at once; removed targets disappear with all their series.
func (s *scheduler) apply(cfg *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil || s.cfg.MaxConcurrentProbes != cfg.MaxConcurrentProbes {
		// Runs in flight release the slot channel they took.
		s.slots = make(chan struct{}, cfg.MaxConcurrentProbes)
	}
	s.cfg = cfg
	s.pool.SetLimits(cfg.Responder.PerHostConcurrency, cfg.Responder.MinInterval.Duration)

	wanted := map[string]*config.Target{}
	for _, t := range cfg.Targets {
		wanted[t.Name] = t
	}
	var fresh []*targetState
	s.store.mu.Lock()
	for name, st := range s.store.states {
		if t, ok := wanted[name]; ok && t.Fingerprint() == st.target.Fingerprint() {
			st.target = t
			continue
		}
		s.cron.Remove(s.entries[name])
		delete(s.entries, name)
		delete(s.store.states, name)
	}
	for _, t := range cfg.Targets {
		if _, ok := s.store.states[t.Name]; ok {
			continue
		}
		st := &targetState{results: results{target: t}}
		s.store.states[t.Name] = st
		s.entries[t.Name] = s.cron.Schedule(t.ParsedSchedule(), cron.FuncJob(func() { s.run(st) }))
		fresh = append(fresh, st)
	}
	s.store.mu.Unlock()
	for _, st := range fresh {
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			s.run(st)
		}()
	}
}

// start begins the cron loop; apply has already run every target once.
func (s *scheduler) start() { s.cron.Start() }

// stop ends scheduling and waits for runs in flight, which the cancelled
// root context cuts short.
func (s *scheduler) stop() {
	<-s.cron.Stop().Done()
	s.running.Wait()
}

func (s *scheduler) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// run is one scheduled run of one target.
func (s *scheduler) run(st *targetState) {
	target := s.store.target(st) // apply swaps it on reload, under the store's lock
	if !st.running.CompareAndSwap(false, true) {
		s.store.skip(st)
		s.logger.Warn("run skipped: the previous run is still going", "target", target.Name)
		return
	}
	defer st.running.Store(false)
	s.mu.Lock()
	cfg, slots := s.cfg, s.slots
	s.mu.Unlock()
	select {
	case slots <- struct{}{}:
	case <-s.root.Done():
		return
	}
	defer func() { <-slots }()
	rep := s.probe(s.root, target, cfg)
	if s.root.Err() != nil {
		// A run cut short by shutdown says nothing about the target.
		return
	}
	s.store.record(st, rep, s.now())
	if !rep.Success {
		s.logger.Warn("probe failed", "target", target.Name, "reasons", reasonList(rep.Failures), "detail", rep.Failures[0].String())
	} else {
		s.logger.Debug("probe succeeded", "target", target.Name, "duration", rep.Duration)
	}
}

// probe runs a target once, bounded by its timeout and by parent.
func (s *scheduler) probe(parent context.Context, t *config.Target, cfg *config.Config) *probe.Report {
	ctx, cancel := context.WithTimeout(parent, t.Timeout.Duration)
	defer cancel()
	return probe.RunTarget(ctx, t.Spec(cfg, s.now, s.userAgent, s.resolver), s.pool)
}

func reasonList(ps []probe.Problem) string {
	var names []string
	for _, r := range probe.UniqueReasons(ps) {
		names = append(names, string(r))
	}
	return strings.Join(names, ",")
}

package exporter

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// scheduler runs each target on its own schedule, never twice at once,
// on max_concurrent_probes workers, with every probe's context derived
// from the agent's root context so shutdown stops probes in flight.
type scheduler struct {
	root      context.Context
	store     *store
	pool      *probe.ResponderPool
	logger    *slog.Logger
	now       func() time.Time
	userAgent string
	resolver  *net.Resolver

	mu   sync.Mutex
	cfg  *config.Config
	crls *crl.Pool
	// verdicts caches the signature checks of byte-identical chains and
	// staples across runs and targets.
	verdicts *probe.VerifyCache
	// certs shares parsed certificates between the targets' results.
	certs   *probe.CertInterner
	jobs    *dispatcher
	entries map[string]int
	workers *workers
	// firstPasses tracks the goroutines pacing start-up passes.
	firstPasses sync.WaitGroup
}

func newScheduler(root context.Context, st *store, pool *probe.ResponderPool, logger *slog.Logger, now func() time.Time, userAgent string, resolver *net.Resolver) *scheduler {
	s := &scheduler{
		root: root, store: st, pool: pool, logger: logger, now: now, userAgent: userAgent, resolver: resolver,
		jobs:     newDispatcher(),
		entries:  map[string]int{},
		verdicts: probe.NewVerifyCache(0),
		certs:    probe.NewCertInterner(),
	}
	s.workers = newWorkers(s.run)
	return s
}

// apply installs a validated configuration. Unchanged targets keep their
// state, schedule and results; changed and new targets get a fresh state
// and run at once; removed targets disappear with all their series.
func (s *scheduler) apply(cfg *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workers.setLimit(cfg.MaxConcurrentProbes)
	s.cfg = cfg
	s.pool.SetLimits(cfg.Responder.PerHostConcurrency, cfg.Responder.MinInterval.Duration)

	removed, added := s.store.sync(cfg.Targets)
	for _, st := range removed {
		s.jobs.remove(s.entries[st.name])
		delete(s.entries, st.name)
		st.retire()
	}
	for _, st := range added {
		s.entries[st.name] = s.jobs.schedule(st.target.ParsedSchedule(), func() { s.enqueue(st, false) })
	}
	if len(added) > 0 {
		s.firstPasses.Go(func() { s.firstPass(added) })
	}
}

// firstPassRate paces the first runs of new targets: a handful start at
// once, and a restart of 50,000 targets spreads them over 50 s instead of
// starting 50,000 runs in the same instant.
const firstPassRate = 1000 // runs per second

// firstPass starts each new target's first run at an offset drawn from
// its name within a window of len(added)/firstPassRate, so the order is
// stable and the load even.
func (s *scheduler) firstPass(added []*targetState) {
	window := time.Duration(len(added)) * time.Second / firstPassRate
	type start struct {
		at time.Duration
		st *targetState
	}
	starts := make([]start, len(added))
	for i, st := range added {
		starts[i] = start{config.Spread(st.name, window), st}
	}
	slices.SortFunc(starts, func(a, b start) int { return cmp.Compare(a.at, b.at) })
	begin := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, x := range starts {
		if wait := x.at - time.Since(begin); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.root.Done():
				return
			}
		}
		s.enqueue(x.st, true)
	}
}

// start begins the cron loop; apply has already run every target once.
func (s *scheduler) start() { s.jobs.start() }

// stop ends scheduling, drops the queued runs and waits for runs in
// flight, which the cancelled root context cuts short.
func (s *scheduler) stop() {
	s.jobs.stop()
	s.firstPasses.Wait()
	s.workers.stop()
}

// setCRLs installs the CRL cache the next runs use.
func (s *scheduler) setCRLs(p *crl.Pool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crls = p
}

func (s *scheduler) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// enqueue queues one run of a target, scheduled or first, unless the
// target's previous run is still queued or going.
func (s *scheduler) enqueue(st *targetState, first bool) {
	if st.retired() || s.root.Err() != nil {
		return
	}
	if !st.running.CompareAndSwap(false, true) {
		// A tick that lands on the target's first run, or a first run
		// that lands on a tick, is the start-up pass overlapping the
		// schedule, not a target too slow for its schedule.
		if first || st.inFirstRun.Load() {
			return
		}
		s.store.skip()
		s.logger.Warn("run skipped: the previous run is still going", "target", st.name)
		return
	}
	if first {
		st.inFirstRun.Store(true)
	}
	s.workers.push(queuedRun{st: st, first: first})
}

// run is one run of one target, on a worker.
func (s *scheduler) run(q queuedRun) {
	st := q.st
	defer st.running.Store(false)
	if q.first {
		defer st.inFirstRun.Store(false)
	}
	ctx, end, ok := st.startRun(s.root)
	if !ok {
		return // removed or changed by a reload while queued
	}
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	rep := s.probe(ctx, st.target, cfg)
	cut := ctx.Err() != nil
	end()
	if cut {
		// A run cut short by shutdown or a reload says nothing about the target.
		return
	}
	// The store keeps the report until the next run, for every scrape
	// and the status page; what only this run needed goes now.
	s.store.record(st, rep.Compact(s.certs), s.now())
	if !rep.Success {
		s.logger.Warn("probe failed", "target", st.name, "reasons", reasonList(rep.Failures), "detail", rep.Failures[0].String())
	} else {
		s.logger.Debug("probe succeeded", "target", st.name, "duration", rep.Duration)
	}
}

// probe runs a target once, bounded by its timeout and by parent.
func (s *scheduler) probe(parent context.Context, t *config.Target, cfg *config.Config) *probe.Report {
	ctx, cancel := context.WithTimeout(parent, t.Timeout.Duration)
	defer cancel()
	spec := t.Spec(cfg, s.now, s.userAgent, s.resolver)
	s.mu.Lock()
	spec.CRLs = s.crls
	s.mu.Unlock()
	if spec.Staple != nil {
		spec.Staple.Cache, spec.Staple.Interner = s.verdicts, s.certs
	}
	return probe.RunTarget(ctx, spec, s.pool)
}

func reasonList(ps []probe.Problem) string {
	var names []string
	for _, r := range probe.UniqueReasons(ps) {
		names = append(names, string(r))
	}
	return strings.Join(names, ",")
}

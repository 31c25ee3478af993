package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// Options configure an Agent. Zero values are the production defaults;
// tests set Now, Resolver and the clock-sensitive parts.
type Options struct {
	ConfigFile string
	Logger     *slog.Logger
	Now        func() time.Time
	UserAgent  string
	// Resolver resolves endpoints and responders; nil means the system's.
	Resolver *net.Resolver
	// EnableLifecycle serves POST /-/reload; SIGHUP always reloads.
	EnableLifecycle bool
	// ConfigWatchInterval polls ConfigFile for changes and reloads; 0 disables.
	ConfigWatchInterval time.Duration
	// Shard, "i/n", keeps part i of n of the file's targets, as the
	// file's own shard key would; for a StatefulSet whose ordinal names
	// the part. Empty keeps them all.
	Shard string
}

// Agent is the running ocspwatch daemon: configuration, scheduler,
// results and HTTP endpoints.
type Agent struct {
	opts     Options
	logger   *slog.Logger
	store    *store
	pool     *probe.ResponderPool
	registry *prometheus.Registry
	// runtime holds the Go and process collectors, which the text formats
	// gather apart from the targets' cached series.
	runtime *prometheus.Registry
	// protobufHandler serves /metrics to clients that accept only protobuf.
	protobufHandler http.Handler
	// scrapeDropped counts groups left out of scrapes because their series
	// could not be exported consistently.
	scrapeDropped atomic.Int64

	root   context.Context
	cancel context.CancelFunc
	sched  *scheduler
	ready  atomic.Bool

	reloadMu sync.Mutex // one reload at a time
	mu       sync.Mutex
	health   reloadHealth
	// probeSlots caps /probe calls in flight; replaced when a reload
	// changes the cap, while calls in flight free the slot they took.
	probeSlots chan struct{}
	// crls is the CRL cache every target shares, rebuilt when a reload
	// changes the settings it was made with (crlKey).
	crls   *crl.Pool
	crlKey string

	// client is the responder and CRL client, kept across reloads while
	// the settings it was built from (clientKey) hold, so its pooled
	// connections survive and a reload builds no transport or CertPool.
	client    *http.Client
	clientKey string

	// loader keeps the validated targets of unchanged target files
	// between reloads; reloadMu serialises its use.
	loader *config.Loader
	// pending is the configuration loaded by New and applied by Run.
	pending *config.Config
	watch   *configWatch
}

type reloadHealth struct {
	lastOK      bool
	lastSuccess time.Time
	successes   float64
	failures    float64
}

// New loads the configuration and builds an agent; it probes nothing
// until Run. A bad initial configuration is an error, since there is no
// previous configuration to keep running.
func New(opts Options) (*Agent, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "ocspwatch"
	}
	watch := newConfigWatch(opts.ConfigFile, opts.ConfigWatchInterval)
	loader := new(config.Loader)
	cfg, err := loadConfig(loader, opts)
	if err != nil {
		return nil, err
	}
	watch.loadedWith(cfg.TargetFilePatterns())
	a := &Agent{opts: opts, logger: opts.Logger, store: newStore(), registry: prometheus.NewRegistry(), runtime: prometheus.NewRegistry(), watch: watch, loader: loader}
	a.root, a.cancel = context.WithCancel(context.Background())
	a.pool = probe.NewResponderPool(a.root, nil, cfg.Responder.PerHostConcurrency, cfg.Responder.MinInterval.Duration, opts.Now)
	a.sched = newScheduler(a.root, a.store, a.pool, a.logger, opts.Now, opts.UserAgent, opts.Resolver)
	a.runtime.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a.registry.MustRegister(&collector{store: a.store, agent: a, logger: a.logger}, a.runtime)
	// ContinueOnError: a scrape serves every series that could be
	// gathered; the error goes to the log, never into the body.
	a.protobufHandler = promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(a.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	a.pending = cfg
	return a, nil
}

// Run probes every target at once, then on schedule, until ctx ends; it
// then cancels probes in flight and waits for them.
func (a *Agent) Run(ctx context.Context) error {
	cfg := a.pending
	a.pending = nil
	a.applyConfig(cfg)
	a.recordReload(true)
	a.sched.start()
	a.ready.Store(true)
	a.logger.Info("agent started", "targets", len(cfg.Targets), "region", cfg.Region)
	watchDone := a.watch.start(ctx, a.Reload)
	<-ctx.Done()
	<-watchDone
	a.ready.Store(false)
	a.cancel()
	a.sched.stop()
	a.logger.Info("agent stopped")
	return nil
}

// Reload reads the configuration file and its target files again. A bad
// file is rejected, logged and exported, and the running configuration
// stays.
func (a *Agent) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := loadConfig(a.loader, a.opts)
	if err != nil {
		a.recordReload(false)
		a.logger.Error("config reload failed; keeping the running configuration", "file", a.opts.ConfigFile, "err", err)
		return err
	}
	a.applyConfig(cfg)
	a.watch.loadedWith(cfg.TargetFilePatterns())
	a.recordReload(true)
	a.logger.Info("config reloaded", "file", a.opts.ConfigFile, "targets", len(cfg.Targets))
	return nil
}

// loadConfig loads the file and its target files, and cuts the fleet to
// the agent's shard.
func loadConfig(loader *config.Loader, opts Options) (*config.Config, error) {
	cfg, err := loader.Load(opts.ConfigFile)
	if err != nil || opts.Shard == "" {
		return cfg, err
	}
	if cfg.ShardSpec != "" {
		return nil, fmt.Errorf("%s: shard is set in the file and with --shard; set it in one place", opts.ConfigFile)
	}
	shard, err := config.ParseShard(opts.Shard)
	if err != nil {
		return nil, fmt.Errorf("--shard: %w", err)
	}
	cfg.KeepShard(shard)
	return cfg, nil
}

// applyConfig installs a validated configuration: the settings the agent
// itself owns, then the targets.
func (a *Agent) applyConfig(cfg *config.Config) {
	a.mu.Lock()
	if cap(a.probeSlots) != cfg.MaxConcurrentProbeRequests {
		a.probeSlots = make(chan struct{}, cfg.MaxConcurrentProbeRequests)
	}
	a.mu.Unlock()
	a.sched.setCRLs(a.crlPool(cfg, a.responderClient(cfg)))
	a.store.setRegion(cfg.Region)
	a.sched.apply(cfg)
}

// responderClient returns the client for cfg's responder settings: the
// running one while they hold, else a new one, installed in the pool.
func (a *Agent) responderClient(cfg *config.Config) *http.Client {
	key := cfg.ClientKey()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client != nil && key == a.clientKey {
		return a.client
	}
	clientOpts := cfg.ClientOptions()
	clientOpts.Resolver = a.opts.Resolver
	a.client, a.clientKey = probe.NewHTTPClient(clientOpts), key
	a.pool.SetClient(a.client)
	return a.client
}

// crlPool returns the CRL cache for cfg: the running one while its
// settings hold, else a new one downloading with client, which cfg's
// responder settings built. CRL URLs come from certificates, so its
// downloads run as remote input under the network policy.
func (a *Agent) crlPool(cfg *config.Config, client *http.Client) *crl.Pool {
	key := fmt.Sprintf("%d|%s|%q|%q|%s", cfg.CRL.MaxBytes, cfg.CRL.Refresh.Duration, cfg.Network.Allow, cfg.Network.Deny, cfg.ClientKey())
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.crls != nil && key == a.crlKey {
		return a.crls
	}
	// The old cache is not closed: closing would cancel its downloads in
	// flight and fail the runs waiting on them with crl_timeout. Runs that
	// hold it finish with it; its downloads end on their own timeout, or
	// at shutdown with the agent's root context, and it is then collected.
	policy := cfg.DialPolicy()
	a.crls = crl.NewPool(crl.PoolOptions{
		// The responders' client settings ([responder] ca_file, proxy_url)
		// serve CRL downloads too.
		Client:    client,
		MaxBytes:  cfg.CRL.MaxBytes,
		Refresh:   cfg.CRL.Refresh.Duration,
		UserAgent: a.opts.UserAgent,
		Now:       a.opts.Now,
		Context:   a.root,
		Scope: func(ctx context.Context) context.Context {
			return probe.WithDialPolicy(ctx, policy, probe.OriginRemote)
		},
	})
	a.crlKey = key
	return a.crls
}

// acquireProbeSlot takes a /probe slot without waiting, and returns the
// function that gives it back, or false when every slot is taken.
func (a *Agent) acquireProbeSlot() (func(), bool) {
	a.mu.Lock()
	slots := a.probeSlots
	a.mu.Unlock()
	if slots == nil {
		return nil, false
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	default:
		return nil, false
	}
}

func (a *Agent) recordReload(ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.health.lastOK = ok
	if ok {
		a.health.successes++
		a.health.lastSuccess = a.opts.Now()
	} else {
		a.health.failures++
	}
}

func (a *Agent) configAndHealth() (*config.Config, reloadHealth) {
	cfg := a.sched.config()
	a.mu.Lock()
	defer a.mu.Unlock()
	return cfg, a.health
}

// QueuedRuns is how many due runs wait for a worker, as
// ocspwatch_probe_runs_queued exports it.
func (a *Agent) QueuedRuns() int { return a.sched.workers.waiting() }

// Registry is what /metrics serves.
func (a *Agent) Registry() *prometheus.Registry { return a.registry }

// ProbeNow runs a configured target immediately, outside its schedule,
// without touching its stored result or counters.
func (a *Agent) ProbeNow(ctx context.Context, name string) (*probe.Report, *config.Target, error) {
	cfg := a.sched.config()
	if cfg == nil {
		return nil, nil, fmt.Errorf("the agent is not running yet")
	}
	for _, t := range cfg.Targets {
		if t.Name == name {
			return a.sched.probe(ctx, t, cfg), t, nil
		}
	}
	return nil, nil, fmt.Errorf("no target named %q", name)
}

// ProbeAdhoc probes an endpoint that is not configured, when the
// configuration allows it.
func (a *Agent) ProbeAdhoc(ctx context.Context, endpoint, serverName string) (*probe.Report, *config.Target, error) {
	cfg := a.sched.config()
	if cfg == nil {
		return nil, nil, fmt.Errorf("the agent is not running yet")
	}
	if !cfg.AllowAdhoc {
		return nil, nil, errAdhocDisabled
	}
	t, err := cfg.AdhocTarget(endpoint, serverName)
	if err != nil {
		return nil, nil, err
	}
	return a.sched.probe(ctx, t, cfg), t, nil
}

var errAdhocDisabled = fmt.Errorf("ad-hoc endpoints are disabled; set allow_adhoc = true in the configuration")

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/exporter"
)

// rounds of interleaved agent and floor windows; figures are their medians.
const rounds = 3

// measureCommand measures one fleet size in a fresh process, so each
// size's memory figures start from an empty heap. It prints a result as
// one JSON line.
type measureCommand struct {
	fleet fleet
	opts  measureOptions
}

type measureOptions struct {
	// Duration is the steady-state measurement: rounds of an agent window
	// followed by a floor window of the same length.
	Duration       time.Duration
	Schedule       time.Duration
	QueryResponder bool
	// Concurrency of the floor loop; the agent's is its configured
	// max_concurrent_probes (default 32).
	Concurrency int
	// FloorPaced runs the floor at the agent's scheduled rate instead of
	// flat out.
	FloorPaced bool
	// FirstPassLimit bounds the wait for every target's first run.
	FirstPassLimit time.Duration
	// ProfileDir, when set, receives a CPU profile of the steady-state
	// rounds and a heap profile taken with the memory figures.
	ProfileDir string
}

func (c *measureCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("measure", "Child process: measure one fleet size and print the result as JSON.").Hidden()
	c.fleet.addFlags(cmd)
	cmd.Flag("duration", "Steady-state measurement time.").Required().DurationVar(&c.opts.Duration)
	cmd.Flag("schedule", "Every target's schedule period.").Required().DurationVar(&c.opts.Schedule)
	cmd.Flag("query-responder", "Targets also query the OCSP responder.").BoolVar(&c.opts.QueryResponder)
	cmd.Flag("concurrency", "Floor handshakes in flight at most.").Default("32").IntVar(&c.opts.Concurrency)
	cmd.Flag("floor-paced", "Pace the floor at the agent's scheduled rate instead of running it flat out.").BoolVar(&c.opts.FloorPaced)
	cmd.Flag("first-pass-limit", "Longest wait for the first full pass.").Default("15m").DurationVar(&c.opts.FirstPassLimit)
	cmd.Flag("profile-dir", "Write CPU and heap profiles of the agent here.").StringVar(&c.opts.ProfileDir)
	return cmd
}

func (c *measureCommand) run(_ io.Reader, stdout, stderr io.Writer) int {
	if err := c.fleet.validate(); err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench measure: %v\n", err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := measure(ctx, c.fleet, c.opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench: %d targets: %v\n", c.fleet.Targets, err)
		return exitError
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return exitError
	}
	return exitOK
}

// result is one fleet size's figures. Times are in seconds, sizes in
// bytes; per-round slices keep what the medians were taken from.
type result struct {
	Targets        int     `json:"targets"`
	Addresses      int     `json:"addresses"`
	Leaves         int     `json:"leaves"`
	Schedule       string  `json:"schedule"`
	QueryResponder bool    `json:"query_responder"`
	WindowSeconds  float64 `json:"window_seconds"`
	FloorPaced     bool    `json:"floor_paced"`
	FileLimit      uint64  `json:"file_limit"`
	// LoadAverage is the machine's 1-minute load average at the start and
	// at the end: other work competes for the same cores.
	LoadAverage [2]float64 `json:"load_average"`

	AgentCPUPerProbe     []float64 `json:"agent_cpu_per_probe"`
	FloorCPUPerHandshake []float64 `json:"floor_cpu_per_handshake"`
	AgentProbesPerSecond []float64 `json:"agent_probes_per_second"`
	FloorPerSecond       []float64 `json:"floor_handshakes_per_second"`
	FloorHandshakes      int64     `json:"floor_handshakes"`
	FloorErrors          int64     `json:"floor_errors"`
	FloorNoStaple        int64     `json:"floor_no_staple"`

	FirstPassSeconds  float64 `json:"first_pass_seconds"`
	ExpectedPerSecond float64 `json:"expected_probes_per_second"`
	ProbesSuccess     float64 `json:"probes_success"`
	ProbesFailure     float64 `json:"probes_failure"`
	// ServerCountedProbes is the handshakes the servers saw from the
	// agent by the last scrape, to check against ocsp_probes_total.
	ServerCountedProbes int64   `json:"server_counted_probes"`
	SkippedStartup      float64 `json:"skipped_startup"`
	SkippedSteady       float64 `json:"skipped_steady"`

	HeapInuse int64 `json:"heap_inuse_bytes"`
	RSS       int64 `json:"rss_bytes"`
	PeakRSS   int64 `json:"peak_rss_bytes"`

	ScrapeSeconds    []float64 `json:"scrape_seconds"`
	ScrapeCPUSeconds []float64 `json:"scrape_cpu_seconds"`
	// ScrapeProbes are the agent's handshakes during each scrape: the
	// agent keeps probing meanwhile, so the scrape's own CPU is estimated
	// as ScrapeCPUSeconds minus these times the CPU per probe.
	ScrapeProbes []int64 `json:"scrape_probes"`
	ScrapeBytes  int64   `json:"scrape_bytes"`
	Series       int     `json:"series"`
	// ScrapePrometheusSeconds time each plain scrape's twin in
	// OpenMetrics, gzipped, as Prometheus asks; ScrapeGzipBytes is the
	// last one's size on the wire.
	ScrapePrometheusSeconds []float64 `json:"scrape_prometheus_seconds"`

	// SingleHandshakeSeconds is one bare handshake's wall time before the
	// agent starts; TLSDurationMeanSeconds the mean of the agent's
	// ocsp_tls_duration_seconds at the last scrape, which should measure
	// the target rather than the agent's own contention.
	SingleHandshakeSeconds float64 `json:"single_handshake_seconds"`
	TLSDurationMeanSeconds float64 `json:"tls_duration_mean_seconds"`
	TLSDurationRuns        int     `json:"tls_duration_runs"`
	ScrapeGzipBytes        int64   `json:"scrape_gzip_bytes"`

	// TargetFiles is the layout: how many target files the targets were
	// split over, 0 when all were in the main file.
	TargetFiles            int       `json:"target_files"`
	ReloadChangedSeconds   []float64 `json:"reload_changed_seconds"`
	ReloadUnchangedSeconds []float64 `json:"reload_unchanged_seconds"`
	// ReloadChangedOneFileSeconds, measured after the others when the
	// layout has target files, is a reload with one target changed with
	// every target in the main file, for comparison.
	ReloadChangedOneFileSeconds []float64 `json:"reload_changed_one_file_seconds,omitempty"`
}

// sizeRun is one fleet size being measured: the server process, the
// agent in this process and the figures so far.
type sizeRun struct {
	fleet  fleet
	opts   measureOptions
	res    *result
	stderr io.Writer

	srv        *serverProcess
	cfgDir     string
	cfgFile    string
	cfgOpts    configOptions
	logFile    string
	agent      *exporter.Agent
	metricsURL string
	// agentWindows are the rounds' agent windows, when nothing but the
	// agent ran.
	agentWindows [][2]time.Time
}

// measure runs one size: servers in a child process, the agent here,
// then the figures in order: first pass, a scrape, interleaved rounds,
// two more scrapes, memory, reloads.
func measure(ctx context.Context, f fleet, o measureOptions, stderr io.Writer) (*result, error) {
	run := &sizeRun{fleet: f, opts: o, stderr: stderr,
		res: &result{Targets: f.Targets, Addresses: f.listenAddresses(), Leaves: f.Leaves, TargetFiles: f.TargetFiles,
			Schedule: "@every " + o.Schedule.String(), QueryResponder: o.QueryResponder, FloorPaced: o.FloorPaced,
			ExpectedPerSecond: float64(f.Targets) / o.Schedule.Seconds()},
	}
	res := run.res
	res.LoadAverage[0] = loadAverage()
	limit, err := raiseFileLimit()
	if err != nil {
		return nil, fmt.Errorf("open-files limit: %w", err)
	}
	res.FileLimit = limit

	dir, err := os.MkdirTemp("", "ocspwatch-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if run.srv, err = startServerProcess(ctx, stderr, f, dir); err != nil {
		return nil, err
	}
	defer run.srv.close()
	run.fleet.Port = run.srv.ready.Port
	run.progress("servers listen on %d addresses 127.1.x.y:%d, responder %s", f.listenAddresses(), run.fleet.Port, run.srv.ready.Responder)

	if res.SingleHandshakeSeconds, err = singleHandshake(run.fleet); err != nil {
		return nil, fmt.Errorf("single handshake: %w", err)
	}

	started := time.Now()
	stopAgent, err := run.startAgent(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer stopAgent()
	if err := waitFirstPass(ctx, run.srv, f.Targets, started, o.FirstPassLimit); err != nil {
		return nil, err
	}
	res.FirstPassSeconds = time.Since(started).Seconds()
	run.progress("first full pass in %.1fs", res.FirstPassSeconds)

	first, err := run.scrape(ctx)
	if err != nil {
		return nil, err
	}
	res.SkippedStartup = first.Skipped
	run.progress("scrape: %.2fs, %d bytes", first.Seconds, first.Bytes)
	// The scrape's garbage is collected here, not in the first window.
	runtime.GC()

	stopProfile, err := startCPUProfile(o.ProfileDir, f.Targets)
	if err != nil {
		return nil, err
	}
	for r := range rounds {
		if err := run.round(ctx, r); err != nil {
			return nil, err
		}
	}
	if err := stopProfile(); err != nil {
		return nil, err
	}

	// The floor windows held the cores, and the agent has runs to catch
	// up on; the steady state the scrape and memory bars speak of starts
	// when they are done.
	drained := time.Now()
	if err := run.waitForBacklog(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	run.progress("backlog of the floor windows run in %.1fs", time.Since(drained).Seconds())

	var last scrapeResult
	for range 2 {
		if last, err = run.scrape(ctx); err != nil {
			return nil, err
		}
	}
	res.ProbesSuccess, res.ProbesFailure = last.Success, last.Failure
	if c, err := run.srv.count(); err == nil {
		res.ServerCountedProbes = c.Total - res.FloorHandshakes
	}
	run.progress("ocsp_probes_total %.0f (%.0f failed); the servers counted %d agent handshakes", last.Success+last.Failure, last.Failure, res.ServerCountedProbes)
	res.SkippedSteady = last.Skipped - first.Skipped
	res.ScrapeBytes, res.Series = last.Bytes, last.Series

	if err := run.measureMemory(); err != nil {
		return nil, err
	}
	if err := run.timeReloads(); err != nil {
		return nil, err
	}
	res.LoadAverage[1] = loadAverage()
	if res.ProbesFailure > 0 {
		run.progress("WARNING: %.0f probes failed; read the figures with care. The agent's first warnings:\n%s", res.ProbesFailure, firstWarnings(run.logFile, 3))
	}
	return res, nil
}

func (run *sizeRun) progress(format string, args ...any) {
	fmt.Fprintf(run.stderr, "[%s] %d targets: %s\n", time.Now().UTC().Format("15:04:05"), run.fleet.Targets, fmt.Sprintf(format, args...))
}

// startAgent writes the configuration and starts the real agent with its
// HTTP handler on loopback; stop ends both and waits for the agent.
func (run *sizeRun) startAgent(ctx context.Context, dir string) (stop func(), err error) {
	run.cfgDir, run.cfgFile = dir, filepath.Join(dir, mainFile)
	run.cfgOpts = configOptions{RootFile: run.srv.ready.RootFile, Schedule: run.opts.Schedule, QueryResponder: run.opts.QueryResponder,
		ChangedTarget: -1, AllowLoopback: true}
	if err := run.fleet.writeLayout(dir, run.cfgOpts, true); err != nil {
		return nil, err
	}
	run.logFile = filepath.Join(dir, "agent.log")
	log, err := os.Create(run.logFile)
	if err != nil {
		return nil, err
	}
	run.agent, err = exporter.New(exporter.Options{
		ConfigFile: run.cfgFile,
		Logger:     slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
		UserAgent:  "ocspwatch-bench",
	})
	if err != nil {
		log.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Close()
		return nil, err
	}
	web := &http.Server{Handler: run.agent.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = web.Serve(ln) }()
	run.metricsURL = "http://" + ln.Addr().String() + "/metrics"

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		_ = run.agent.Run(runCtx)
		close(done)
	}()
	return func() {
		_ = web.Close()
		cancel()
		<-done
		log.Close()
	}, nil
}

// waitForBacklog waits until no due run waits for a worker.
func (run *sizeRun) waitForBacklog(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for run.agent.QueuedRuns() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d runs still queued after %s: the agent cannot keep the schedule", run.agent.QueuedRuns(), limit)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// quietTLSDuration is the mean ocsp_tls_duration_seconds of the runs
// that lay wholly inside an agent window: a run during a floor window
// shares the cores with a process handshaking flat out, and its duration
// would measure that.
func (run *sizeRun) quietTLSDuration(runs map[string]*targetRun) (mean float64, n int) {
	sum := 0.0
	for _, r := range runs {
		if r.Finished == 0 || r.TLSDuration == 0 {
			continue
		}
		started := r.Finished - r.TLSDuration
		for _, w := range run.agentWindows {
			if started >= unixSeconds(w[0]) && r.Finished <= unixSeconds(w[1]) {
				sum += r.TLSDuration
				n++
				break
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// round is an agent window, then a floor window of the same length in its
// own process.
func (run *sizeRun) round(ctx context.Context, r int) error {
	res := run.res
	window := run.opts.Duration / (2 * rounds)
	res.WindowSeconds = window.Seconds()
	start := time.Now()
	perProbe, probeRate, err := agentWindow(ctx, run.srv, window)
	if err != nil {
		return err
	}
	run.agentWindows = append(run.agentWindows, [2]time.Time{start, time.Now()})
	res.AgentCPUPerProbe = append(res.AgentCPUPerProbe, perProbe)
	res.AgentProbesPerSecond = append(res.AgentProbesPerSecond, probeRate)
	if r == rounds-1 {
		// An untimed scrape reads every target's last run while the last
		// agent window's runs are still the last ones: after the floor
		// window, a short schedule would have replaced them all.
		runs, err := scrapeChild(ctx, run.stderr, run.metricsURL, false, true)
		if err != nil {
			return err
		}
		res.TLSDurationMeanSeconds, res.TLSDurationRuns = run.quietTLSDuration(runs.Runs)
	}

	rate := 0.0
	if run.opts.FloorPaced {
		rate = res.ExpectedPerSecond
	}
	args := append([]string{"floor",
		"--rate", strconv.FormatFloat(rate, 'f', -1, 64),
		"--duration", window.String(),
		"--concurrency", strconv.Itoa(run.opts.Concurrency)}, run.fleet.args()...)
	if run.opts.ProfileDir != "" {
		args = append(args, "--cpu-profile", filepath.Join(run.opts.ProfileDir, fmt.Sprintf("floor-%d-round%d.pprof", run.fleet.Targets, r+1)))
	}
	var fl floorResult
	if err := runJSON(ctx, run.stderr, &fl, args...); err != nil {
		return err
	}
	if fl.Handshakes == 0 {
		return fmt.Errorf("the floor completed no stapled handshake (%d errors)", fl.Errors)
	}
	done := fl.Handshakes + fl.NoStaple
	res.FloorHandshakes += done + floorWarmUp
	res.FloorErrors += fl.Errors
	res.FloorNoStaple += fl.NoStaple
	res.FloorCPUPerHandshake = append(res.FloorCPUPerHandshake, fl.CPUSeconds/float64(done))
	res.FloorPerSecond = append(res.FloorPerSecond, float64(done)/fl.Seconds)
	run.progress("round %d: agent %s/probe at %.1f probes/s, floor %s/handshake at %.1f handshakes/s", r+1,
		ms(perProbe), probeRate, ms(res.FloorCPUPerHandshake[r]), res.FloorPerSecond[r])
	return nil
}

// measureMemory reads RSS just after the scrapes, then the heap after a
// forced GC.
func (run *sizeRun) measureMemory() error {
	res := run.res
	res.RSS, res.PeakRSS = procStatus("VmRSS"), procStatus("VmHWM")
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	res.HeapInuse = int64(mem.HeapInuse)
	if err := writeHeapProfile(run.opts.ProfileDir, run.fleet.Targets); err != nil {
		return err
	}
	run.progress("heap in use %s, RSS %s; scrapes %v", mib(res.HeapInuse), mib(res.RSS), res.ScrapeSeconds)
	return nil
}

// timeReloads times agent.Reload three times with every file rewritten
// unchanged, then three times with one target changed, which rewrites
// only the file holding it. With target files it then moves every target
// into the main file and times three more reloads with one target
// changed, for the single-file figure.
func (run *sizeRun) timeReloads() error {
	layout := run.fleet
	reload := func(changed int, rewrite bool) (float64, error) {
		run.cfgOpts.ChangedTarget = changed
		if err := layout.writeLayout(run.cfgDir, run.cfgOpts, rewrite); err != nil {
			return 0, err
		}
		start := time.Now()
		err := run.agent.Reload()
		return time.Since(start).Seconds(), err
	}
	for range 3 {
		s, err := reload(-1, true)
		if err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		run.res.ReloadUnchangedSeconds = append(run.res.ReloadUnchangedSeconds, s)
	}
	// Each reload flips target 0's timeout, so exactly one target changes.
	flips := func(into *[]float64) error {
		for i := range 3 {
			changed := 0
			if i%2 == 1 {
				changed = -1
			}
			s, err := reload(changed, false)
			if err != nil {
				return fmt.Errorf("reload: %w", err)
			}
			*into = append(*into, s)
		}
		return nil
	}
	if err := flips(&run.res.ReloadChangedSeconds); err != nil {
		return err
	}
	run.progress("reload (%d target files): unchanged %v, one changed %v", layout.TargetFiles, run.res.ReloadUnchangedSeconds, run.res.ReloadChangedSeconds)
	if layout.TargetFiles == 0 {
		return nil
	}
	// The same targets in the main file: nothing changes for the agent.
	layout.TargetFiles = 0
	if _, err := reload(-1, true); err != nil {
		return fmt.Errorf("reload into one file: %w", err)
	}
	if err := flips(&run.res.ReloadChangedOneFileSeconds); err != nil {
		return err
	}
	run.progress("reload (one file): one changed %v", run.res.ReloadChangedOneFileSeconds)
	return nil
}

// scrape scrapes once and keeps its figures, with the agent's handshakes
// meanwhile.
func (run *sizeRun) scrape(ctx context.Context) (scrapeResult, error) {
	c0, err := run.srv.count()
	if err != nil {
		return scrapeResult{}, err
	}
	// Each scrape's profile replaces the last: the file holds the last
	// steady-state scrape, probing included.
	stopProfile, err := startCPUProfileNamed(run.opts.ProfileDir, fmt.Sprintf("scrape-%d.pprof", run.fleet.Targets))
	if err != nil {
		return scrapeResult{}, err
	}
	s, err := scrapeChild(ctx, run.stderr, run.metricsURL, false, false)
	if perr := stopProfile(); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return s, err
	}
	c1, err := run.srv.count()
	if err != nil {
		return s, err
	}
	r := run.res
	r.ScrapeSeconds = append(r.ScrapeSeconds, s.Seconds)
	r.ScrapeCPUSeconds = append(r.ScrapeCPUSeconds, s.CPUSeconds)
	r.ScrapeProbes = append(r.ScrapeProbes, c1.Total-c0.Total)
	p, err := scrapeChild(ctx, run.stderr, run.metricsURL, true, false)
	if err != nil {
		return s, fmt.Errorf("scrape as Prometheus: %w", err)
	}
	if p.Series < s.Series*9/10 || p.Series > s.Series*11/10 {
		return s, fmt.Errorf("scrape as Prometheus: %d series, against %d in the text format", p.Series, s.Series)
	}
	r.ScrapePrometheusSeconds = append(r.ScrapePrometheusSeconds, p.Seconds)
	r.ScrapeGzipBytes = p.WireBytes
	return s, nil
}

// scrapeOwnCPU estimates each scrape's own CPU: the process's CPU during
// it less the probing that went on meanwhile, at the median CPU per probe.
func (r *result) scrapeOwnCPU() []float64 {
	perProbe := median(r.AgentCPUPerProbe)
	own := make([]float64, len(r.ScrapeCPUSeconds))
	for i, cpu := range r.ScrapeCPUSeconds {
		own[i] = max(0, cpu-float64(r.ScrapeProbes[i])*perProbe)
	}
	return own
}

// waitFirstPass waits until every target completed a handshake.
func waitFirstPass(ctx context.Context, srv *serverProcess, targets int, started time.Time, limit time.Duration) error {
	for {
		c, err := srv.count()
		if err != nil {
			return err
		}
		if c.Distinct >= int64(targets) {
			return nil
		}
		if time.Since(started) > limit {
			return fmt.Errorf("first pass: only %d of %d targets completed a handshake in %s", c.Distinct, targets, limit)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// agentWindow is this process's CPU over a window divided by the probes
// that completed a handshake in it, counted by the server. Nothing else
// runs in this process meanwhile: no scrape, no floor.
func agentWindow(ctx context.Context, srv *serverProcess, window time.Duration) (perProbe, rate float64, err error) {
	c0, err := srv.count()
	if err != nil {
		return 0, 0, err
	}
	cpu0, t0 := processCPU(), time.Now()
	if err := sleep(ctx, window); err != nil {
		return 0, 0, err
	}
	cpu1, elapsed := processCPU(), time.Since(t0)
	c1, err := srv.count()
	if err != nil {
		return 0, 0, err
	}
	probes := c1.Total - c0.Total
	if probes == 0 {
		return 0, 0, errors.New("no probe completed in a measurement window; make --duration longer or --schedule shorter")
	}
	return (cpu1 - cpu0) / float64(probes), float64(probes) / elapsed.Seconds(), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// firstWarnings returns the agent log's first n lines at WARN or above,
// so a failing run shows why without keeping its temporary directory.
func firstWarnings(logPath string, n int) string {
	f, err := os.Open(logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	in := bufio.NewScanner(f)
	in.Buffer(make([]byte, 64<<10), maxLine)
	for in.Scan() && len(lines) < n {
		if line := in.Text(); strings.Contains(line, " level=WARN ") || strings.Contains(line, " level=ERROR ") {
			lines = append(lines, "    "+line)
		}
	}
	return strings.Join(lines, "\n")
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestMain lets the test binary stand in for ocspwatch-bench when the
// benchmark re-executes itself for its server, measuring and floor
// processes.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestQuickRun runs the benchmark end to end in --quick mode, shortened:
// real servers in a child process, the real agent, the floor loop. It
// checks that every figure is printed and sane, not how fast anything is.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and runs for about 15 s")
	}
	jsonFile := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--quick", "--targets", "100", "--duration", "6s", "--schedule", "5s", "--json", jsonFile}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, heading := range []string{
		"agent CPU per probe",
		"raw floor CPU per handshake",
		"÷ raw floor",
		"probes/s sustained",
		"runs skipped",
		"heap per target",
		"RSS per target",
		"/metrics scrape",
		"/metrics size",
		"OpenMetrics + gzip scrape",
		"mean ocsp_tls_duration_seconds",
		"first full pass",
		"reload, 1 changed",
		"reload, unchanged",
		"| 100 | 100 |",
	} {
		if !strings.Contains(out, heading) {
			t.Errorf("the report lacks %q:\n%s", heading, out)
		}
	}

	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var results []result
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	positive := map[string]float64{
		"agent CPU per probe":         median(r.AgentCPUPerProbe),
		"floor CPU per handshake":     median(r.FloorCPUPerHandshake),
		"agent probes per second":     median(r.AgentProbesPerSecond),
		"successful probes":           r.ProbesSuccess,
		"server-counted agent probes": float64(r.ServerCountedProbes),
		"heap in use":                 float64(r.HeapInuse),
		"RSS":                         float64(r.RSS),
		"scrape time":                 median(r.ScrapeSeconds),
		"scrape size":                 float64(r.ScrapeBytes),
		"scrape as Prometheus":        median(r.ScrapePrometheusSeconds),
		"gzipped scrape size":         float64(r.ScrapeGzipBytes),
		"single handshake":            r.SingleHandshakeSeconds,
		"mean TLS duration":           r.TLSDurationMeanSeconds,
		"first pass":                  r.FirstPassSeconds,
		"reload with one change":      median(r.ReloadChangedSeconds),
		"reload with no change":       median(r.ReloadUnchangedSeconds),
	}
	for name, v := range positive {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	for name, n := range map[string]int{
		"agent rounds":          len(r.AgentCPUPerProbe),
		"floor rounds":          len(r.FloorCPUPerHandshake),
		"scrapes":               len(r.ScrapeSeconds),
		"scrapes as Prometheus": len(r.ScrapePrometheusSeconds),
	} {
		if n != rounds {
			t.Errorf("%d %s, want %d", n, name, rounds)
		}
	}
	if r.ProbesFailure != 0 || r.FloorErrors != 0 || r.FloorNoStaple != 0 {
		t.Errorf("%v agent probes failed; floor: %d errors, %d without a staple\nstderr:\n%s", r.ProbesFailure, r.FloorErrors, r.FloorNoStaple, stderr.String())
	}
	// Every target has dozens of series; a scrape that lost the targets'
	// series would still have the Go runtime's few hundred.
	if r.Series < 10*r.Targets {
		t.Errorf("%d series for %d targets", r.Series, r.Targets)
	}
	if r.ScrapeBytes < 500*int64(r.Targets) {
		t.Errorf("scrape of %d bytes for %d targets", r.ScrapeBytes, r.Targets)
	}
	// A per-CPU figure more than 100 times the floor, or a floor under
	// 10 µs, means the counting is broken, not the agent slow.
	if a, f := median(r.AgentCPUPerProbe), median(r.FloorCPUPerHandshake); a > 100*f || f < 10e-6 {
		t.Errorf("agent %v s per probe against a floor of %v s per handshake", a, f)
	}
}

// TestCommandLine checks that help and bad flags stop before anything is
// started.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "help",
			args:       []string{"run", "--help"},
			wantCode:   exitOK,
			wantStdout: "--targets",
		},
		{
			name:       "bad size",
			args:       []string{"--targets", "1000,x"},
			wantCode:   exitError,
			wantStderr: `"x" is not a positive number of targets`,
		},
		{
			name:       "too many addresses",
			args:       []string{"--targets", "10", "--addresses", "70000"},
			wantCode:   exitError,
			wantStderr: "--addresses must be between 1 and 64000",
		},
		{
			name:       "duration too short for the rounds",
			args:       []string{"--targets", "10", "--duration", "3s"},
			wantCode:   exitError,
			wantStderr: "--duration at least 6s",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, nil, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, stderr.String())
			}
		})
	}
}

// TestFleetConfigLoads checks that the configuration the benchmark writes
// is one the agent accepts, with every target on its own name and the
// targets spread over the addresses.
func TestFleetConfigLoads(t *testing.T) {
	dir := t.TempDir()
	root := writeRoot(t, dir)
	f := fleet{Targets: 600, Addresses: 260, Port: 8443, Leaves: 3}
	cfg, err := config.Parse(f.config(configOptions{
		RootFile:       root,
		Schedule:       time.Minute,
		QueryResponder: true,
		ChangedTarget:  5,
		AllowLoopback:  true,
	}), "bench.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != f.Targets {
		t.Fatalf("%d targets, want %d", len(cfg.Targets), f.Targets)
	}
	names := map[string]bool{}
	addresses := map[string]bool{}
	for i, target := range cfg.Targets {
		names[target.ServerName] = true
		addresses[target.Endpoint] = true
		if got, ok := f.index(target.ServerName); !ok || got != i {
			t.Errorf("target %d: server name %q maps back to %d, %v", i, target.ServerName, got, ok)
		}
		if wantTimeout := 10 * time.Second; i != 5 && target.Timeout.Duration != wantTimeout {
			t.Errorf("target %d: timeout %s, want %s", i, target.Timeout, wantTimeout)
		}
	}
	if cfg.Targets[5].Timeout.Duration != 9*time.Second {
		t.Errorf("the changed target's timeout is %s, want 9s", cfg.Targets[5].Timeout)
	}
	if len(names) != f.Targets || len(addresses) != f.Addresses {
		t.Errorf("%d server names and %d endpoints, want %d and %d", len(names), len(addresses), f.Targets, f.Addresses)
	}
	// Host parts run 1..250, so the 260th address is 127.1.1.10.
	if got := cfg.Targets[259].Endpoint; got != "127.1.1.10:8443" {
		t.Errorf("target 259's endpoint is %s, want 127.1.1.10:8443", got)
	}
}

// TestFleetTargetFilesLayout checks the target-files layout: the agent
// loads the same targets, in the same order and with the same settings,
// as from the single file, and changing one target rewrites one file.
func TestFleetTargetFilesLayout(t *testing.T) {
	dir := t.TempDir()
	root := writeRoot(t, dir)
	f := fleet{Targets: 600, Addresses: 260, Port: 8443, Leaves: 1, TargetFiles: 7}
	o := configOptions{RootFile: root, Schedule: time.Minute, ChangedTarget: -1, AllowLoopback: true}
	single, err := config.Parse(f.config(o), filepath.Join(dir, mainFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.writeLayout(dir, o, true); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, mainFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != f.Targets {
		t.Fatalf("%d targets from %d files, want %d", len(cfg.Targets), f.TargetFiles, f.Targets)
	}
	for i, target := range cfg.Targets {
		if target.Name != single.Targets[i].Name || target.Fingerprint() != single.Targets[i].Fingerprint() {
			t.Fatalf("target %d: %s differs from the single file's %s", i, target.Name, single.Targets[i].Name)
		}
	}
	stamp := func() map[string]time.Time {
		m := map[string]time.Time{}
		files, _ := filepath.Glob(filepath.Join(dir, "targets.d", "*.toml"))
		for _, p := range files {
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			m[p] = info.ModTime()
		}
		return m
	}
	before := stamp()
	if len(before) != f.TargetFiles {
		t.Fatalf("%d target files, want %d", len(before), f.TargetFiles)
	}
	time.Sleep(10 * time.Millisecond)
	o.ChangedTarget = 0
	if err := f.writeLayout(dir, o, false); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for p, mtime := range stamp() {
		if !mtime.Equal(before[p]) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("changing one target rewrote %d files, want 1", changed)
	}
	if got := defaultTargetFiles(50000); got != 50 {
		t.Errorf("defaultTargetFiles(50000) = %d, want 50", got)
	}
}

// writeRoot writes a test root certificate into dir, for the configs the
// benchmark writes to name as their ca_file.
func writeRoot(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "root.pem")
	ca, err := testpki.NewRoot("Bench Test Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

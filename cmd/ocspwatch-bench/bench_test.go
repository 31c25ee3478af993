package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		"agent rounds": len(r.AgentCPUPerProbe),
		"floor rounds": len(r.FloorCPUPerHandshake),
		"scrapes":      len(r.ScrapeSeconds),
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

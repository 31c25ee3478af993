package exporter

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

var update = flag.Bool("update", false, "rewrite testdata/demo.golden.prom")

var (
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	// Values that depend on how fast this machine is, or on the length of
	// an ECDSA signature; the series must exist, their values cannot be
	// pinned.
	volatileRE  = regexp.MustCompile(`^(ocsp_crl_duration_seconds|ocsp_crl_bytes|ocsp_probe_duration_seconds|ocsp_tls_duration_seconds|ocsp_responder_duration_seconds|ocsp_responder_request_duration_seconds|ocsp_responder_last_query_timestamp_seconds)\{`)
	goVersionRE = regexp.MustCompile(`goversion="[^"]*"`)
	// The demo PKI draws fresh serials, hence fingerprints, every run.
	serialRE      = regexp.MustCompile(`serial="[0-9a-f]+"`)
	fingerprintRE = regexp.MustCompile(`fingerprint_sha256="[0-9a-f]{64}"`)
)

// TestDemoFleetExposition pins every ocsp_* and ocspwatch_* series the demo
// fleet produces, with the clock frozen. Run with -update after a
// deliberate change and review the diff.
func TestDemoFleetExposition(t *testing.T) {
	now := func() time.Time { return testpki.Epoch }
	fleet, err := demo.Start(demo.Options{Now: now, Dir: t.TempDir(), Schedule: "0 0 1 1 *"})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	ra := startAgentFile(t, fleet.ConfigFile, now)
	got := normalize(ra.metrics(t))
	const golden = "testdata/demo.golden.prom"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./exporter -run DemoFleet -update)", err)
	}
	if got != string(want) {
		t.Errorf("exposition differs from %s (go test -update to accept):\n%s", golden, diff(string(want), got))
	}
}

// normalize keeps ocspwatch's own families, blanks ports and
// machine-dependent values, and sorts samples so port numbers do not
// decide the order.
func normalize(exposition string) string {
	var out, samples []string
	flush := func() {
		slices.Sort(samples)
		out = append(out, samples...)
		samples = nil
	}
	for _, line := range strings.Split(exposition, "\n") {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if !strings.HasPrefix(name, "ocsp_") && !strings.HasPrefix(name, "ocspwatch_") {
			continue
		}
		line = portRE.ReplaceAllString(line, "127.0.0.1:PORT")
		line = goVersionRE.ReplaceAllString(line, `goversion="GO"`)
		line = serialRE.ReplaceAllString(line, `serial="SERIAL"`)
		line = fingerprintRE.ReplaceAllString(line, `fingerprint_sha256="SHA256"`)
		if strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "# HELP") {
				flush()
			}
			out = append(out, line)
			continue
		}
		if volatileRE.MatchString(line) {
			line = line[:strings.LastIndex(line, " ")] + " <varies>"
		}
		samples = append(samples, line)
	}
	flush()
	return strings.Join(out, "\n") + "\n"
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

// TestPromtoolCheckMetrics lints the real exposition with Debian's promtool,
// which the test command installs.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed; run the README's test command, which installs Debian's prometheus package: %v", err)
	}
	fleet, err := demo.Start(demo.Options{Dir: t.TempDir(), Schedule: "0 0 1 1 *"})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	ra := startAgentFile(t, fleet.ConfigFile, nil)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(ra.metrics(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

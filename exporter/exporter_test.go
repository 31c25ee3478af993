package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// Contract v2 exports the staple's NextUpdate as a timestamp, so the time
// left is computed by PromQL (… - time()) and stays right even when the
// series is no longer scraped (last_over_time in the alerts).
func TestStapleNextUpdateIsATimestamp(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 3*time.Hour)
	ra := startAgent(t, "region = \"eu\"\n"+l.target("www", srv.Addr, ""), func() time.Time { return l.now })
	want := fmt.Sprintf(`ocsp_staple_next_update_timestamp_seconds{address="%s",region="eu",target="www"} %g`, srv.Addr, unix(l.now.Add(3*time.Hour)))
	if got := metricLine(ra.metrics(t), "ocsp_staple_next_update_timestamp_seconds"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestReloadKeepsOldConfigOnErrorAndAppliesChanges(t *testing.T) {
	l := newLab(t)
	a, b, c := l.server(t, time.Hour), l.server(t, time.Hour), l.server(t, time.Hour)
	ra := startAgent(t, l.target("keep", a.Addr, "")+l.target("change", b.Addr, ""), func() time.Time { return l.now })
	keepState := ra.store.get("keep")
	changeState := ra.store.get("change")

	writeConfig(t, ra.path, "this is not TOML")
	if code, body := ra.post(t, "/-/reload"); code != http.StatusInternalServerError || !strings.Contains(body, ra.path) {
		t.Errorf("bad reload: HTTP %d %q, want 500 naming the file", code, body)
	}
	m := ra.metrics(t)
	if !strings.Contains(m, "ocspwatch_config_last_reload_successful 0") || !strings.Contains(m, `ocsp_probe_success{target="keep"} 1`) || !strings.Contains(m, `ocsp_probe_success{target="change"} 1`) {
		t.Errorf("after a bad reload the old targets must still be served and the failure exported:\n%s", grep(m, "reload_successful", "probe_success"))
	}

	writeConfig(t, ra.path, l.target("keep", a.Addr, "")+l.target("change", b.Addr, "timeout = \"3s\"\n")+l.target("added", c.Addr, ""))
	if code, body := ra.post(t, "/-/reload"); code != 200 {
		t.Fatalf("good reload: HTTP %d %q", code, body)
	}
	proc.WaitFor(t, 5*time.Second, "the added target to run", ra.allRan)
	if ra.store.get("keep") != keepState {
		t.Error("an unchanged target lost its state")
	}
	if ra.store.get("change") == changeState {
		t.Error("a changed target kept its old state")
	}
	m = ra.metrics(t)
	if !strings.Contains(m, "ocspwatch_config_last_reload_successful 1") || !strings.Contains(m, `ocsp_probe_success{target="added"} 1`) || !strings.Contains(m, "ocspwatch_targets 3") {
		t.Errorf("after a good reload:\n%s", grep(m, "reload", "probe_success", "ocspwatch_targets"))
	}

	writeConfig(t, ra.path, l.target("keep", a.Addr, ""))
	if code, _ := ra.post(t, "/-/reload"); code != 200 {
		t.Fatal("reload failed")
	}
	m = ra.metrics(t)
	if strings.Contains(m, `target="change"`) || strings.Contains(m, `target="added"`) {
		t.Errorf("removed targets left series behind:\n%s", grep(m, `target="change"`, `target="added"`))
	}
	if code, _ := ra.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: HTTP %d, want 405", code)
	}
}

func TestOverlappingRunsAreSkippedAndCounted(t *testing.T) {
	l := newLab(t)
	addr := loopback.Silent(t)
	path := t.TempDir() + "/c.toml"
	writeConfig(t, path, "[[target]]\nname = \"stuck\"\nendpoint = \""+addr+"\"\nschedule = \"* * * * * *\"\ntimeout = \"2500ms\"\n")
	a, err := New(Options{ConfigFile: path, Now: func() time.Time { return l.now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	proc.WaitFor(t, 6*time.Second, "a skipped run", func() bool {
		_, skipped := a.store.totals()
		return skipped >= 1
	})
	// Shutdown must cut the probe in flight short, well before its timeout.
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancellation")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %s", d)
	}
}

func TestProbeEndpoint(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	ra := startAgent(t, "region = \"eu\"\n"+l.target("www", srv.Addr, ""), func() time.Time { return l.now })
	code, body := ra.get(t, "/probe?target=www")
	if code != 200 || !strings.Contains(body, `ocsp_probe_success{region="eu",target="www"} 1`) || !strings.Contains(body, "ocsp_staple_valid") {
		t.Errorf("/probe: HTTP %d\n%s", code, body)
	}
	if strings.Contains(body, "Cached result") {
		t.Error("/probe's HELP calls its fresh values cached")
	}
	if !strings.Contains(ra.metrics(t), "Cached result of the last scheduled probe") {
		t.Error("/metrics' HELP does not say its values are cached results of scheduled probes")
	}
	code, body = ra.get(t, "/probe?target=www&debug=true")
	for _, want := range []string{"Logs for the probe:", `msg="handshake completed"`, "Metrics that would have been returned:", "ocsp_staple_present", "Target configuration (with defaults filled in):", `name = "www"`, `require_staple = "auto"`} {
		if !strings.Contains(body, want) {
			t.Errorf("debug output lacks %q:\n%s", want, body)
		}
	}
	if code, body := ra.get(t, "/probe?target=nope"); code != 404 || !strings.Contains(body, `"nope"`) {
		t.Errorf("unknown target: HTTP %d %q", code, body)
	}
	if code, body := ra.get(t, "/probe?endpoint="+srv.Addr); code != 403 || !strings.Contains(body, "allow_adhoc") {
		t.Errorf("ad-hoc while disabled: HTTP %d %q", code, body)
	}
	if code, _ := ra.get(t, "/probe"); code != 400 {
		t.Errorf("no target: HTTP %d", code)
	}
	// The scheduled counters are untouched by /probe.
	if !strings.Contains(ra.metrics(t), `ocsp_probes_total{region="eu",result="success",target="www"} 1`) {
		t.Error("/probe changed the scheduled counters")
	}
}

func TestAdhocProbe(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	ra := startAgent(t, "allow_adhoc = true\n"+l.target("www", srv.Addr, ""), func() time.Time { return l.now })
	code, body := ra.get(t, "/probe?endpoint="+srv.Addr)
	// Ad-hoc probes use the system roots, so the chain is untrusted, but
	// the staple is still checked against the served issuer.
	if code != 200 || !strings.Contains(body, `ocsp_staple_valid{address="`+srv.Addr+`",target="`+srv.Addr+`"} 1`) || !strings.Contains(body, `chain_verified="false"`) {
		t.Errorf("ad-hoc probe: HTTP %d\n%s", code, body)
	}
	if code, body := ra.get(t, "/probe?endpoint=www.example.com:https"); code != 400 || !strings.Contains(body, "is not a number") {
		t.Errorf("bad ad-hoc endpoint: HTTP %d %q", code, body)
	}
}

// TestAdhocProbeCannotReachInside: without an allow list, an ad-hoc caller
// cannot aim the agent at loopback, and the address is never dialled.
func TestAdhocProbeCannotReachInside(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	inside := loopback.Count(t, "127.0.0.2")
	ra := startAgent(t, "allow_adhoc = true\n"+l.target("www", srv.Addr, "")+"\n[network]\nallow = []\n", func() time.Time { return l.now })
	code, body := ra.get(t, "/probe?endpoint="+inside.Addr)
	if code != 200 || !strings.Contains(body, `ocsp_probe_failure_reason{reason="address_denied",target="`+inside.Addr+`"} 1`) {
		t.Errorf("ad-hoc probe of loopback: HTTP %d\n%s", code, grep(body, "failure_reason"))
	}
	if n := inside.Connections(); n != 0 {
		t.Errorf("the denied address saw %d connections", n)
	}
}

func TestHealthReadyAndStatusPage(t *testing.T) {
	l := newLab(t)
	fine, soon := l.server(t, 30*time.Hour), l.server(t, time.Hour)
	none := l.server(t, 0)
	ra := startAgent(t, l.target("fine", fine.Addr, "")+l.target("soon", soon.Addr, "")+l.target("required", none.Addr, "require_staple = true\n"), func() time.Time { return l.now })
	for _, path := range []string{"/-/healthy", "/-/ready"} {
		if code, _ := ra.get(t, path); code != 200 {
			t.Errorf("%s: HTTP %d", path, code)
		}
	}
	code, page := ra.get(t, "/")
	if code != 200 {
		t.Fatalf("status page: HTTP %d", code)
	}
	iRequired, iSoon, iFine := strings.Index(page, ">required<"), strings.Index(page, ">soon<"), strings.Index(page, ">fine<")
	if iRequired < 0 || iSoon < 0 || iFine < 0 || !(iRequired < iSoon && iSoon < iFine) {
		t.Errorf("status page is not sorted by urgency (failing, expiring soon, fine): %d %d %d", iRequired, iSoon, iFine)
	}
	for _, want := range []string{"the server sent no OCSP staple", "expires in 1h", "expires in 1d6h", "valid, good"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	ra.stop()
	if ra.ready.Load() {
		t.Error("still ready after shutdown")
	}
}

func grep(body string, needles ...string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		for _, n := range needles {
			if strings.Contains(line, n) && !strings.HasPrefix(line, "#") {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// One log line per failed run, naming the target and the reasons; nothing
// for successes at the default level.
func TestLogsOneLinePerFailedRun(t *testing.T) {
	l := newLab(t)
	ok, missing := l.server(t, time.Hour), l.server(t, 0)
	path := t.TempDir() + "/c.toml"
	writeConfig(t, path, l.target("fine", ok.Addr, "")+l.target("bare", missing.Addr, "require_staple = true\n"))
	var logs proc.Buffer
	ra := startAgentOptions(t, Options{ConfigFile: path, Now: func() time.Time { return l.now },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	ra.stop()
	var failures []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "probe") {
			failures = append(failures, line)
		}
	}
	if len(failures) != 1 || !strings.Contains(failures[0], "level=WARN") || !strings.Contains(failures[0], "target=bare") || !strings.Contains(failures[0], "reasons=staple_missing") {
		t.Errorf("want one WARN line for target bare, got:\n%s", logs.String())
	}
}

// TestDebugConfigBlanksTheProxyPassword: /probe?debug=true shows the
// target's settings, and proxy_url's password is the one secret in them.
func TestDebugConfigBlanksTheProxyPassword(t *testing.T) {
	shown := resolvedTOML(&config.Target{Name: "www", ProxyURL: "http://ops:s3cret@proxy.internal:3128"})
	if strings.Contains(shown, "s3cret") || !strings.Contains(shown, `proxy_url = "http://ops:xxxxx@proxy.internal:3128"`) {
		t.Errorf("resolved configuration:\n%s", shown)
	}
}

package exporter

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

func TestScrapeBudget(t *testing.T) {
	cases := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{header: "10", want: 9500 * time.Millisecond, ok: true},
		{header: "2.5", want: 2250 * time.Millisecond, ok: true},
		{header: "0.2", want: 180 * time.Millisecond, ok: true},
		{header: "", ok: false},
		{header: "abc", ok: false},
		{header: "0", ok: false},
		{header: "-3", ok: false},
		{header: "1e300", ok: false},
		{header: "Inf", ok: false},
		{header: "+Inf", ok: false},
		{header: "NaN", ok: false},
		{header: "3601", ok: false},
	}
	for _, c := range cases {
		got, ok := scrapeBudget(c.header)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("scrapeBudget(%q) = %s, %v; want %s, %v", c.header, got, ok, c.want, c.ok)
		}
	}
}

// TestProbeTimeoutHeaderCannotMakeTheTimeoutInstant: absurd header values
// leave the target's own timeout in charge.
func TestProbeTimeoutHeaderCannotMakeTheTimeoutInstant(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	ra := startAgent(t, l.target("www", srv.Addr, ""), func() time.Time { return l.now })
	for _, h := range []string{"1e300", "Inf", "NaN", "-1"} {
		req, _ := http.NewRequest(http.MethodGet, ra.http.URL+"/probe?target=www", nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if !strings.Contains(body, `ocsp_probe_success{target="www"} 1`) {
			t.Errorf("header %q: the probe did not succeed:\n%s", h, grep(body, "probe_success", "failures_total"))
		}
	}
}

// TestProbeConcurrencyIsCapped: past max_concurrent_probe_requests, /probe
// answers 503 at once instead of opening one more connection.
func TestProbeConcurrencyIsCapped(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	stuck := loopback.Silent(t)
	ra := startAgent(t, "max_concurrent_probe_requests = 1\n"+l.target("www", srv.Addr, "")+
		"\n[[target]]\nname = \"stuck\"\nendpoint = \""+stuck+"\"\ntimeout = \"3s\"\nschedule = \"@every 1h\"\n", func() time.Time { return l.now })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ra.get(t, "/probe?target=stuck")
	}()
	proc.WaitFor(t, 5*time.Second, "the first /probe to hold the only slot", func() bool {
		release, ok := ra.acquireProbeSlot()
		if ok {
			release()
		}
		return !ok
	})
	code, body := ra.get(t, "/probe?target=www")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "max_concurrent_probe_requests") {
		t.Errorf("second /probe: HTTP %d %q, want 503", code, body)
	}
	wg.Wait()
	if code, _ := ra.get(t, "/probe?target=www"); code != 200 {
		t.Errorf("after the slot was freed: HTTP %d", code)
	}
}

func TestReloadNeedsTheLifecycleFlag(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	path := t.TempDir() + "/c.toml"
	writeConfig(t, path, l.target("www", srv.Addr, ""))
	ra := startAgentOptions(t, Options{ConfigFile: path, Now: func() time.Time { return l.now }})
	if code, body := ra.post(t, "/-/reload"); code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") {
		t.Errorf("POST /-/reload without the flag: HTTP %d %q, want 403", code, body)
	}
}

// TestReloadCancelsRunsOfRemovedTargets: a reload that removes or changes
// a target ends its run in flight instead of letting it dial on.
func TestReloadCancelsRunsOfRemovedTargets(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, time.Hour)
	stuck := loopback.Silent(t)
	stuckTarget := "\n[[target]]\nname = \"stuck\"\nendpoint = \"" + stuck + "\"\ntimeout = \"60s\"\nschedule = \"@every 1h\"\n"
	path := t.TempDir() + "/c.toml"
	writeConfig(t, path, l.target("www", srv.Addr, "")+stuckTarget)
	a, err := New(Options{ConfigFile: path, Now: func() time.Time { return l.now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	var st *targetState
	proc.WaitFor(t, 5*time.Second, "the stuck target's run to start", func() bool {
		st = a.store.get("stuck")
		return st != nil && st.running.Load()
	})
	writeConfig(t, path, l.target("www", srv.Addr, ""))
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if !st.retired() {
		t.Error("the removed target's state was not retired")
	}
	proc.WaitFor(t, 3*time.Second, "the removed target's run to end, long before its 60s timeout", func() bool { return !st.running.Load() })
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

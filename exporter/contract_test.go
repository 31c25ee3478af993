package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// Custom labels appear on ocsp_target_info only by default, and on every
// series of the target with label_mode = "all"; never on the responder
// series that targets share.
func TestCustomLabelModes(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		wantOnAll bool
	}{
		{
			mode:      "info",
			wantOnAll: false,
		},
		{
			mode:      "all",
			wantOnAll: true,
		},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			l := newLab(t)
			srv := l.server(t, 3*time.Hour)
			ra := startAgent(t, "label_mode = \""+tc.mode+"\"\n[labels]\nenv = \"prod\"\n"+l.target("pay", srv.Addr, "labels = { team = \"payments\" }\n"), func() time.Time { return l.now })
			m := ra.metrics(t)
			if want := `ocsp_target_info{endpoint="` + srv.Addr + `",env="prod",server_name="localhost",target="pay",team="payments"} 1`; !strings.Contains(m, want) {
				t.Errorf("missing %s in:\n%s", want, grep(m, "ocsp_target_info"))
			}
			withLabels := `ocsp_probe_success{env="prod",target="pay",team="payments"} 1`
			if got := strings.Contains(m, withLabels); got != tc.wantOnAll {
				t.Errorf("custom labels on ocsp_probe_success: %v, want %v:\n%s", got, tc.wantOnAll, grep(m, "ocsp_probe_success"))
			}
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(line, "ocsp_responder_") && strings.Contains(line, "team=") {
					t.Errorf("a shared responder series carries a target's label: %s", line)
				}
			}
		})
	}
}

// Every failure reason is exported from the start, so increase() sees
// the first failure; the per-target counters of both results too.
func TestFailureCountersExistFromTheStart(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 3*time.Hour)
	ra := startAgent(t, l.target("www", srv.Addr, ""), func() time.Time { return l.now })
	m := ra.metrics(t)
	for _, r := range probe.AllReasons() {
		if want := `ocsp_probe_failures_total{reason="` + string(r) + `"} 0`; !strings.Contains(m, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, want := range []string{`ocsp_probes_total{result="failure",target="www"} 0`, `ocsp_probes_total{result="success",target="www"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("missing %s in:\n%s", want, grep(m, "ocsp_probes_total"))
		}
	}
}

// Issue 10: a CA outage must not turn the fleet red. With the responder
// down and a valid staple, the target passes and the responder's own
// series say what is wrong.
func TestResponderOutageFailsTheResponderNotTheEndpoint(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 3*time.Hour)
	down := "http://" + loopback.ClosedAddr(t)
	ra := startAgent(t, l.target("www", srv.Addr, "responders = [\""+down+"\"]\n"), func() time.Time { return l.now })
	m := ra.metrics(t)
	for _, want := range []string{
		`ocsp_probe_success{target="www"} 1`,
		`ocsp_responder_success{responder="` + down + `"} 0`,
		`ocsp_responder_up{responder="` + down + `"} 0`,
		`ocsp_responder_failure_reason{reason="responder_connect",responder="` + down + `"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("missing %s in:\n%s", want, grep(m, "ocsp_probe_success", "ocsp_responder_"))
		}
	}
	code, page := ra.get(t, "/")
	if code != 200 || !strings.Contains(page, down) || !strings.Contains(page, "responder_connect") {
		t.Errorf("the status page does not show the failing responder: HTTP %d\n%s", code, page)
	}
}

// The fleet-wide counters must not go down when a reload removes or
// changes a target that had failed, or rate() would read a reset.
func TestFleetTotalsNeverGoDown(t *testing.T) {
	st := newStore()
	target := func(name, timeout string) *config.Target {
		cfg, err := config.Parse([]byte("[[target]]\nname = \""+name+"\"\nendpoint = \"127.0.0.1:1\"\ntimeout = \""+timeout+"\"\n"), "test.toml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Targets[0]
	}
	fail := func(name string) {
		s := st.get(name)
		st.record(s, &probe.Report{Target: name, Failures: []probe.Problem{{Reason: probe.ReasonConnect}}}, testpki.Epoch)
		st.skip()
	}
	a, b := target("a", "5s"), target("b", "5s")
	for i, step := range []struct {
		name        string
		targets     []*config.Target
		failing     []string
		wantConnect float64
	}{
		{name: "two targets failing", targets: []*config.Target{a, b}, failing: []string{"a", "a", "a", "b", "b"}, wantConnect: 5},
		{name: "a removed", targets: []*config.Target{b}, wantConnect: 5},
		{name: "b changed, its new state counting from 1", targets: []*config.Target{target("b", "6s")}, failing: []string{"b"}, wantConnect: 6},
		{name: "b's new state catches up with the old one", failing: []string{"b"}, wantConnect: 7},
	} {
		if step.targets != nil {
			for _, s := range func() []*targetState { removed, _ := st.sync(step.targets); return removed }() {
				s.retire()
			}
		}
		for _, name := range step.failing {
			fail(name)
		}
		got, skipped := st.totals()
		if got[probe.ReasonConnect] != step.wantConnect || skipped != step.wantConnect {
			t.Errorf("step %d, %s: connect total %v, skipped %v; want %v", i, step.name, got[probe.ReasonConnect], skipped, step.wantConnect)
		}
	}
}

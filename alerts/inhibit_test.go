package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ocspwatch/ocspwatch/internal/amtest"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

type amConfig struct {
	InhibitRules []struct {
		SourceMatchers []string `yaml:"source_matchers"`
		TargetMatchers []string `yaml:"target_matchers"`
		Equal          []string `yaml:"equal"`
	} `yaml:"inhibit_rules"`
}

var matcherRE = regexp.MustCompile(`^(\w+)(=~|!~|!=|=)"(.*)"$`)

// matches evaluates the example's matchers, which use only the four
// operators with quoted values.
func matches(t *testing.T, matchers []string, labels map[string]string) bool {
	t.Helper()
	for _, m := range matchers {
		p := matcherRE.FindStringSubmatch(m)
		if p == nil {
			t.Fatalf("matcher %q: unsupported form", m)
		}
		v := labels[p[1]]
		var ok bool
		switch p[2] {
		case "=":
			ok = v == p[3]
		case "!=":
			ok = v != p[3]
		case "=~":
			ok = regexp.MustCompile("^(?:" + p[3] + ")$").MatchString(v)
		case "!~":
			ok = !regexp.MustCompile("^(?:" + p[3] + ")$").MatchString(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

var (
	noResponderRE = regexp.MustCompile(`^ocsp_cert_info\{.*\bresponder="".*\}$`)
	targetLabelRE = regexp.MustCompile(`\btarget="([^"]*)"`)
)

// firingExamples are the label sets of every alert the promtool tests
// expect to fire: real outputs of the rules. noResponder holds the
// targets whose certificate, in the same test, names no OCSP responder
// (CRL-only certificates).
func firingExamples(t *testing.T) (out []map[string]string, noResponder map[string]bool) {
	t.Helper()
	files, _ := filepath.Glob("tests/*.yml")
	noResponder = map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rt ruleTests
		if err := yaml.Unmarshal(data, &rt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range rt.Tests {
			for _, in := range tc.InputSeries {
				if m := targetLabelRE.FindStringSubmatch(in.Series); m != nil && noResponderRE.MatchString(in.Series) {
					noResponder[m[1]] = true
				}
			}
			for _, a := range tc.AlertRuleTest {
				for _, e := range a.ExpAlerts {
					labels := map[string]string{"alertname": a.Alertname}
					for k, v := range e["exp_labels"].(map[string]any) {
						labels[k] = fmt.Sprint(v)
					}
					out = append(out, labels)
				}
			}
		}
	}
	return out, noResponder
}

// Issue 10: `equal: [target]` matched alerts that both lacked target, so
// one responder alert muted every unrelated warning. Every label an
// inhibit rule compares must be set on every alert its source matchers
// select, and on the alerts its target matchers select; a target alert
// may lack responder only when no certificate was ever seen for it
// (no serial either) or when its certificate names no OCSP responder
// (issue 12: CRL-only certificates); then it is simply never muted by
// responder, and no responder outage can cause it.
func TestInhibitRulesCompareLabelsTheAlertsCarry(t *testing.T) {
	data, err := os.ReadFile("alertmanager.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg amConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	examples, noResponder := firingExamples(t)
	for i, rule := range cfg.InhibitRules {
		sources, targets := 0, 0
		for _, labels := range examples {
			if matches(t, rule.SourceMatchers, labels) {
				sources++
				for _, l := range rule.Equal {
					if labels[l] == "" {
						t.Errorf("inhibit rule %d: source alert %s has no %s: %v", i+1, labels["alertname"], l, labels)
					}
				}
			}
			if matches(t, rule.TargetMatchers, labels) {
				targets++
				for _, l := range rule.Equal {
					if labels[l] == "" && !(l == "responder" && (labels["serial"] == "" || noResponder[labels["target"]])) {
						t.Errorf("inhibit rule %d: target alert %s has no %s: %v", i+1, labels["alertname"], l, labels)
					}
				}
			}
		}
		if sources == 0 || targets == 0 {
			t.Errorf("inhibit rule %d selects %d source and %d target alerts among the tests' firing alerts; want some of each", i+1, sources, targets)
		}
	}
	// Every alert carries a scope, which the inhibit rules select on.
	for _, r := range mustLoadRules(t) {
		if s := r.Labels["scope"]; !slices.Contains([]string{"target", "responder", "crl", "agent"}, s) {
			t.Errorf("%s: scope %q, want target, responder, crl or agent", r.Alert, s)
		}
	}
}

// amAlert is what the test posts to and reads from Alertmanager's v2 API.
type amAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt,omitzero"`
	Status   *struct {
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status,omitempty"`
}

// TestInhibitionInAlertmanager loads the example into a real Alertmanager
// on loopback (receivers pointed at a local sink), posts the alerts of
// the scenarios and reads back which ones it mutes.
func TestInhibitionInAlertmanager(t *testing.T) {
	bin := tool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	base := amtest.Start(t, bin, "alertmanager.example.yml")

	target := func(alert, severity, name, region, responder string) map[string]string {
		return map[string]string{"alertname": alert, "severity": severity, "scope": "target", "target": name,
			"region": region, "instance": region + "-1:9879", "responder": responder}
	}
	alerts := map[string]map[string]string{
		// Issue 10's reproduction: a responder down everywhere in eu-west-1…
		"r1 down everywhere": {"alertname": "OCSPResponderDownEverywhere", "severity": "critical", "scope": "responder", "responder": "http://r1.test"},
		// …muted these unrelated alerts, which must now stay.
		"r2 slow in us":          {"alertname": "OCSPResponderSlow", "severity": "warning", "scope": "responder", "responder": "http://r2.test", "region": "us"},
		"r2 down in us":          {"alertname": "OCSPResponderDownInRegion", "severity": "critical", "scope": "responder", "responder": "http://r2.test", "region": "us"},
		"runs skipped in eu":     {"alertname": "OCSPWatchRunsSkipped", "severity": "warning", "scope": "agent", "instance": "eu-1:9879", "region": "eu"},
		"reload failed in eu":    {"alertname": "OCSPWatchConfigReloadFailed", "severity": "warning", "scope": "agent", "instance": "eu-1:9879", "region": "eu"},
		"r1 slow in eu":          {"alertname": "OCSPResponderSlow", "severity": "warning", "scope": "responder", "responder": "http://r1.test", "region": "eu"},
		"www expiring, r1":       target("OCSPStapleExpiring", "critical", "www", "eu", "http://r1.test"),
		"api expiring, r2, us":   target("OCSPStapleExpiring", "critical", "api", "us", "http://r2.test"),
		"api expiring, r2, eu":   target("OCSPStapleExpiring", "critical", "api", "eu", "http://r2.test"),
		"shop expiring, r3":      target("OCSPStapleExpiring", "critical", "shop", "eu", "http://r3.test"),
		"shop stale, r3":         target("OCSPStapleStale", "warning", "shop", "eu", "http://r3.test"),
		"blog stale, r3":         target("OCSPStapleStale", "warning", "blog", "eu", "http://r3.test"),
		"agent ap down":          {"alertname": "OCSPWatchAgentDown", "severity": "critical", "scope": "agent", "instance": "ap-1:9879", "job": "ocspwatch"},
		"ap target unreachable":  target("OCSPProbeFailing", "warning", "cdn", "ap", "http://r4.test"),
		"us target unreachable":  target("OCSPProbeFailing", "warning", "cdn", "us", "http://r4.test"),
		"no responder, expiring": {"alertname": "OCSPStapleExpiring", "severity": "critical", "scope": "target", "target": "new", "region": "eu", "instance": "eu-1:9879"},
		// Issue 12: a CRL that fails everywhere mutes its own NextUpdate
		// warning, not another CRL's, nor the revocations it reported.
		"crl1 failing everywhere": {"alertname": "OCSPCRLFailingEverywhere", "severity": "critical", "scope": "crl", "url": "http://crl1.test/ca.crl"},
		"crl1 next update near":   {"alertname": "OCSPCRLNextUpdateNear", "severity": "warning", "scope": "crl", "url": "http://crl1.test/ca.crl"},
		"crl2 next update near":   {"alertname": "OCSPCRLNextUpdateNear", "severity": "warning", "scope": "crl", "url": "http://crl2.test/ca.crl"},
		"crl3 failing in us":      {"alertname": "OCSPCRLFailingInRegion", "severity": "warning", "scope": "crl", "url": "http://crl3.test/ca.crl", "region": "us"},
		"crl3 next update near":   {"alertname": "OCSPCRLNextUpdateNear", "severity": "warning", "scope": "crl", "url": "http://crl3.test/ca.crl"},
		"shop revoked by crl1":    {"alertname": "OCSPCertificateRevoked", "severity": "critical", "scope": "target", "target": "shop", "revocation_reason": "keyCompromise", "region": "eu", "instance": "eu-1:9879"},
		"shop chain revoked":      {"alertname": "OCSPIntermediateRevoked", "severity": "critical", "scope": "target", "target": "shop", "depth": "1", "region": "eu", "instance": "eu-1:9879"},
	}
	var post []amAlert
	for _, labels := range alerts {
		post = append(post, amAlert{Labels: labels, StartsAt: time.Now().Add(-time.Minute)})
	}
	body, _ := json.Marshal(post)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("posting alerts: HTTP %d", resp.StatusCode)
	}

	for _, tc := range []struct {
		alert     string
		inhibited bool
	}{
		{alert: "r1 down everywhere", inhibited: false},
		{alert: "r2 slow in us", inhibited: true}, // behind r2 down in us
		{alert: "r2 down in us", inhibited: false},
		{alert: "runs skipped in eu", inhibited: false},
		{alert: "reload failed in eu", inhibited: false},
		{alert: "r1 slow in eu", inhibited: true},
		{alert: "www expiring, r1", inhibited: true},
		{alert: "api expiring, r2, us", inhibited: true},
		{alert: "api expiring, r2, eu", inhibited: false},
		{alert: "shop expiring, r3", inhibited: false},
		{alert: "shop stale, r3", inhibited: true},
		{alert: "blog stale, r3", inhibited: false},
		{alert: "agent ap down", inhibited: false},
		{alert: "ap target unreachable", inhibited: true},
		{alert: "us target unreachable", inhibited: false},
		{alert: "no responder, expiring", inhibited: false},
		{alert: "crl1 failing everywhere", inhibited: false},
		{alert: "crl1 next update near", inhibited: true},
		{alert: "crl2 next update near", inhibited: false},
		{alert: "crl3 failing in us", inhibited: false},
		{alert: "crl3 next update near", inhibited: true},
		{alert: "shop revoked by crl1", inhibited: false},
		{alert: "shop chain revoked", inhibited: false},
	} {
		t.Run(tc.alert, func(t *testing.T) {
			var got bool
			proc.WaitFor(t, 10*time.Second, "Alertmanager to settle "+tc.alert, func() bool {
				got = inhibited(t, base, alerts[tc.alert])
				return got == tc.inhibited
			})
		})
	}
}

// inhibited reads one alert back and reports whether it is muted.
func inhibited(t *testing.T, base string, labels map[string]string) bool {
	t.Helper()
	var filters []string
	for k, v := range labels {
		filters = append(filters, "filter="+k+"%3D%22"+strings.ReplaceAll(strings.ReplaceAll(v, ":", "%3A"), "/", "%2F")+"%22")
	}
	resp, err := http.Get(base + "/api/v2/alerts?" + strings.Join(filters, "&"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []amAlert
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&got); err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		if len(a.Labels) == len(labels) && a.Status != nil {
			return len(a.Status.InhibitedBy) > 0
		}
	}
	t.Fatalf("alert %v not found among %d", labels, len(got))
	return false
}

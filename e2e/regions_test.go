package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/amtest"
	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestTwoRegionsThroughAlertmanager runs issue 10's setup on loopback:
// two agents (regions eu and us) watching the demo fleet, one Prometheus
// evaluating the bundled rules centrally, and a real Alertmanager with
// the example configuration. The demo's busy responder (tryLater) is down
// from both regions; its slow responder is slow from both.
func TestTwoRegionsThroughAlertmanager(t *testing.T) {
	prometheus := requireTool(t, "prometheus", "prometheus")
	alertmanager := requireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	fleet, err := demo.Start(demo.Options{Dir: t.TempDir(), Schedule: "@every 2s"})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	base, err := os.ReadFile(fleet.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var agents []*agent
	for _, region := range []string{"eu", "us"} {
		file := filepath.Join(dir, region+".toml")
		cfg := strings.Replace(string(base), `region = "demo"`, fmt.Sprintf("region = %q", region), 1)
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, startAgent(t, "--config.file="+file))
	}
	for _, a := range agents {
		proc.WaitFor(t, 20*time.Second, "every demo target to run once", func() bool {
			return strings.Count(a.metrics(t), "\nocsp_probe_success{") == len(demo.Targets)
		})
	}
	responderOf := func(target string) string {
		m := regexp.MustCompile(`ocsp_cert_info\{[^}]*responder="([^"]+)"[^}]*target="` + target + `"`).FindStringSubmatch(agents[0].metrics(t))
		if m == nil {
			t.Fatalf("no responder for %s", target)
		}
		return m[1]
	}
	busy, slow, fast := responderOf("busy-responder"), responderOf("slow-responder"), responderOf("good")

	amBase := amtest.Start(t, alertmanager, "../alerts/alertmanager.example.yml")

	rules, err := os.ReadFile("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesFile, regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, a := range agents {
		targets = append(targets, fmt.Sprintf("%q", strings.TrimPrefix(a.base, "http://")))
	}
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["%s"]
scrape_configs:
  - job_name: ocspwatch
    static_configs:
      - targets: [%s]
`, rulesFile, strings.TrimPrefix(amBase, "http://"), strings.Join(targets, ", "))
	promFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promFile, []byte(promCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	promPort := proc.FreePort(t)
	prom := proc.Start(t, prometheus, "--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+promPort, "--rules.alert.resend-delay=1s", "--log.level=warn")
	promBase := "http://127.0.0.1:" + promPort
	proc.WaitFor(t, 30*time.Second, "Prometheus to be ready", func() bool {
		if prom.Exited() {
			t.Fatalf("prometheus exited:\n%s", prom.Output())
		}
		code, _, err := httpGet(promBase + "/-/ready")
		return err == nil && code == 200
	})

	for _, tc := range []struct {
		what      string
		labels    map[string]string
		inhibited bool
	}{
		{
			what:      "the busy responder is down from both regions: one page",
			labels:    map[string]string{"alertname": "OCSPResponderDownEverywhere", "responder": busy},
			inhibited: false,
		},
		{
			what:      "its errors are the same cause",
			labels:    map[string]string{"alertname": "OCSPResponderErrors", "responder": busy, "region": "eu"},
			inhibited: true,
		},
		{
			what:      "issue 10: another responder's slowness is not muted by it",
			labels:    map[string]string{"alertname": "OCSPResponderSlow", "responder": slow, "region": "us"},
			inhibited: false,
		},
		{
			what:      "a revoked certificate pages from eu, naming its responder",
			labels:    map[string]string{"alertname": "OCSPCertificateRevoked", "target": "revoked", "region": "eu", "responder": fast},
			inhibited: false,
		},
		{
			what:      "and from us",
			labels:    map[string]string{"alertname": "OCSPCertificateRevoked", "target": "revoked", "region": "us", "responder": fast},
			inhibited: false,
		},
	} {
		t.Run(tc.what, func(t *testing.T) {
			proc.WaitFor(t, 60*time.Second, fmt.Sprintf("%v in Alertmanager, inhibited %v", tc.labels, tc.inhibited), func() bool {
				found, inhibited := amAlertState(t, amBase, tc.labels)
				return found && inhibited == tc.inhibited
			})
		})
	}
	t.Run("a responder down everywhere is not also down in each region", func(t *testing.T) {
		result, err := promQuery(promBase, fmt.Sprintf(`ALERTS{alertname="OCSPResponderDownInRegion", responder=%q}`, busy))
		if err != nil || len(result) != 0 {
			t.Errorf("OCSPResponderDownInRegion for %s: %v %v", busy, result, err)
		}
	})
	t.Run("regional counts count targets once", func(t *testing.T) {
		// The demo's revoked target is revoked by staple and responder
		// alike, crl-revoked by its CRL: two targets, whatever the sources.
		for _, region := range []string{"eu", "us"} {
			result, err := promQuery(promBase, fmt.Sprintf(`region:ocspwatch_targets_revoked:count{region=%q}`, region))
			if err != nil || len(result) != 1 || fmt.Sprint(result[0]["value"].([]any)[1]) != "2" {
				t.Errorf("revoked targets in %s: %v %v, want 2", region, result, err)
			}
		}
	})
}

// amAlertState finds an alert whose labels include want and reports
// whether Alertmanager inhibits it.
func amAlertState(t *testing.T, base string, want map[string]string) (found, inhibited bool) {
	t.Helper()
	code, body, err := httpGet(base + "/api/v2/alerts")
	if err != nil || code != 200 {
		return false, false
	}
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &alerts); err != nil {
		t.Fatalf("alertmanager alerts: %v", err)
	}
	for _, a := range alerts {
		match := true
		for k, v := range want {
			match = match && a.Labels[k] == v
		}
		if match {
			return true, len(a.Status.InhibitedBy) > 0
		}
	}
	return false, false
}

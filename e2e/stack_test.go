package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/alerts"
	"github.com/ocspwatch/ocspwatch/dashboards"
	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestMonitoringStack runs a real Prometheus against `ocspwatch demo`: the
// rules load and fire, and every dashboard query returns data.
func TestMonitoringStack(t *testing.T) {
	prometheus := requireTool(t, "prometheus", "prometheus")
	agent := startAgent(t, "demo")
	proc.WaitFor(t, 15*time.Second, "every demo target to run once", func() bool {
		return strings.Count(agent.metrics(t), "\nocsp_probe_success{") == len(demo.Targets)
	})

	dir := t.TempDir()
	// The same rules, with every `for:` shortened so the test need not
	// wait minutes for pending alerts to fire.
	rules, err := os.ReadFile("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	shortened := regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 2s"))
	rulesFile := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesFile, shortened, 0o644); err != nil {
		t.Fatal(err)
	}
	promPort := proc.FreePort(t)
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: ocspwatch
    static_configs:
      - targets: [%q]
`, rulesFile, strings.TrimPrefix(agent.base, "http://"))
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := proc.Start(t, prometheus, "--config.file="+configFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+promPort, "--log.level=warn")
	promBase := "http://127.0.0.1:" + promPort
	proc.WaitFor(t, 30*time.Second, "Prometheus to be ready", func() bool {
		if prom.Exited() {
			t.Fatalf("prometheus exited:\n%s", prom.Output())
		}
		code, _, err := httpGet(promBase + "/-/ready")
		return err == nil && code == 200
	})

	t.Run("every metric named by the rules and the dashboard is exported", func(t *testing.T) {
		exported := seriesNames(agent.metrics(t))
		rules, err := alerts.LoadRules("../alerts/ocspwatch.rules.yml")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			for _, m := range alerts.MetricNames(r.Expr) {
				if !exported[m] {
					t.Errorf("alert %s uses %s, which the demo agent does not expose", r.Alert, m)
				}
			}
		}
		d, err := dashboards.Load("../dashboards/ocspwatch.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, expr := range d.Expressions() {
			for _, m := range alerts.MetricNames(expr) {
				if !exported[m] {
					t.Errorf("the dashboard uses %s, which the demo agent does not expose: %s", m, expr)
				}
			}
		}
	})

	t.Run("every dashboard query returns data", func(t *testing.T) {
		d, err := dashboards.Load("../dashboards/ocspwatch.json")
		if err != nil {
			t.Fatal(err)
		}
		vars := strings.NewReplacer(`$region`, `.*`, `$target`, `.*`, `$__rate_interval`, `1m`)
		pending := map[string]string{}
		for _, expr := range d.Expressions() {
			pending[expr] = vars.Replace(expr)
		}
		// Rates need two scrapes; give the server a few seconds.
		deadline := time.Now().Add(30 * time.Second)
		for len(pending) > 0 && time.Now().Before(deadline) {
			for expr, q := range pending {
				if result, err := promQuery(promBase, q); err == nil && len(result) > 0 {
					delete(pending, expr)
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		for expr, q := range pending {
			_, err := promQuery(promBase, q)
			t.Errorf("no data for dashboard query %s (err %v)", expr, err)
		}
	})

	t.Run("the demo's revoked and missing staples drive their alerts", func(t *testing.T) {
		for _, want := range []struct{ alert, target string }{
			{"OCSPCertificateRevoked", "revoked"},
			{"OCSPStapleMissing", "no-staple"},
			{"OCSPStapleMissing", "must-staple"},
			{"OCSPStapleExpiring", "expiring"},
		} {
			q := fmt.Sprintf(`ALERTS{alertname=%q, target=%q, alertstate=~"pending|firing"}`, want.alert, want.target)
			proc.WaitFor(t, 30*time.Second, want.alert+" for "+want.target, func() bool {
				result, err := promQuery(promBase, q)
				return err == nil && len(result) > 0
			})
		}
		// And the healthy target raises nothing critical.
		result, err := promQuery(promBase, `ALERTS{target="good", severity="critical"}`)
		if err != nil || len(result) != 0 {
			t.Errorf("the good target raised critical alerts: %v %v", result, err)
		}
	})
}

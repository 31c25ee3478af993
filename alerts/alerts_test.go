package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func mustLoadRules(t *testing.T) []Rule {
	t.Helper()
	rules, err := LoadRules("ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed; run the README's test command, which installs Debian's %s: %v", name, pkg, err)
	}
	return path
}

func runTool(t *testing.T, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
}

func TestPromtoolCheckAndTestRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	runTool(t, promtool, "check", "rules", "ocspwatch.rules.yml")
	tests, err := filepath.Glob("tests/*.yml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests: %v", err)
	}
	runTool(t, promtool, append([]string{"test", "rules"}, tests...)...)
}

func TestAlertmanagerExample(t *testing.T) {
	amtool := tool(t, "amtool", "prometheus-alertmanager")
	runTool(t, amtool, "check-config", "alertmanager.example.yml")
	// Routing: critical alerts page, warnings open tickets, whatever
	// their scope.
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{labels: []string{"alertname=OCSPStapleExpiring", "severity=critical", "scope=target"}, want: "pager"},
		{labels: []string{"alertname=OCSPResponderDownInRegion", "severity=critical", "scope=responder"}, want: "pager"},
		{labels: []string{"alertname=OCSPStapleStale", "severity=warning", "scope=target"}, want: "ticket"},
		{labels: []string{"alertname=OCSPWatchRunsSkipped", "severity=warning", "scope=agent"}, want: "ticket"},
		{labels: []string{"alertname=OCSPCRLFailingEverywhere", "severity=critical", "scope=crl"}, want: "pager"},
		{labels: []string{"alertname=OCSPCRLNextUpdateNear", "severity=warning", "scope=crl"}, want: "ticket"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=alertmanager.example.yml", "--verify.receivers=" + tc.want}, tc.labels...)
		runTool(t, amtool, args...)
	}
}

func TestEveryAlertIsCompleteAndInTheRunbook(t *testing.T) {
	runbook, err := os.ReadFile("runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := regexp.MustCompile(`(?m)^## (OCSP\w+)$`).FindAllStringSubmatch(string(runbook), -1)
	documented := map[string]bool{}
	for _, h := range headings {
		documented[h[1]] = true
	}
	rules := mustLoadRules(t)
	if len(rules) == 0 {
		t.Fatal("no rules")
	}
	names := map[string]bool{}
	for _, r := range rules {
		names[r.Alert] = true
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		if want := "https://github.com/ocspwatch/ocspwatch/blob/main/alerts/runbook.md#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !documented[r.Alert] {
			t.Errorf("%s has no section in runbook.md", r.Alert)
		}
		// An alert about every region at once has no single region to name.
		if d := r.Annotations["description"]; !strings.Contains(d, "$labels.region") && !strings.Contains(d, "every region") && !strings.Contains(d, "No region") {
			t.Errorf("%s: the description does not name the region", r.Alert)
		}
	}
	for name := range documented {
		if !names[name] {
			t.Errorf("runbook.md has a section for %s, which is not an alert", name)
		}
	}
}

type ruleTests struct {
	Tests []struct {
		Name        string `yaml:"name"`
		InputSeries []struct {
			Series string `yaml:"series"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert needs a case where it fires and one where it must not.
func TestEveryAlertHasFiringAndQuietCases(t *testing.T) {
	fires, quiet := map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob("tests/*.yml")
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
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for _, r := range mustLoadRules(t) {
		if !fires[r.Alert] {
			t.Errorf("%s has no test case where it fires", r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s has no test case where it must stay quiet", r.Alert)
		}
	}
}

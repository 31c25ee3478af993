package dashboards

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/ocspwatch/ocspwatch/alerts"
	"github.com/ocspwatch/ocspwatch/exporter"
)

func load(t *testing.T) *Dashboard {
	t.Helper()
	d, err := Load("ocspwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDashboardStructure(t *testing.T) {
	d := load(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"datasource", "region", "target", "responder", "limit"} {
		if !slices.Contains(vars, want) {
			t.Errorf("no $%s variable", want)
		}
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Description == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}

func TestDashboardNamesOnlyExportedMetrics(t *testing.T) {
	exported := exporter.MetricNames()
	for _, expr := range load(t).Expressions() {
		for _, m := range alerts.MetricNames(expr) {
			if !slices.Contains(exported, m) {
				t.Errorf("the dashboard queries %s, which the agent does not export: %s", m, expr)
			}
		}
	}
	rules, err := alerts.LoadRules("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		for _, m := range alerts.MetricNames(r.Expr) {
			if !slices.Contains(exported, m) {
				t.Errorf("alert %s uses %s, which the agent does not export", r.Alert, m)
			}
		}
	}
}

// The dashboard's colours must turn at the values the alerts fire at.
func TestDashboardThresholdsMatchAlerts(t *testing.T) {
	rules, err := alerts.LoadRules("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	threshold := func(alert, pattern string) float64 {
		for _, r := range rules {
			if r.Alert == alert {
				m := regexp.MustCompile(pattern).FindStringSubmatch(r.Expr)
				if m == nil {
					t.Fatalf("%s: no threshold matching %s in %q", alert, pattern, r.Expr)
				}
				v, _ := strconv.ParseFloat(m[1], 64)
				return v
			}
		}
		t.Fatalf("no alert %s", alert)
		return 0
	}
	d := load(t)
	for _, tc := range []struct {
		panel, alert, pattern string
	}{
		{"Time to NextUpdate", "OCSPStapleExpiring", `ocsp_staple_next_update_timestamp_seconds - time\(\) < (\d+)`},
		{"Responder time to NextUpdate", "OCSPResponderResponseNearlyStale", `\(ocsp_response_next_update_timestamp_seconds - time\(\)\) < (\d+)`},
		{"Responder p95 over 15m", "OCSPResponderSlow", `\) > ([\d.]+)$`},
		{"CRL time to NextUpdate", "OCSPCRLNextUpdateNear", `ocsp_crl_next_update_timestamp_seconds\) - time\(\) < (\d+)`},
	} {
		want := threshold(tc.alert, tc.pattern)
		if got := d.Thresholds(tc.panel); !slices.Contains(got, want) {
			t.Errorf("panel %q thresholds %v do not include %s's %v", tc.panel, got, tc.alert, want)
		}
	}
}

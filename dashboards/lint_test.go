package dashboards

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestDashboardLinterRules applies the rules of Grafana's
// dashboard-linter that fit a mixin dashboard. The linter itself cannot be
// built here: its lint package imports github.com/grafana/grafana, which
// the module proxy refuses (AGPL). Its job and instance rules do not apply:
// these panels select by region, target and responder, which the
// dashboard's variables provide.
func TestDashboardLinterRules(t *testing.T) {
	data, err := os.ReadFile("ocspwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name, Type string
				Query      any
			}
		}
		Panels []lintPanel
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	// template-datasource-rule: a Prometheus datasource variable.
	hasDS := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDS = true
		}
	}
	if !hasDS {
		t.Error("template-datasource-rule: no datasource variable of type prometheus named datasource")
	}
	rateWindow := regexp.MustCompile(`\b(rate|irate|increase)\([^\[]*\[([^\]]+)\]`)
	var walk func([]lintPanel)
	walk = func(ps []lintPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			// panel-datasource-rule: every panel uses the variable.
			if p.Datasource.UID != "${datasource}" {
				t.Errorf("panel-datasource-rule: %q uses datasource %q", p.Title, p.Datasource.UID)
			}
			// panel-title-description-rule.
			if p.Title == "" || p.Description == "" {
				t.Errorf("panel-title-description-rule: %q lacks a title or description", p.Title)
			}
			// panel-units-rule: numbers carry a unit.
			if (p.Type == "timeseries" || p.Type == "stat" || p.Type == "gauge") && p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("panel-units-rule: %q has no unit", p.Title)
			}
			for _, target := range p.Targets {
				// target-rate-interval-rule.
				for _, m := range rateWindow.FindAllStringSubmatch(target.Expr, -1) {
					if m[2] != "$__rate_interval" {
						t.Errorf("target-rate-interval-rule: %q uses %s over [%s]", p.Title, m[1], m[2])
					}
				}
			}
		}
	}
	walk(d.Panels)
}

type lintPanel struct {
	Type, Title, Description string
	Datasource               struct{ UID string }
	FieldConfig              struct {
		Defaults struct{ Unit string }
	}
	Targets []struct{ Expr string }
	Panels  []lintPanel
}

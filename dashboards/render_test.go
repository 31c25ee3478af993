package dashboards

import (
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ocspwatch/ocspwatch/alerts"
)

var update = flag.Bool("update", false, "rewrite ocspwatch.json from the mixin")

// The committed dashboard is the mixin's output with the default knobs,
// byte for byte.
func TestCommittedDashboardMatchesTheMixin(t *testing.T) {
	got, err := Render(alerts.DefaultMixinConfig())
	if err != nil {
		t.Fatal(err)
	}
	const path = "ocspwatch.json"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s drifted from the mixin; run go run ./alerts/gen and commit the result", path)
	}
}

// Issue 10: at 10,000 targets the dashboard must count targets, not
// series, bound every table, and link to where an operator acts.
func TestDashboardScalesToAFleet(t *testing.T) {
	d := load(t)
	bounded := regexp.MustCompile(`^(topk|bottomk)\(\$limit, `)
	links := map[string]bool{}
	var stapleAge bool
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			switch p.Type {
			case "stat":
				if strings.Contains(q.Expr, "ocsp_") && !strings.HasPrefix(q.Expr, "count(count by (target) (") && !strings.HasPrefix(q.Expr, "count(count by (responder) (") {
					t.Errorf("stat %q counts series, not targets: %s", p.Title, q.Expr)
				}
			case "table":
				// Per-target tables are bounded; per-responder and per-agent
				// ones have a row per responder or agent.
				if strings.Contains(q.Expr, `target=~"$target"`) && !bounded.MatchString(q.Expr) {
					t.Errorf("table %q is not topk-bounded: %s", p.Title, q.Expr)
				}
			}
		}
		for _, l := range p.FieldConfig.Defaults.Links {
			switch {
			case strings.Contains(l.URL, "/probe?target=${__data.fields.target}&debug=true"):
				links["probe"] = true
			case strings.HasSuffix(l.URL, "://${__data.fields.instance}/"):
				links["status page"] = true
			case strings.Contains(l.URL, "runbook.md"):
				links["runbook"] = true
			}
		}
		if strings.Contains(p.Title, "Staple age") && p.Type == "timeseries" {
			stapleAge = true
		}
	}
	for _, want := range []string{"probe", "status page", "runbook"} {
		if !links[want] {
			t.Errorf("no panel links to the %s", want)
		}
	}
	if !stapleAge {
		t.Error("no staple-age-over-time panel")
	}
	var alertAnnotations bool
	for _, a := range d.Annotations.List {
		alertAnnotations = alertAnnotations || strings.Contains(a.Expr, "ALERTS{")
	}
	if !alertAnnotations {
		t.Error("no alert annotations")
	}
}

// The knobs reach the output: a selector narrows every query, and the
// runbook base moves every runbook link.
func TestMixinKnobsApply(t *testing.T) {
	cfg := alerts.DefaultMixinConfig()
	cfg.OCSPSelector = `job="ocsp-eu"`
	cfg.RunbookURLBase = "https://wiki.example/ocsp#"
	out, err := Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "github.com/ocspwatch") || !strings.Contains(string(out), "https://wiki.example/ocsp#ocspstaplemissing") {
		t.Error("the runbook base did not move the links")
	}
	var d Dashboard
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	selectorRE := regexp.MustCompile(`\bocsp(watch)?_[a-z_]+(\{[^}]*\})?`)
	for _, expr := range d.RawExpressions() {
		for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
			if !strings.Contains(m[2], `job="ocsp-eu"`) {
				t.Errorf("selector missing in %s of %s", m[0], expr)
			}
		}
	}
	rules, err := alerts.RenderRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rules), `ocsp_staple_present{job="ocsp-eu"}`) || !strings.Contains(string(rules), "https://wiki.example/ocsp#ocspstaplemissing") {
		t.Error("the rules ignore the knobs")
	}
}

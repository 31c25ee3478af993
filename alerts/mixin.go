package alerts

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

// MixinConfig holds the knobs of the ocspwatch monitoring mixin, in the
// manner of a jsonnet mixin's _config: the committed rules and dashboard
// are rendered from DefaultMixinConfig, and `go run ./alerts/gen -config
// FILE` renders them for another setup from a JSON file with these keys.
type MixinConfig struct {
	// RunbookURLBase is prefixed to the lower-cased alert name.
	RunbookURLBase string `json:"runbookURLBase"`
	// DashboardURL, when set, is linked from every alert.
	DashboardURL string `json:"dashboardURL"`
	// AgentURLScheme is how alerts link to the agent's /probe and status
	// page at http(s)://INSTANCE.
	AgentURLScheme string `json:"agentURLScheme"`
	// OCSPSelector is added to every ocsp_* and ocspwatch_* selector,
	// e.g. `job="ocspwatch"`; empty selects every job.
	OCSPSelector string `json:"ocspSelector"`
	// AgentSelector selects the agents' `up` series.
	AgentSelector string `json:"agentSelector"`
	// HoldWindow is how long an alert holds its last known state while
	// its endpoint is unreachable.
	HoldWindow string `json:"holdWindow"`
	// StapleExpiringSeconds: OCSPStapleExpiring fires under this many
	// seconds to the staple's NextUpdate.
	StapleExpiringSeconds int `json:"stapleExpiringSeconds"`
	// ResponderSlowSeconds: OCSPResponderSlow fires when the p95 query
	// time over 15m exceeds it.
	ResponderSlowSeconds float64 `json:"responderSlowSeconds"`
	// ResponderStaleSeconds and ResponderLongWindowSeconds: the
	// Baseline Requirements' refresh rule (8h before NextUpdate for
	// windows of 16h or more).
	ResponderStaleSeconds      int `json:"responderStaleSeconds"`
	ResponderLongWindowSeconds int `json:"responderLongWindowSeconds"`
	// EverywhereMinRegions is how many regions must see a responder down
	// before OCSPResponderDownEverywhere claims it is down everywhere.
	EverywhereMinRegions int `json:"everywhereMinRegions"`
	// CRLNextUpdateSeconds: OCSPCRLNextUpdateNear fires when the newest
	// copy of a CRL that any region holds has under this many seconds to
	// its NextUpdate: the CA is late publishing the next one.
	CRLNextUpdateSeconds int `json:"crlNextUpdateSeconds"`
	// CustomLabels are target labels (config `labels`) that target alerts
	// copy from ocsp_target_info, so Alertmanager can route by them, e.g.
	// ["team"].
	CustomLabels []string `json:"customLabels"`
	// DashboardTopK bounds the dashboard's tables unless "show all" is
	// picked.
	DashboardTopK int `json:"dashboardTopK"`
}

// DefaultMixinConfig renders the committed files.
func DefaultMixinConfig() MixinConfig {
	return MixinConfig{
		RunbookURLBase:             "https://github.com/ocspwatch/ocspwatch/blob/main/alerts/runbook.md#",
		AgentURLScheme:             "http",
		AgentSelector:              `job=~"ocspwatch.*"`,
		HoldWindow:                 "1h",
		StapleExpiringSeconds:      7200,
		ResponderSlowSeconds:       1,
		ResponderStaleSeconds:      28800,
		ResponderLongWindowSeconds: 57600,
		EverywhereMinRegions:       2,
		CRLNextUpdateSeconds:       14400,
		DashboardTopK:              20,
	}
}

// LoadMixinConfig reads a JSON file of knobs over the defaults; unknown
// keys are errors.
func LoadMixinConfig(path string) (MixinConfig, error) {
	cfg := DefaultMixinConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Selector adds the OCSP selector to a metric selector: "m" or
// `m{a="b"}`.
func (c MixinConfig) Selector(metric string) string {
	if c.OCSPSelector == "" {
		return metric
	}
	if strings.HasSuffix(metric, "}") {
		return metric[:len(metric)-1] + ", " + c.OCSPSelector + "}"
	}
	return metric + "{" + c.OCSPSelector + "}"
}

//go:embed ocspwatch.rules.yml.tmpl
var rulesTemplate string

// infoLabels are copied onto target alerts from the info metrics, so
// the page names the site and certificate, and the responder label lets
// Alertmanager mute the alert behind an alert about its responder.
const (
	factLabels  = "server_name, endpoint, responder, serial, subject, issuer, must_staple"
	agentLabels = "region, instance"
)

// RenderRules renders the Prometheus rule file.
func RenderRules(c MixinConfig) ([]byte, error) {
	funcs := template.FuncMap{
		"m": c.Selector,
		// hold: cond with $1, $2… standing for the metrics; it holds the
		// last value seen within HoldWindow while the target is unreachable,
		// so a firing alert does not resolve because its series vanished.
		// on names the labels that identify one alert, so the two branches
		// never both contribute the same alert.
		"hold": func(on, cond string, metrics ...string) string {
			now, last := cond, cond
			for i, name := range metrics {
				ph := fmt.Sprintf("$%d", i+1)
				now = strings.ReplaceAll(now, ph, c.Selector(name))
				last = strings.ReplaceAll(last, ph, "last_over_time("+c.Selector(name)+"["+c.HoldWindow+"])")
			}
			return "(\n  " + now + "\n)\nor on (" + agentLabels + ", " + on + ")\n(\n  " + last + "\n  and on (" + agentLabels + ", target) ocspwatch:target_unreachable\n)"
		},
		// info joins the target's and its certificate's facts onto expr,
		// keeping elements that have none.
		"info": func(on, expr string) string {
			copied := factLabels
			for _, l := range c.CustomLabels {
				copied += ", " + l
			}
			return "(\n" + indent(expr) + "\n)\n* on (" + agentLabels + ", target) group_left (" + copied + ") ocspwatch:target_facts\n" +
				"or on (" + agentLabels + ", " + on + ")\n(\n" + indent(expr) + "\n)"
		},
		"lower": strings.ToLower,
		// indented indents a multi-line expression under `expr: |-`.
		"indented": func(s string) string { return strings.ReplaceAll(s, "\n", "\n          ") },
	}
	t, err := template.New("rules").Delims("[[", "]]").Funcs(funcs).Parse(rulesTemplate)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, c); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

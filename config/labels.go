package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Label modes: where a target's custom labels appear.
const (
	// LabelModeInfo puts custom labels on ocsp_target_info only; queries
	// join them with `* on (target) group_left (team) ocsp_target_info`.
	LabelModeInfo = "info"
	// LabelModeAll puts them on every series of the target as well, at
	// the cost of longer series.
	LabelModeAll = "all"
)

// Limits on custom labels: they are copied into every scrape, so a
// handful of short labels is all a target may carry.
const (
	MaxCustomLabels         = 8
	MaxCustomLabelValueByte = 128
)

// Label is one custom label of a target, after defaults were applied.
type Label struct {
	Name, Value string
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reservedLabelNames are set by ocspwatch itself, by Prometheus or by
// the bundled rules and Alertmanager example; a custom label with one of
// these names would overwrite or shadow them.
var reservedLabelNames = []string{
	"target", "address", "responder", "region", "reason", "result", "status", "phase",
	"endpoint", "server_name", "serial", "subject", "issuer", "not_after", "fingerprint_sha256",
	"must_staple", "staple_required", "posture", "tls_version", "tls_cipher", "alpn",
	"chain_verified", "chain_incomplete", "depth", "url", "source", "shard", "count",
	"revocation_reason", "version", "revision", "goversion",
	"job", "instance", "le", "quantile", "alertname", "severity", "scope",
}

// IsReservedLabelName reports whether a custom label may not use name;
// the exporter's tests check that every label of every metric is here.
func IsReservedLabelName(name string) bool { return slices.Contains(reservedLabelNames, name) }

// MetricLabels are the target's custom labels, the top-level [labels]
// overlaid by the target's own, sorted by name.
func (t *Target) MetricLabels() []Label { return t.metricLabels }

// LabelsOnEverySeries reports label_mode = "all".
func (t *Target) LabelsOnEverySeries() bool { return t.labelsOnAll }

func checkLabels(labels map[string]string) []string {
	var problems []string
	if len(labels) > MaxCustomLabels {
		problems = append(problems, fmt.Sprintf("%d labels, at most %d", len(labels), MaxCustomLabels))
	}
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		value := labels[name]
		switch {
		case !labelNameRE.MatchString(name):
			problems = append(problems, fmt.Sprintf("%q is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", name))
		case strings.HasPrefix(name, "__"):
			problems = append(problems, fmt.Sprintf("%q: names starting with __ are reserved for Prometheus", name))
		case slices.Contains(reservedLabelNames, name):
			problems = append(problems, fmt.Sprintf("%q is set by ocspwatch or Prometheus; choose another name", name))
		}
		switch {
		case value == "":
			problems = append(problems, fmt.Sprintf("%q has an empty value, which Prometheus treats as no label", name))
		case !utf8.ValidString(value) || len(value) > MaxCustomLabelValueByte:
			problems = append(problems, fmt.Sprintf("%q: the value must be valid UTF-8 of at most %d bytes", name, MaxCustomLabelValueByte))
		}
	}
	return problems
}

// validateLabels checks label_mode and the top-level labels table;
// mergeLabels then does each target.
func (c *Config) validateLabels(loc *locator, path string) []error {
	var errs []error
	if c.LabelMode == "" {
		c.LabelMode = LabelModeInfo
	}
	if c.LabelMode != LabelModeInfo && c.LabelMode != LabelModeAll {
		errs = append(errs, fmt.Errorf("%s:%d: label_mode: %q is not info or all", path, loc.lineOfGlobal("label_mode"), c.LabelMode))
	}
	if problems := checkLabels(c.Labels); len(problems) > 0 {
		line := loc.lineOfGlobal("labels")
		if line == 0 {
			line = loc.find(func(header string, _ int) bool { return header == "labels" }, slices.Sorted(maps.Keys(c.Labels))[0])
		}
		errs = append(errs, fmt.Errorf("%s:%d: labels: %s", path, line, strings.Join(problems, "; ")))
	}
	return errs
}

// mergeLabels checks a target's labels and gives it the merged labels,
// which its fingerprint then folds in, so a reload that changes only
// labels replaces the target's series.
func (c *Config) mergeLabels(t *Target, fail func(key, format string, args ...any)) {
	t.labelsOnAll = c.LabelMode == LabelModeAll
	t.metricLabels = nil
	if len(c.Labels) == 0 && len(t.Labels) == 0 {
		return
	}
	if problems := checkLabels(t.Labels); len(problems) > 0 {
		fail("labels", "%s", strings.Join(problems, "; "))
	}
	merged := maps.Clone(c.Labels)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, t.Labels)
	if len(merged) > MaxCustomLabels && len(t.Labels) <= MaxCustomLabels && len(c.Labels) <= MaxCustomLabels {
		fail("labels", "%d labels with the top-level ones, at most %d", len(merged), MaxCustomLabels)
	}
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		t.metricLabels = append(t.metricLabels, Label{Name: name, Value: merged[name]})
	}
}

package alerts

import (
	"fmt"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Rule is one alerting rule as written in ocspwatch.rules.yml.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// LoadRules reads the alerting rules of a Prometheus rule file, so the
// dashboard and end-to-end tests check against the same file Prometheus
// loads. Recording rules are left out.
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ruleFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rules []Rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				rules = append(rules, r)
			}
		}
	}
	return rules, nil
}

var metricNameRE = regexp.MustCompile(`\b(ocsp_[a-z_]+|ocspwatch_[a-z_]+)\b`)

// MetricNames lists the ocsp_* and ocspwatch_* metric names a PromQL
// expression uses.
func MetricNames(expr string) []string {
	return metricNameRE.FindAllString(expr, -1)
}

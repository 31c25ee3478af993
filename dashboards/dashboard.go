package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Dashboard is the part of a Grafana dashboard the tests read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Current struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

// Panel is one dashboard panel.
type Panel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Targets     []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Links []struct {
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"links"`
			Thresholds *struct {
				Steps []struct {
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

// Load reads a dashboard JSON file.
func Load(path string) (*Dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// Expressions lists every query of every panel. The variables that only
// bound or narrow a query ($limit, $responder) are set to their defaults,
// so a caller need only substitute $region, $target and Grafana's own
// $__ variables.
func (d *Dashboard) Expressions() []string {
	defaults := strings.NewReplacer("$limit", d.variableDefault("limit", "1000000"), "$responder", ".*")
	var out []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			if t.Expr != "" {
				out = append(out, defaults.Replace(t.Expr))
			}
		}
	}
	return out
}

// RawExpressions lists every query as written, variables and all.
func (d *Dashboard) RawExpressions() []string {
	var out []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			if t.Expr != "" {
				out = append(out, t.Expr)
			}
		}
	}
	return out
}

func (d *Dashboard) variableDefault(name, fallback string) string {
	for _, v := range d.Templating.List {
		if s, ok := v.Current.Value.(string); ok && v.Name == name && s != "" {
			return s
		}
	}
	return fallback
}

// Thresholds returns the colour threshold values of the panel with title.
func (d *Dashboard) Thresholds(title string) []float64 {
	var out []float64
	for _, p := range d.Panels {
		if p.Title != title || p.FieldConfig.Defaults.Thresholds == nil {
			continue
		}
		for _, s := range p.FieldConfig.Defaults.Thresholds.Steps {
			if s.Value != nil {
				out = append(out, *s.Value)
			}
		}
	}
	return out
}

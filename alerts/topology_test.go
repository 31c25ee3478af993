package alerts

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ocspwatch/ocspwatch/config"
)

// Issue 10: the shipped examples contradicted each other (region set in
// the agent and as a scrape label, giving exported_region), and the
// README offered external_labels, which rules never see. The chosen
// topology: the agent sets region; Prometheus adds none.
func TestDeployExamplesAgreeOnWhereRegionComesFrom(t *testing.T) {
	data, err := os.ReadFile("../deploy/prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		Global struct {
			ExternalLabels map[string]string `yaml:"external_labels"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string           `yaml:"job_name"`
			StaticConfigs []map[string]any `yaml:"static_configs"`
			Relabel       []map[string]any `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &prom); err != nil {
		t.Fatal(err)
	}
	if _, ok := prom.Global.ExternalLabels["region"]; ok {
		t.Error("prometheus.yml sets region in external_labels, which rules never see")
	}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			if labels, _ := st["labels"].(map[string]any); labels["region"] != nil {
				t.Errorf("job %s adds region as a scrape label: the agent's would become exported_region", sc.JobName)
			}
		}
		for _, r := range sc.Relabel {
			if r["target_label"] == "region" {
				t.Errorf("job %s relabels region: the agent's would become exported_region", sc.JobName)
			}
		}
	}

	cm, err := os.ReadFile("../deploy/kubernetes/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(cm, &doc); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(doc.Data["ocspwatch.toml"]), "configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region == "" {
		t.Error("the ConfigMap's agent sets no region")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(readme), "external_labels: {region") {
		t.Error("the README still offers external_labels as the way to set region")
	}
}

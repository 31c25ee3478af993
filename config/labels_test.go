package config

import (
	"reflect"
	"testing"
)

func TestLabelsMergeDefaultsAndMode(t *testing.T) {
	const file = `
label_mode = "all"

[labels]
team = "platform"
env = "prod"

[[target]]
name = "pay"
endpoint = "pay.example:443"
labels = { team = "payments" }

[[target]]
name = "www"
endpoint = "www.example:443"
`
	cfg, err := Parse([]byte(file), "mem.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target string
		want   []Label
	}{
		{
			target: "pay",
			want:   []Label{{"env", "prod"}, {"team", "payments"}},
		},
		{
			target: "www",
			want:   []Label{{"env", "prod"}, {"team", "platform"}},
		},
	} {
		t.Run(tc.target, func(t *testing.T) {
			for _, tg := range cfg.Targets {
				if tg.Name != tc.target {
					continue
				}
				if got := tg.MetricLabels(); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("labels %v, want %v", got, tc.want)
				}
				if !tg.LabelsOnEverySeries() {
					t.Error("label_mode = all is not applied")
				}
			}
		})
	}
}

func TestLabelModeDefaultsToInfo(t *testing.T) {
	cfg, err := Parse([]byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\n"), "mem.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LabelMode != LabelModeInfo || cfg.Targets[0].LabelsOnEverySeries() || cfg.Targets[0].MetricLabels() != nil {
		t.Errorf("label_mode %q, on every series %v, labels %v; want info, false, none", cfg.LabelMode, cfg.Targets[0].LabelsOnEverySeries(), cfg.Targets[0].MetricLabels())
	}
}

// A reload that changes only a label must replace the target, or its old
// labels would keep being exported.
func TestLabelsChangeTheFingerprint(t *testing.T) {
	parse := func(labels string) string {
		cfg, err := Parse([]byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\nlabels = "+labels+"\n"), "mem.toml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Targets[0].Fingerprint()
	}
	if parse(`{ team = "a" }`) == parse(`{ team = "b" }`) {
		t.Error("changing a label value keeps the fingerprint")
	}
}

func TestTooManyLabels(t *testing.T) {
	file := "[labels]\na1 = \"x\"\na2 = \"x\"\na3 = \"x\"\na4 = \"x\"\na5 = \"x\"\n[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\nlabels = { b1 = \"x\", b2 = \"x\", b3 = \"x\", b4 = \"x\" }\n"
	if _, err := Parse([]byte(file), "mem.toml"); err == nil {
		t.Error("nine labels after merging were accepted")
	}
}

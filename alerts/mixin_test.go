package alerts

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ocspwatch.rules.yml from the mixin")

// The committed rules are the mixin's output with the default knobs,
// byte for byte.
func TestCommittedRulesMatchTheMixin(t *testing.T) {
	got, err := RenderRules(DefaultMixinConfig())
	if err != nil {
		t.Fatal(err)
	}
	const path = "ocspwatch.rules.yml"
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
		t.Errorf("%s drifted from the mixin; run go run ./alerts/gen (or go test ./alerts -run Mixin -update) and commit the result", path)
	}
}

// Custom target labels reach target alerts when the mixin names them,
// so Alertmanager can route by team.
func TestCustomLabelsReachTargetAlerts(t *testing.T) {
	cfg := DefaultMixinConfig()
	cfg.CustomLabels = []string{"team"}
	out, err := RenderRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "group_left (server_name, endpoint, responder, serial, subject, issuer, must_staple, team) ocspwatch:target_facts") {
		t.Error("target alerts do not copy the team label")
	}
}

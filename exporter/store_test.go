package exporter

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ocspwatch/ocspwatch/config"
)

// parseTargets validates a configuration of the named targets; a name
// written "name=9s" gets that timeout, so its fingerprint differs.
func parseTargets(t *testing.T, specs ...string) []*config.Target {
	t.Helper()
	var b strings.Builder
	for _, s := range specs {
		name, timeout, _ := strings.Cut(s, "=")
		fmt.Fprintf(&b, "[[target]]\nname = %q\nendpoint = \"%s.example:443\"\n", name, name)
		if timeout != "" {
			fmt.Fprintf(&b, "timeout = %q\n", timeout)
		}
	}
	cfg, err := config.Parse([]byte(b.String()), "store.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Targets
}

func stateNames(states []*targetState) []string {
	var names []string
	for _, st := range states {
		names = append(names, st.name)
	}
	slices.Sort(names)
	return names
}

// TestStoreSync walks sync through reloads that keep targets in place,
// shift them, change, add and remove them: the states kept, removed and
// added must be the same whichever path (pointer in place, or name) found
// each target.
func TestStoreSync(t *testing.T) {
	s := newStore()
	abc := parseTargets(t, "a", "b", "c")
	removed, added := s.sync(abc)
	if len(removed) != 0 || !slices.Equal(stateNames(added), []string{"a", "b", "c"}) {
		t.Fatalf("first sync: removed %v added %v", stateNames(removed), stateNames(added))
	}
	a, b, c := s.get("a"), s.get("b"), s.get("c")

	steps := []struct {
		name    string
		targets []*config.Target
		removed []string
		added   []string
		kept    map[string]*targetState
	}{
		{
			name:    "the same targets again",
			targets: abc,
			kept:    map[string]*targetState{"a": a, "b": b, "c": c},
		},
		{
			name:    "equal targets, validated again",
			targets: parseTargets(t, "a", "b", "c"),
			kept:    map[string]*targetState{"a": a, "b": b, "c": c},
		},
		{
			name:    "one inserted at the front shifts the rest",
			targets: parseTargets(t, "z", "a", "b", "c"),
			added:   []string{"z"},
			kept:    map[string]*targetState{"a": a, "b": b, "c": c},
		},
		{
			name:    "one changed, one removed",
			targets: parseTargets(t, "z", "a=9s", "c"),
			removed: []string{"a", "b"},
			added:   []string{"a"},
			kept:    map[string]*targetState{"c": c},
		},
		{
			name:    "all removed",
			targets: nil,
			removed: []string{"a", "c", "z"},
		},
	}
	for _, step := range steps {
		removed, added := s.sync(step.targets)
		if got := stateNames(removed); !slices.Equal(got, step.removed) {
			t.Errorf("%s: removed %v, want %v", step.name, got, step.removed)
		}
		if got := stateNames(added); !slices.Equal(got, step.added) {
			t.Errorf("%s: added %v, want %v", step.name, got, step.added)
		}
		for name, st := range step.kept {
			if s.get(name) != st {
				t.Errorf("%s: %s lost its state", step.name, name)
			}
		}
		if len(s.states) != len(step.targets) {
			t.Errorf("%s: %d states for %d targets", step.name, len(s.states), len(step.targets))
		}
		for _, tg := range step.targets {
			if s.get(tg.Name) == nil {
				t.Errorf("%s: no state for %s", step.name, tg.Name)
			}
		}
	}
}

package main

import (
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/exporter"
	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/lint"
	"github.com/ocspwatch/ocspwatch/probe"
)

// These tests keep the README in step with the code: every metric, reason,
// config key and flag is documented, and nothing documented is missing.

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the README text under a heading, up to the next heading.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	start := strings.Index(doc, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	rest := doc[start+len(heading)+2:]
	if end := strings.Index(rest, "\n#"); end >= 0 {
		return rest[:end]
	}
	return rest
}

var firstCellRE = regexp.MustCompile("(?m)^\\| `([^`]+)`")

func tableKeys(text string) []string {
	var keys []string
	for _, m := range firstCellRE.FindAllStringSubmatch(text, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

func sameSet(t *testing.T, what string, documented, actual []string) {
	t.Helper()
	for _, a := range actual {
		if !slices.Contains(documented, a) {
			t.Errorf("%s %q is not documented in the README", what, a)
		}
	}
	for _, d := range documented {
		if !slices.Contains(actual, d) {
			t.Errorf("the README documents %s %q, which the code does not have", what, d)
		}
	}
}

func TestReadmeDocumentsEveryMetric(t *testing.T) {
	sameSet(t, "metric", tableKeys(section(t, readme(t), "## Metrics")), exporter.MetricNames())
}

func TestReadmeDocumentsEveryReason(t *testing.T) {
	var reasons []string
	for _, r := range probe.AllReasons() {
		reasons = append(reasons, string(r))
	}
	sameSet(t, "failure reason", tableKeys(section(t, readme(t), "### Failure reasons")), reasons)
}

func TestReadmeAndExampleDocumentEveryConfigKey(t *testing.T) {
	var keys []string
	tags := func(prefix string, v any) {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			tag := rt.Field(i).Tag.Get("toml")
			if tag == "" || tag == "responder" || tag == "target" || tag == "network" || (tag == "crl" && prefix == "") {
				continue
			}
			keys = append(keys, prefix+tag)
		}
	}
	tags("", config.Config{})
	tags("[responder] ", config.Responder{})
	tags("[network] ", config.Network{})
	tags("[crl] ", config.CRL{})
	tags("[[target]] ", config.Target{})
	sameSet(t, "config key", tableKeys(section(t, readme(t), "## Configuration")), keys)

	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		bare := k[strings.LastIndex(k, " ")+1:]
		if !regexp.MustCompile(`(?m)^#? ?` + regexp.QuoteMeta(bare) + ` = `).Match(example) {
			t.Errorf("config.example.toml does not show key %q", k)
		}
	}
}

func TestReadmeDocumentsEveryFlag(t *testing.T) {
	app, _ := newApp(io.Discard, io.Discard)
	var flags []string
	for _, cmd := range app.Model().Commands {
		for _, f := range cmd.Flags {
			if f.Name == "help" || f.Name == "issuer" {
				continue // kingpin's own, and the documented alias of --issuer-file
			}
			if !slices.Contains(flags, "--"+f.Name) {
				flags = append(flags, "--"+f.Name)
			}
		}
	}
	var documented []string
	for _, k := range tableKeys(section(t, readme(t), "### Flags")) {
		documented = append(documented, k)
	}
	sameSet(t, "flag", documented, flags)
}

func TestReadmeListsTheDemoFleet(t *testing.T) {
	doc := section(t, readme(t), "## Quick start")
	for _, target := range demo.Targets {
		if !strings.Contains(doc, "`"+target.Name+"`") {
			t.Errorf("the quick start does not list demo target %q (%s)", target.Name, target.Situation)
		}
	}
}

var lintFindingRowRE = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| (warning|critical) \\| ([a-z_]+) \\|")

func TestReadmeDocumentsEveryLintFinding(t *testing.T) {
	text := section(t, readme(t), "### Lint findings")
	var ids []string
	for _, id := range lint.AllIDs() {
		ids = append(ids, string(id))
	}
	sameSet(t, "lint finding", tableKeys(text), ids)
	rows := lintFindingRowRE.FindAllStringSubmatch(text, -1)
	if len(rows) != len(ids) {
		t.Errorf("%d finding rows have a severity and a check, want %d", len(rows), len(ids))
	}
	for _, row := range rows {
		id := lint.ID(row[1])
		if string(id.Severity()) != row[2] || string(id.Check()) != row[3] {
			t.Errorf("README says %s is %s in %s; the code says %s in %s", id, row[2], row[3], id.Severity(), id.Check())
		}
	}
}

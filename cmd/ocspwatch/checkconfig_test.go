package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	code, out, errOut := runCLI("check-config", "--config.file", "../../config.example.toml")
	if code != exitOK || !strings.Contains(out, "OK, 1 target(s)") || errOut != "" {
		t.Errorf("example config: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI("check-config", "--config.file", "../../config/testdata/invalid-schedule-step.toml")
	want := `../../config/testdata/invalid-schedule-step.toml:4: target "www-eu": schedule: "*/61 * * * *": minute field: step 61 is not below the field's 60 values (0-59)`
	if code != exitProblem || out != "" || strings.TrimSpace(errOut) != want {
		t.Errorf("invalid config: exit %d stdout %q stderr %q, want exit 1 and %q", code, out, errOut, want)
	}
	if code, _, errOut := runCLI("check-config", "--config.file", "/does/not/exist.toml"); code != exitProblem || !strings.Contains(errOut, "/does/not/exist.toml") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}

// TestCheckConfigReadsTargetFiles: check-config validates the fleet the
// agent would run, target files included.
func TestCheckConfigReadsTargetFiles(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "ocspwatch.toml")
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ocspwatch.toml", "target_files = [\"sd/*.json\"]\n")
	write("sd/web.json", `[{"targets": ["a.example:443", "b.example:443"]}]`)
	if code, out, errOut := runCLI("check-config", "--config.file", main); code != exitOK || !strings.Contains(out, "OK, 2 target(s)") {
		t.Errorf("exit %d %q %q", code, out, errOut)
	}
	write("sd/web.json", `[{"targets": ["a.example:443"], "labels": {"__param_timeout": "soon"}}]`)
	code, _, errOut := runCLI("check-config", "--config.file", main)
	if want := filepath.Join(dir, "sd/web.json") + `: entry 1: label __param_timeout: "soon" is not a duration`; code != exitProblem || !strings.Contains(errOut, want) {
		t.Errorf("exit %d %q, want %q", code, errOut, want)
	}
}

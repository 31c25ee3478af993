package main

import (
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

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionFlagAndCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runCLI(args...)
		if code != exitOK || !strings.HasPrefix(out, "ocspwatch, version ") || !strings.Contains(out, "revision: ") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

// TestBuiltBinaryCarriesTheRevision clones this checkout's HEAD into a
// temporary directory, builds the command there with a plain `go build`,
// and checks that --version and version print the commit. The clone is
// needed: the go command stamps builds inside a .git directory, and a
// git worktree has a .git file instead.
func TestBuiltBinaryCarriesTheRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the checkout and builds the binary")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout, so a build carries no revision: %v", err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if b, err := exec.Command("git", "clone", "-q", "--no-local", "--depth", "1", "file://"+strings.TrimSpace(string(top)), src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, b)
	}
	head, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ocspwatch")
	// -buildvcs=true is the default for a build in a checkout; spelled
	// out, it overrides a -buildvcs=false in GOFLAGS or the go env file.
	// Modules come from the local cache only, so nothing leaves the host.
	build := exec.Command(goCmd, "build", "-buildvcs=true", "-o", bin, "./cmd/ocspwatch")
	build.Dir = src
	build.Env = append(os.Environ(), "GOPROXY=off")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	rev := strings.TrimSpace(string(head))
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("revision: %s", rev)) {
			t.Errorf("%s %v: %v\n%s, want revision %s", bin, args, err, out, rev)
		}
	}
}

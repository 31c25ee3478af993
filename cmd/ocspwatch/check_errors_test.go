package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestCheckErrorNamesEndpointAndCauseOnce pins the exact one-line form.
func TestCheckErrorNamesEndpointAndCauseOnce(t *testing.T) {
	closed := loopback.ClosedAddr(t)
	code, out, errOut := runCLI("check", closed)
	if want := "ocspwatch: check " + closed + ": connect: connection refused\n"; code != exitError || out != "" || errOut != want {
		t.Errorf("exit %d stdout %q stderr %q, want %q", code, out, errOut, want)
	}
	code, _, errOut = runCLI("check", "https://"+closed+"/some/path")
	if want := "ocspwatch: check " + closed + ": connect: connection refused\n"; code != exitError || errOut != want {
		t.Errorf("https URL: exit %d stderr %q, want %q", code, errOut, want)
	}
}

// TestCheckAcceptsHTTPSURL: https://host:port/path is the endpoint
// host:port, and output is labelled with it.
func TestCheckAcceptsHTTPSURL(t *testing.T) {
	p := newLivePKI(t)
	addr := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	code, out, errOut := runCLI("check", "https://"+addr+"/some/path", "--ca-file", p.rootFile, "--no-responder")
	if code != exitOK || !strings.HasPrefix(out, "ocspwatch check "+addr+"\n") || !strings.Contains(out, "verdict: OK") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestCheckManyEndpoints: arguments and a targets file, checked
// concurrently; one block each, a summary, the worst exit code, and the
// JSON and nagios shapes.
func TestCheckManyEndpoints(t *testing.T) {
	p := newLivePKI(t)
	fresh := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	expiring := stapleServer(t, p, p.good, testpki.Good, 3*time.Hour)
	revoked := stapleServer(t, p, p.good, testpki.Revoked, 76*time.Hour)
	closed := loopback.ClosedAddr(t)
	file := filepath.Join(t.TempDir(), "targets")
	if err := os.WriteFile(file, []byte("# fleet\n\n  "+expiring+"  \n# "+revoked+" is commented out\nhttps://"+fresh+"/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"check", closed, "--targets-file", file, "--ca-file", p.rootFile, "--no-responder", "--concurrency", "2"}

	code, out, errOut := runCLI(base...)
	if code != exitError {
		t.Errorf("text: exit %d, want 2 for the unreachable one\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "ocspwatch check "); n != 3 {
		t.Errorf("text: %d blocks, want 3\n%s", n, out)
	}
	if !strings.HasSuffix(out, "\nsummary: UNKNOWN, 3 endpoints: 1 OK, 1 WARNING, 0 CRITICAL, 1 UNKNOWN\n") {
		t.Errorf("text: summary line missing\n%s", out)
	}
	if !strings.Contains(out, "verdict: UNKNOWN, connect: connection refused") {
		t.Errorf("text: the unreachable block lacks its cause\n%s", out)
	}

	code, out, _ = runCLI(append(base, "--output", "json")...)
	var doc manyJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if code != exitError || doc.SchemaVersion != 1 || doc.Verdict != "UNKNOWN" || doc.ExitCode != exitError || len(doc.Results) != 3 ||
		doc.Summary["OK"] != 1 || doc.Summary["WARNING"] != 1 || doc.Summary["UNKNOWN"] != 1 || doc.Summary["CRITICAL"] != 0 {
		t.Errorf("JSON: exit %d document %+v", code, doc)
	}
	for i, want := range []string{closed, expiring, fresh} {
		if i < len(doc.Results) && doc.Results[i].Target != want {
			t.Errorf("JSON: result %d is %s, want %s (the order named)", i, doc.Results[i].Target, want)
		}
	}
	if len(doc.Results) == 3 && (doc.Results[0].Error != "connect: connection refused" || doc.Results[1].Verdict != "WARNING") {
		t.Errorf("JSON: results %+v", doc.Results)
	}

	// A CRITICAL outranks an UNKNOWN, as Nagios ranks states.
	code, out, _ = runCLI(append(base, revoked, "--output", "nagios")...)
	perf := checkPluginOutput(t, code, out)
	if code != int(sevCritical) || !strings.HasPrefix(out, "OCSP CRITICAL - 4 endpoints: 1 OK, 1 WARNING, 1 CRITICAL, 1 UNKNOWN") {
		t.Errorf("nagios: exit %d\n%s", code, out)
	}
	for _, ep := range []string{expiring, fresh, revoked} {
		if perf[ep+" staple_ttl"] == nil {
			t.Errorf("nagios: no perfdata %q in %v", ep+" staple_ttl", perf)
		}
		if !strings.Contains(out, "\n"+ep+": ") {
			t.Errorf("nagios: no long-text line for %s\n%s", ep, out)
		}
	}
}

func TestCheckTargetsFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	empty := filepath.Join(dir, "empty")
	big := filepath.Join(dir, "big")
	_ = os.WriteFile(bad, []byte("127.0.0.1:1\n# ok\nhttp://x.test/\n"), 0o600)
	_ = os.WriteFile(empty, []byte("# nothing\n\n"), 0o600)
	_ = os.WriteFile(big, []byte(strings.Repeat("#\n", maxTargetsFileBytes)), 0o600)
	for _, tc := range []struct {
		file, want string
	}{
		{bad, bad + `:3 "http://x.test/": endpoint:`},
		{empty, "names no endpoint"},
		{big, "more than the"},
		{dir, "is a directory"},
	} {
		code, out, errOut := runCLI("check", "--targets-file", tc.file)
		if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d stdout %q stderr %q, want one line with %q", tc.file, code, out, errOut, tc.want)
		}
	}
}

// TestCheckSavesDERThatOpenSSLReads: the saved staple and response are
// the DER that `openssl ocsp -respin` reads.
func TestCheckSavesDERThatOpenSSLReads(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.good.Cert}})
	addr := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	dir := t.TempDir()
	stapleFile, responseFile := filepath.Join(dir, "staple.der"), filepath.Join(dir, "response.der")
	code, out, errOut := runCLI("check", loopback.ClosedAddr(t), addr, "--ca-file", p.rootFile, "--url", resp.URL,
		"--staple-out", stapleFile, "--response-out", responseFile)
	if code != exitError || errOut != "" {
		t.Fatalf("exit %d, want 2 (one endpoint unreachable) and no error\n%s%s", code, out, errOut)
	}
	for _, f := range []struct {
		path, want string
	}{
		{stapleFile, "Next Update: "},
		{responseFile, "Cert Status: good"},
	} {
		text, err := exec.Command(openssltest.Require(t), "ocsp", "-respin", f.path, "-resp_text", "-noverify").CombinedOutput()
		if err != nil || !strings.Contains(string(text), "OCSP Response Status: successful") || !strings.Contains(string(text), f.want) {
			t.Errorf("openssl ocsp -respin %s: %v\n%s", filepath.Base(f.path), err, text)
		}
	}

	code, _, errOut = runCLI("check", stapleServer(t, p, p.good, 0, 0), "--ca-file", p.rootFile, "--no-responder", "--staple-out", filepath.Join(dir, "none.der"))
	if code != exitError || !strings.Contains(errOut, "--staple-out: no endpoint sent a staple") {
		t.Errorf("nothing to save: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.der")); err == nil {
		t.Error("a file was written with no staple to save")
	}
}

// TestCheckManyEndpointsBoundsConcurrency: loopback listeners that hold
// each connection a while count how many are open at once.
func TestCheckManyEndpointsBoundsConcurrency(t *testing.T) {
	var mu sync.Mutex
	open, most := 0, 0
	var addrs []string
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		addrs = append(addrs, ln.Addr().String())
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				open++
				most = max(most, open)
				mu.Unlock()
				time.Sleep(200 * time.Millisecond)
				mu.Lock()
				open--
				mu.Unlock()
				_ = conn.Close()
			}
		}()
	}
	code, out, errOut := runCLI(append([]string{"check", "--concurrency", "2", "--no-responder"}, addrs...)...)
	if code != exitError || !strings.Contains(out, "summary: UNKNOWN, 5 endpoints: 0 OK, 0 WARNING, 0 CRITICAL, 5 UNKNOWN") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 2 {
		t.Errorf("%d connections were open at once, want --concurrency 2", most)
	}
}

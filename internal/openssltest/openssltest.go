// Package openssltest runs Debian's `openssl ocsp` as a real, independent
// OCSP responder for tests, so ocspwatch is checked against software this
// project did not write. The test command installs openssl; a missing
// binary fails the test rather than skipping it.
package openssltest

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// Require fails the test when the openssl binary is missing.
func Require(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not installed; run the README's test command, which installs it: %v", err)
	}
	return path
}

// IndexEntry is one line of an `openssl ca` style index.
type IndexEntry struct {
	Cert      *x509.Certificate
	Revoked   bool
	RevokedAt time.Time
}

// Responder is a running `openssl ocsp` process.
type Responder struct {
	URL    string
	Dir    string
	Port   string
	cmd    *exec.Cmd
	output *syncBuffer
	args   []string
}

// WriteFile writes data under dir and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// StartResponder starts `openssl ocsp` answering for certificates issued
// by issuer, signing with signer (the issuer itself or a delegated
// responder), with a NextUpdate one hour out. openssl's -port takes no
// address, so it listens on every interface; tests only reach it on
// 127.0.0.1.
func StartResponder(t testing.TB, issuer, signer *testpki.Cert, entries []IndexEntry) *Responder {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	var index strings.Builder
	for _, e := range entries {
		status, revoked := "V", ""
		if e.Revoked {
			status, revoked = "R", e.RevokedAt.UTC().Format("060102150405Z")+",keyCompromise"
		}
		fmt.Fprintf(&index, "%s\t%s\t%s\t%X\tunknown\t%s\n", status, e.Cert.NotAfter.UTC().Format("060102150405Z"), revoked, e.Cert.SerialNumber, opensslDN(e.Cert))
	}
	r := &Responder{Dir: dir}
	r.args = []string{"ocsp", "-index", WriteFile(t, dir, "index.txt", []byte(index.String())),
		"-CA", WriteFile(t, dir, "ca.pem", issuer.PEM()),
		"-rsigner", WriteFile(t, dir, "signer.pem", signer.PEM()),
		"-rkey", WriteFile(t, dir, "signer.key", signer.KeyPEM()),
		"-nmin", "60", "-ignore_err"}
	r.Port = freePort(t)
	r.URL = "http://127.0.0.1:" + r.Port
	r.start(t, bin)
	t.Cleanup(r.Stop)
	return r
}

func (r *Responder) start(t testing.TB, bin string) {
	t.Helper()
	r.output = &syncBuffer{}
	r.cmd = exec.Command(bin, append(r.args, "-port", r.Port)...)
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start openssl ocsp: %v", err)
	}
	// openssl announces readiness on its output. A TCP connect would be
	// the usual check, but openssl 3.0 stalls forever on a connection that
	// closes without sending a request, so none is opened before it is up.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.output.String(), "waiting for OCSP client connections") {
		if time.Now().After(deadline) {
			r.Stop()
			t.Fatalf("openssl ocsp did not start on port %s:\n%s", r.Port, r.output)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts the responder again on the same port after Stop.
func (r *Responder) Restart(t testing.TB) {
	t.Helper()
	r.start(t, Require(t))
}

// Stop kills the responder; it is safe to call twice.
func (r *Responder) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// opensslDN renders a subject the way `openssl ca` writes it in an index.
func opensslDN(c *x509.Certificate) string {
	var b strings.Builder
	for _, o := range c.Subject.Organization {
		b.WriteString("/O=" + o)
	}
	b.WriteString("/CN=" + c.Subject.CommonName)
	return b.String()
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FetchDER asks the responder about leaf with the openssl client and
// returns the DER response, for a test server to staple.
func (r *Responder) FetchDER(t testing.TB, issuer, leaf *testpki.Cert) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "resp.der")
	cmd := exec.Command(Require(t), "ocsp", "-issuer", WriteFile(t, dir, "issuer.pem", issuer.PEM()),
		"-cert", WriteFile(t, dir, "leaf.pem", leaf.PEM()), "-url", r.URL, "-respout", out, "-noverify", "-timeout", "10")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl ocsp client: %v\n%s", err, msg)
	}
	der, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

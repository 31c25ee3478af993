// Package openssltest runs Debian's `openssl ocsp` as a real, independent
// OCSP responder for tests, so ocspwatch is checked against software this
// project did not write. The test command installs openssl; a missing
// binary fails the test rather than skipping it.
package openssltest

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
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

// Index renders entries as an `openssl ca` index file.
func Index(entries []IndexEntry) string {
	var index strings.Builder
	for _, e := range entries {
		status, revoked := "V", ""
		if e.Revoked {
			status, revoked = "R", e.RevokedAt.UTC().Format("060102150405Z")+",keyCompromise"
		}
		// openssl ca reads the serial as whole bytes: an odd number of hex
		// digits is "bad serial number length".
		serial := fmt.Sprintf("%X", e.Cert.SerialNumber)
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
		fmt.Fprintf(&index, "%s\t%s\t%s\t%s\tunknown\t%s\n", status, e.Cert.NotAfter.UTC().Format("060102150405Z"), revoked, serial, opensslDN(e.Cert))
	}
	return index.String()
}

// Files are the PEM files an `openssl ocsp` responder reads.
type Files struct {
	Index, CA, Signer, SignerKey string
	// ByKey makes the responder identify itself by key hash (-resp_key_id).
	ByKey bool
	// ClockOffset, such as "-2h", runs the responder under faketime with
	// its clock moved by that much, so it signs answers whose ThisUpdate
	// and NextUpdate (an hour later) lie in the past or the future.
	ClockOffset string
}

// Responder is a running `openssl ocsp` process.
type Responder struct {
	URL   string
	Port  string
	files Files
	proc  *proc.Process
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
// responder), with a NextUpdate one hour out.
func StartResponder(t testing.TB, issuer, signer *testpki.Cert, entries []IndexEntry) *Responder {
	t.Helper()
	dir := t.TempDir()
	return StartFiles(t, Files{
		Index:     WriteFile(t, dir, "index.txt", []byte(Index(entries))),
		CA:        WriteFile(t, dir, "ca.pem", issuer.PEM()),
		Signer:    WriteFile(t, dir, "signer.pem", signer.PEM()),
		SignerKey: WriteFile(t, dir, "signer.key", signer.KeyPEM()),
	}, proc.FreePort(t))
}

// StartFiles starts `openssl ocsp` from files on a chosen port. openssl's
// -port takes no address, so it listens on every interface; tests only
// reach it on 127.0.0.1.
func StartFiles(t testing.TB, files Files, port string) *Responder {
	t.Helper()
	r := &Responder{URL: "http://127.0.0.1:" + port, Port: port, files: files}
	r.Restart(t)
	return r
}

// Restart starts the responder (again, after Stop) on the same port.
func (r *Responder) Restart(t testing.TB) {
	t.Helper()
	args := []string{"ocsp", "-index", r.files.Index, "-CA", r.files.CA,
		"-rsigner", r.files.Signer, "-rkey", r.files.SignerKey, "-nmin", "60", "-ignore_err", "-port", r.Port}
	if r.files.ByKey {
		args = append(args, "-resp_key_id")
	}
	bin := Require(t)
	if r.files.ClockOffset != "" {
		// env execs openssl in its place with libfaketime preloaded, so
		// the process that Stop signals is openssl itself; the faketime
		// command would fork, and leave openssl running when killed.
		bin, args = "/usr/bin/env", append(append(FaketimeEnv(t, r.files.ClockOffset), bin), args...)
	}
	r.proc = proc.Start(t, bin, args...)
	// openssl announces readiness on its output. A TCP connect would be
	// the usual check, but openssl 3.0 stalls forever on a connection that
	// closes without sending a request, so none is opened before it is up.
	r.proc.WaitOutput(t, "waiting for OCSP client connections", 10*time.Second)
}

// FaketimeEnv is the environment that runs a program with its clock moved
// by offset (such as "-2h"), through Debian's libfaketime.
func FaketimeEnv(t testing.TB, offset string) []string {
	t.Helper()
	return []string{"LD_PRELOAD=" + FaketimeLib(t), "FAKETIME=" + offset}
}

// FaketimeLib is the path of Debian's libfaketime, for a program to be
// run with LD_PRELOAD and libfaketime's other variables.
func FaketimeLib(t testing.TB) string {
	t.Helper()
	libs, _ := filepath.Glob("/usr/lib/*/faketime/libfaketime.so.1")
	if len(libs) == 0 {
		t.Fatal("libfaketime is not installed; run the README's test command, which installs Debian's faketime")
	}
	return libs[0]
}

// Output is what the responder printed, including one line per request.
func (r *Responder) Output() string { return r.proc.Output() }

// Stop kills the responder; it is safe to call twice.
func (r *Responder) Stop() { r.proc.Stop() }

// opensslDN renders a subject the way `openssl ca` writes it in an index.
func opensslDN(c *x509.Certificate) string {
	var b strings.Builder
	for _, o := range c.Subject.Organization {
		b.WriteString("/O=" + o)
	}
	b.WriteString("/CN=" + c.Subject.CommonName)
	return b.String()
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

// CRLOptions are what `openssl ca -gencrl` signs a CRL from.
type CRLOptions struct {
	// CA and CAKey are the PEM files of the CRL's issuer.
	CA, CAKey string
	// Entries are the CA's database; the revoked ones are listed.
	Entries []IndexEntry
	// Hours is NextUpdate - ThisUpdate; 0 means a day.
	Hours int
	// ClockOffset, such as "-2h", runs openssl under faketime with its
	// clock moved by that much, for a CRL whose window lies in the past.
	ClockOffset string
}

// GenCRL has `openssl ca -gencrl` sign a CRL, as a CA's own tooling does,
// and writes it to out in DER, the form CRLs are served in over HTTP
// (RFC 5280 §4.2.1.13).
func GenCRL(t testing.TB, out string, opts CRLOptions) {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	index := WriteFile(t, dir, "index.txt", []byte(Index(opts.Entries)))
	WriteFile(t, dir, "index.txt.attr", []byte("unique_subject = no\n"))
	crlnumber := WriteFile(t, dir, "crlnumber", []byte("1000\n"))
	config := WriteFile(t, dir, "ca.cnf", []byte(fmt.Sprintf(`[ ca ]
default_ca = CA_default

[ CA_default ]
database         = %s
crlnumber        = %s
certificate      = %s
private_key      = %s
default_md       = sha256
default_crl_days = 1
crl_extensions   = crl_ext

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`, index, crlnumber, opts.CA, opts.CAKey)))
	pemOut := filepath.Join(dir, "crl.pem")
	args := []string{"ca", "-gencrl", "-batch", "-config", config, "-out", pemOut}
	if opts.Hours > 0 {
		args = append(args, "-crlhours", fmt.Sprint(opts.Hours))
	}
	cmd := exec.Command(bin, args...)
	if opts.ClockOffset != "" {
		cmd.Env = append(os.Environ(), FaketimeEnv(t, opts.ClockOffset)...)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	if msg, err := exec.Command(bin, "crl", "-in", pemOut, "-outform", "DER", "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("openssl crl -outform DER: %v\n%s", err, msg)
	}
}

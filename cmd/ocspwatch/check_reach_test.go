package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/daemons"
	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestCheckSTARTTLSAgainstStaplingExim: `check --starttls smtp` against a
// real Exim that staples (tls_ocsp_file) shows the staple's verdict, and
// so does the smtp:// form of the endpoint.
func TestCheckSTARTTLSAgainstStaplingExim(t *testing.T) {
	now := time.Now()
	root, err := testpki.NewRoot("Check Exim Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Check Exim Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{"http://127.0.0.1:1/ocsp"}, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	staple := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(24*time.Hour))},
		ProducedAt: now.Add(-time.Hour), Signer: inter}.MustDER()
	exim := daemons.StartExim(t, daemons.TLSFiles{ChainPEM: append(leaf.PEM(), inter.PEM()...), KeyPEM: leaf.KeyPEM(), StapleDER: staple}, true)
	rootFile := openssltest.WriteFile(t, t.TempDir(), "root.pem", root.PEM())

	for _, args := range [][]string{
		{"check", "--starttls", "smtp", exim},
		{"check", "smtp://" + exim},
	} {
		args = append(args, "--servername", "localhost", "--ca-file", rootFile, "--no-responder")
		code, out, errOut := runCLI(args...)
		if code != exitOK || !strings.Contains(out, "staple       present, valid") || !strings.Contains(out, "status       good") || !strings.Contains(out, "verdict: OK") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// Without the dialogue, the SMTP greeting is no TLS handshake.
	code, _, errOut := runCLI("check", exim, "--servername", "localhost", "--ca-file", rootFile, "--no-responder")
	if code == exitOK || !strings.Contains(errOut, "tls_handshake") {
		t.Errorf("plain TLS to an SMTP port: exit %d %s", code, errOut)
	}
}

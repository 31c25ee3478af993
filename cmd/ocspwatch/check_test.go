package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// livePKI is valid around the real clock, since `check` runs on it and
// `openssl ocsp` signs with it.
type livePKI struct {
	root, inter, signer, good, revoked, mustStaple *testpki.Cert
	rootFile, interFile, goodFile, revokedFile     string
}

func newLivePKI(t *testing.T) *livePKI {
	t.Helper()
	now := time.Now()
	p := &livePKI{}
	var err error
	must := func(c *testpki.Cert, e error) *testpki.Cert {
		if e != nil {
			t.Fatal(e)
		}
		return c
	}
	p.root = must(testpki.NewRoot("Check Root", testpki.ECDSAP256))
	p.inter = must(p.root.NewIntermediate("Check Intermediate", testpki.ECDSAP256))
	p.signer = must(p.inter.NewResponder("Check OCSP Signer", testpki.ResponderOptions{NoCheck: true}))
	_ = err
	opts := func(ms bool) testpki.LeafOptions {
		return testpki.LeafOptions{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour), MustStaple: ms, OCSPServers: []string{"http://127.0.0.1:1/unused"}}
	}
	p.good = must(p.inter.NewLeaf(opts(false)))
	p.revoked = must(p.inter.NewLeaf(opts(false)))
	p.mustStaple = must(p.inter.NewLeaf(opts(true)))
	dir := t.TempDir()
	p.rootFile = openssltest.WriteFile(t, dir, "root.pem", p.root.PEM())
	p.interFile = openssltest.WriteFile(t, dir, "inter.pem", p.inter.PEM())
	p.goodFile = openssltest.WriteFile(t, dir, "good.pem", p.good.PEM())
	p.revokedFile = openssltest.WriteFile(t, dir, "revoked.pem", p.revoked.PEM())
	return p
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckAgainstOpenSSLStaplesOnTLS12And13(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{
		{Cert: p.good.Cert}, {Cert: p.revoked.Cert, Revoked: true, RevokedAt: time.Now().Add(-time.Hour)},
	})
	goodStaple := resp.FetchDER(t, p.inter, p.good)
	for _, v := range []struct {
		name    string
		version uint16
	}{{"TLS 1.2", tls.VersionTLS12}, {"TLS 1.3", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			srv, err := testpki.NewTLSServer(p.good, goodStaple, testpki.ServerOptions{MaxVersion: v.version, MinVersion: v.version})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			// openssl ocsp staples a NextUpdate an hour out, under the
			// default --crit 2h.
			code, out, errOut := runCLI("check", srv.Addr, "--servername", "localhost", "--ca-file", p.rootFile, "--url", resp.URL, "--method", "post", "--warn", "20m", "--crit", "10m")
			if code != exitOK {
				t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
			}
			for _, want := range []string{v.name, "present, valid", "status       good", "signer       delegated CN=Check OCSP Signer, ocsp-nocheck", "(expires in 5", "verified against the trust roots", "must-staple  no", "POST, HTTP 200", "the responders give the same status as the staple", "verdict: OK"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestCheckCatchesRevokedCertificateStillStapledGood(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.revoked.Cert}})
	// Staple while the CA still says good, then revoke: the server keeps
	// serving the old "good" staple.
	staple := resp.FetchDER(t, p.inter, p.revoked)
	resp.Stop()
	revokedResp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.revoked.Cert, Revoked: true, RevokedAt: time.Now().Add(-time.Minute)}})
	srv, err := testpki.NewTLSServer(p.revoked, staple, testpki.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, method := range []string{"get", "post"} {
		code, out, _ := runCLI("check", srv.Addr, "--ca-file", p.rootFile, "--url", revokedResp.URL, "--method", method, "--output", "json")
		if code != exitProblem {
			t.Fatalf("%s: exit %d, want 1\n%s", method, code, out)
		}
		var doc checkJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%s: JSON output does not parse: %v\n%s", method, err, out)
		}
		reasons := map[string]bool{}
		for _, f := range doc.Failures {
			reasons[f.Reason] = true
		}
		if !reasons["staple_responder_disagree"] || !reasons["response_revoked"] || len(doc.Failures) != 2 {
			t.Errorf("%s: failures %+v, want the disagreement and the revocation", method, doc.Failures)
		}
		e, r := doc.Endpoints[0], doc.Responders[0]
		if e.Staple == nil || e.Staple.CertStatus != "good" || !e.Staple.Valid || e.ResponderAgrees == nil || *e.ResponderAgrees {
			t.Errorf("%s: endpoint %+v", method, e)
		}
		if r.Method != strings.ToUpper(method) || r.HTTPStatus != 200 || r.Response == nil || r.Response.CertStatus != "revoked" || r.Response.RevokedAt == nil || !r.Up {
			t.Errorf("%s: responder %+v", method, r)
		}
		if doc.SchemaVersion != 1 || doc.ExitCode != 1 || doc.Success || doc.Certificate == nil || doc.Certificate.Posture != "ocsp" {
			t.Errorf("%s: document header %+v", method, doc)
		}
	}
}

func TestCheckTestPKIStaples(t *testing.T) {
	p := newLivePKI(t)
	now := time.Now()
	staple := func(leaf *testpki.Cert, next time.Time) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), next)}, ProducedAt: now.Add(-time.Hour), Signer: p.inter}.MustDER()
	}
	respGood := testpki.NewResponder(func(q testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.good, testpki.Good, now.Add(-time.Hour), now.Add(2*time.Hour))}, ProducedAt: now, Signer: p.inter, Nonce: q.Nonce}.MustDER()
	})
	defer respGood.Close()
	cases := []struct {
		name    string
		leaf    *testpki.Cert
		staple  []byte
		args    []string
		code    int
		want    []string
		version uint16
	}{
		{"TLS 1.3 good with nonce", p.good, staple(p.good, now.Add(76*time.Hour)), []string{"--nonce", "--url", respGood.URL}, exitOK, []string{"TLS 1.3", "expires in 3d3h", "nonce        echoed", "verdict: OK"}, tls.VersionTLS13},
		{"TLS 1.2 expired staple", p.good, staple(p.good, now.Add(-time.Minute)), []string{"--no-responder"}, exitProblem, []string{"TLS 1.2", "INVALID", "expired 1m", "the staple is past its NextUpdate"}, tls.VersionTLS12},
		{"must-staple without staple", p.mustStaple, nil, []string{"--no-responder"}, exitProblem, []string{"must-staple  yes", "none sent", "the certificate is must-staple but the server sent no staple"}, 0},
		{"no staple, not required", p.good, nil, []string{"--no-responder"}, exitOK, []string{"none sent", "verdict: OK"}, 0},
		{"no staple, required", p.good, nil, []string{"--no-responder", "--require-staple", "true"}, exitProblem, []string{"the server sent no OCSP staple"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := testpki.NewTLSServer(tc.leaf, tc.staple, testpki.ServerOptions{MaxVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			code, out, errOut := runCLI(append([]string{"check", srv.Addr, "--ca-file", p.rootFile}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestCheckResponderOnly(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.good.Cert}})
	for _, method := range []string{"get", "post"} {
		// openssl ocsp answers with a NextUpdate an hour out.
		code, out, errOut := runCLI("check", "--cert", p.goodFile, "--issuer", p.interFile, "--url", resp.URL, "--method", method, "--warn", "20m", "--crit", "10m")
		if code != exitOK || !strings.Contains(out, strings.ToUpper(method)+", HTTP 200") || !strings.Contains(out, "status       good") {
			t.Errorf("%s: exit %d\n%s%s", method, code, out, errOut)
		}
	}
	code, _, errOut := runCLI("check", "--cert", p.goodFile, "--issuer", p.rootFile, "--url", resp.URL)
	if code != exitError || !strings.Contains(errOut, "did not issue") {
		t.Errorf("wrong issuer: exit %d %q", code, errOut)
	}
}

func TestCheckBadInputIsOneLine(t *testing.T) {
	closedAddr, notTLS := loopback.ClosedAddr(t), loopback.Banner(t, "SSH-2.0-OpenSSH_9.2\r\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", closedAddr}, "check " + closedAddr + ": connect:"},
		{[]string{"check", notTLS}, "check " + notTLS + ": tls_handshake:"},
		// An invalid DNS name fails inside the resolver, with no packet sent.
		{[]string{"check", "no..such..host"}, `check no..such..host:443: dns:`},
		{[]string{"check", "--timeout", "soon", "x"}, "--timeout:"},
		{[]string{"check", "--method", "put", "x"}, "--method:"},
		{[]string{"check", "--ca-file", "/does/not/exist", "x"}, "--ca-file:"},
		{[]string{"check", "http://example.test/"}, "is not https"},
		{[]string{"check", "--cert", "/etc/hostname"}, "--cert needs --issuer-file"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d stdout %q stderr %q, want exit 2 and one line with %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestCheckTextEscapesRemoteText: a subject or a problem detail carrying
// ESC, BEL and CR must not forge a "verdict: OK" line on a terminal.
func TestCheckTextEscapesRemoteText(t *testing.T) {
	forged := "evil\x1b[2K\r\averdict: OK\nverdict: OK"
	rep := &probe.Report{
		Cert:     &probe.CertInfo{Subject: "CN=" + forged, Issuer: "CN=ca", SerialNumber: "1", NotAfter: time.Unix(0, 0)},
		Failures: []probe.Problem{{Reason: probe.ReasonStapleMissing, Detail: forged}},
	}
	var out bytes.Buffer
	writeText(&out, rep, "host:443", judge(rep, "host:443", thresholds{warn: 4 * time.Hour, crit: 2 * time.Hour}, time.Unix(0, 0)), time.Unix(0, 0))
	text := out.String()
	if strings.ContainsAny(text, "\x1b\r\a") {
		t.Errorf("raw control characters reached the output: %q", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "verdict: OK" {
			t.Errorf("a forged verdict line was printed:\n%s", text)
		}
	}
}

// TestCheckPinnedSignerAgainstOpenSSL: `openssl ocsp -rsigner` signs with
// a certificate that lacks id-kp-OCSPSigning. Without a pin the answer is
// rejected; with --va-file naming that signer it is accepted and reported
// as pinned, as `openssl ocsp -VAfile` would.
func TestCheckPinnedSignerAgainstOpenSSL(t *testing.T) {
	p := newLivePKI(t)
	noEKU, err := p.inter.NewResponder("Signer Without EKU", testpki.ResponderOptions{NoEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.inter.NewResponder("Another Signer", testpki.ResponderOptions{NoEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pinFile := openssltest.WriteFile(t, dir, "va.pem", noEKU.PEM())
	otherFile := openssltest.WriteFile(t, dir, "other.pem", other.PEM())
	resp := openssltest.StartResponder(t, p.inter, noEKU, []openssltest.IndexEntry{{Cert: p.good.Cert}})
	base := []string{"check", "--cert", p.goodFile, "--issuer", p.interFile, "--url", resp.URL, "--warn", "20m", "--crit", "10m"}

	code, out, errOut := runCLI(base...)
	if code != exitProblem || !strings.Contains(out, "lacks the id-kp-OCSPSigning") {
		t.Errorf("without a pin: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append(base, "--va-file", otherFile)...)
	if code != exitProblem || !strings.Contains(out, "the response was signed by a certificate that may not sign") {
		t.Errorf("pinning another signer: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append(base, "--va-file", pinFile, "--output", "json")...)
	if code != exitOK || !strings.Contains(out, `"kind": "pinned"`) {
		t.Errorf("with the signer pinned: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckOffersALPN: a server that refuses handshakes without "h2" is
// reached with the default ALPN and refused with none.
func TestCheckOffersALPN(t *testing.T) {
	p := newLivePKI(t)
	srv, err := testpki.NewTLSServer(p.good, nil, testpki.ServerOptions{RequireALPN: "h2"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	code, out, errOut := runCLI("check", srv.Addr, "--ca-file", p.rootFile, "--no-responder")
	if code != exitOK || !strings.Contains(out, "ALPN h2") {
		t.Errorf("default ALPN: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI("check", srv.Addr, "--ca-file", p.rootFile, "--no-responder", "--alpn", "none")
	if code != exitError || !strings.Contains(errOut, "tls_handshake") {
		t.Errorf("no ALPN: exit %d %s", code, errOut)
	}
}

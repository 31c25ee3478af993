package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestCheckCRLOnlyCertificate: a certificate that names only a CRL is
// checked against it; listed, check exits 1 and says so.
func TestCheckCRLOnlyCertificate(t *testing.T) {
	root, err := testpki.NewRoot("CRL Check Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("CRL Check Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	var crlDER []byte
	var downloads atomic.Int64
	crlServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		downloads.Add(1)
		_, _ = w.Write(crlDER)
	}))
	defer crlServer.Close()
	now := time.Now()
	good, err := inter.NewLeaf(testpki.LeafOptions{CRLServers: []string{crlServer.URL + "/inter.crl"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := inter.NewLeaf(testpki.LeafOptions{CRLServers: []string{crlServer.URL + "/inter.crl"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	crlDER = inter.MustCRL([]testpki.CRLEntry{{Cert: revoked, At: now.Add(-time.Hour), ReasonCode: 1}}, now.Add(-time.Hour), now.Add(24*time.Hour))
	dir := t.TempDir()
	rootFile := openssltest.WriteFile(t, dir, "root.pem", root.PEM())

	for _, tc := range []struct {
		name string
		leaf *testpki.Cert
		args []string
		code int
		want []string
	}{
		{name: "good", leaf: good, code: exitOK, want: []string{"crl  ", "good: not listed among 1 entries", "verdict: OK"}},
		{name: "revoked", leaf: revoked, code: exitProblem, want: []string{"revoked (CRL) at", "keyCompromise", "the CRL lists the certificate as revoked"}},
		{name: "revoked, CRLs off", leaf: revoked, args: []string{"--crl", "off"}, code: exitOK, want: []string{"verdict: OK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := testpki.NewTLSServer(tc.leaf, nil, testpki.ServerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			code, out, errOut := runCLI(append([]string{"check", srv.Addr, "--servername", "localhost", "--ca-file", rootFile}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// Endpoints of one run share its CRL cache: the CRL both name is
	// downloaded once, and each is judged against it.
	t.Run("endpoints share one download", func(t *testing.T) {
		var addrs []string
		for _, leaf := range []*testpki.Cert{good, revoked} {
			srv, err := testpki.NewTLSServer(leaf, nil, testpki.ServerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			addrs = append(addrs, srv.Addr)
		}
		before := downloads.Load()
		code, out, errOut := runCLI("check", addrs[0], addrs[1], "--servername", "localhost", "--ca-file", rootFile)
		if code != exitProblem || !strings.Contains(out, "good: not listed among 1 entries") || !strings.Contains(out, "revoked (CRL) at") {
			t.Errorf("exit %d, want %d with one good and one revoked endpoint\n%s%s", code, exitProblem, out, errOut)
		}
		if n := downloads.Load() - before; n != 1 {
			t.Errorf("the CRL was downloaded %d times for two endpoints, want once", n)
		}
	})

	t.Run("air-gapped CRL file", func(t *testing.T) {
		crlFile := openssltest.WriteFile(t, dir, "inter.crl", crlDER)
		leafFile := openssltest.WriteFile(t, dir, "leaf.pem", revoked.PEM())
		interFile := openssltest.WriteFile(t, dir, "inter.pem", inter.PEM())
		code, out, errOut := runCLI("check", "--cert", leafFile, "--issuer", interFile, "--crl-file", crlFile, "--crl", "off", "--output", "json")
		if code != exitProblem || !strings.Contains(out, `"listed": true`) || !strings.Contains(out, `"url": "file"`) {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
}

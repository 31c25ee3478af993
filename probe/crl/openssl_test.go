package crl

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// opensslCAConfig is the least `openssl ca -gencrl` needs: a database, a
// CRL number file, the CA's certificate and key.
const opensslCAConfig = `[ ca ]
default_ca = CA_default

[ CA_default ]
database         = %DIR%/index.txt
crlnumber        = %DIR%/crlnumber
certificate      = %DIR%/ca.pem
private_key      = %DIR%/ca.key
default_md       = sha256
default_crl_days = 1
crl_extensions   = crl_ext

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`

// TestOpenSSLGeneratedCRL has Debian's `openssl ca -gencrl` sign a CRL
// listing one of two leaves, serves it on loopback, and checks both.
func TestOpenSSLGeneratedCRL(t *testing.T) {
	bin := openssltest.Require(t)
	p := testPKI(t)
	realNow := time.Now()
	leafOpts := testpki.LeafOptions{NotBefore: realNow.Add(-time.Hour), NotAfter: realNow.Add(30 * 24 * time.Hour)}
	good, err := p.inter.NewLeaf(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := p.inter.NewLeaf(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := realNow.Add(-2 * time.Hour).Truncate(time.Second)

	dir := t.TempDir()
	openssltest.WriteFile(t, dir, "index.txt", []byte(openssltest.Index([]openssltest.IndexEntry{
		{Cert: good.Cert},
		{Cert: revoked.Cert, Revoked: true, RevokedAt: revokedAt},
	})))
	openssltest.WriteFile(t, dir, "crlnumber", []byte("1000\n"))
	openssltest.WriteFile(t, dir, "ca.pem", p.inter.PEM())
	openssltest.WriteFile(t, dir, "ca.key", p.inter.KeyPEM())
	config := openssltest.WriteFile(t, dir, "ca.cnf", []byte(strings.ReplaceAll(opensslCAConfig, "%DIR%", dir)))
	out := filepath.Join(dir, "crl.pem")
	if msg, err := exec.Command(bin, "ca", "-gencrl", "-batch", "-config", config, "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("openssl ca -gencrl: %v\n%s", err, msg)
	}
	pemCRL, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}

	srv := newCRLServer(t)
	url := srv.put("/openssl.crl", pemCRL, http.StatusOK, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := Fetch(ctx, freshClient(), url, FetchOptions{Issuer: p.inter.Cert})
	if !res.Up() {
		t.Fatalf("fetch: %v", res.Problems)
	}
	info := res.CRL.Info()
	if info.Entries != 1 || info.Number == nil || info.Number.Int64() != 0x1000 || info.SignatureAlgorithm.String() != "ECDSA-SHA256" {
		t.Errorf("info %+v", info)
	}
	if left := info.NextUpdate.Sub(realNow); left < 23*time.Hour || left > 25*time.Hour {
		t.Errorf("NextUpdate %s is not a day out (default_crl_days = 1)", info.NextUpdate)
	}
	if st := res.CRL.Check(good.Cert, realNow, skew); !st.Trusted || st.Listed || len(st.Problems) != 0 {
		t.Errorf("good leaf: %+v", st)
	}
	st := res.CRL.Check(revoked.Cert, realNow, skew)
	if !st.Trusted || !st.Listed || !st.RevokedAt.Equal(revokedAt) || st.ReasonCode != 1 || !slices.Equal(reasonsOf(st.Problems), []Reason{ReasonRevoked}) {
		t.Errorf("revoked leaf: %+v, want listed at %s with keyCompromise (1)", st, revokedAt)
	}
	if st := res.CRL.Check(revoked.Cert, realNow.Add(25*time.Hour), skew); st.Trusted || st.Listed {
		t.Errorf("a day later the CRL should be stale: %+v", st)
	}

	// The same CRL checked against the impostor (same name, other key).
	impostor, err := Parse(pemCRL, p.impostor.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if v := impostor.Verdict(realNow, skew); v.Trusted || !slices.Equal(reasonsOf(v.Problems), []Reason{ReasonBadSignature}) {
		t.Errorf("verified against another key: %+v", v)
	}
}

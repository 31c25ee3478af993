package probe

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func TestRequestAcceptedByOpenSSL(t *testing.T) {
	bin := openssltest.Require(t)
	p := testPKI(t)
	req, err := NewRequest(p.leaf.Cert, p.inter.Cert, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	path := openssltest.WriteFile(t, t.TempDir(), "req.der", req.DER)
	out, err := exec.Command(bin, "ocsp", "-reqin", path, "-req_text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ocsp -reqin rejected our request: %v\n%s", err, out)
	}
	text := string(out)
	// openssl prints whole bytes: an odd number of hex digits gets a leading 0.
	serial := fmt.Sprintf("%X", p.leaf.Cert.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	if !strings.Contains(text, "Serial Number: "+serial) || !strings.Contains(text, "Hash Algorithm: sha1") || !strings.Contains(text, "OCSP Nonce") {
		t.Errorf("openssl's reading of the request lacks serial %s, sha1 or nonce:\n%s", serial, text)
	}
	if !strings.Contains(strings.ToUpper(strings.ReplaceAll(text, ":", "")), fmt.Sprintf("%X", req.Nonce)[:16]) {
		t.Errorf("openssl shows a different nonce than %X:\n%s", req.Nonce, text)
	}
}

func TestResponderAgainstOpenSSL(t *testing.T) {
	p := testPKI(t)
	realNow := time.Now()
	leafOpts := testpki.LeafOptions{NotBefore: realNow.Add(-time.Hour), NotAfter: realNow.Add(30 * 24 * time.Hour)}
	goodLeaf, err := p.inter.NewLeaf(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	revokedLeaf, err := p.inter.NewLeaf(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	resp := openssltest.StartResponder(t, p.inter, p.delegated, []openssltest.IndexEntry{
		{Cert: goodLeaf.Cert}, {Cert: revokedLeaf.Cert, Revoked: true, RevokedAt: realNow.Add(-2 * time.Hour)},
	})
	client := NewHTTPClient(ClientOptions{})
	for _, tc := range []struct {
		leaf   *testpki.Cert
		method Method
		nonce  bool
		status CertStatus
		want   []Reason
	}{
		{goodLeaf, MethodGET, false, CertGood, nil},
		{goodLeaf, MethodPOST, true, CertGood, nil},
		{revokedLeaf, MethodGET, true, CertRevoked, []Reason{ReasonResponseRevoked}},
		{revokedLeaf, MethodPOST, false, CertRevoked, []Reason{ReasonResponseRevoked}},
	} {
		t.Run(fmt.Sprintf("%s/%s/nonce=%v", tc.status, tc.method, tc.nonce), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := Responder(ctx, client, ResponderRequest{URL: resp.URL, Leaf: tc.leaf.Cert, Issuer: p.inter.Cert, Method: tc.method, Nonce: tc.nonce, RequireNonce: tc.nonce, Policy: VerifyPolicy{Skew: DefaultSkew}})
			if !res.Up || res.HTTPStatus != 200 || !res.ContentTypeOK || res.Method != strings.ToUpper(string(tc.method)) {
				t.Fatalf("up %v HTTP %d content type %q method %s problems %v", res.Up, res.HTTPStatus, res.ContentType, res.Method, res.Problems)
			}
			if got := reasonsOf(res.Problems); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("reasons = %v, want %v (%v)", got, tc.want, res.Problems)
			}
			v := res.Response
			if v.CertStatus != tc.status || v.Signer.Kind != SignerDelegated || v.NextUpdate == nil {
				t.Errorf("status %s signer %+v next %v", v.CertStatus, v.Signer, v.NextUpdate)
			}
			if left := time.Until(*v.NextUpdate); left < 55*time.Minute || left > 61*time.Minute {
				t.Errorf("NextUpdate %s is not about an hour out (-nmin 60)", v.NextUpdate)
			}
			if tc.nonce && res.Nonce != NonceEchoed {
				t.Errorf("nonce %s, want echoed", res.Nonce)
			}
		})
	}
}

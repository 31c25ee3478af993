package crl

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestFetchAndCheck serves each CRL over HTTP on loopback, fetches it and
// checks a leaf against it.
func TestFetchAndCheck(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	withTemplate := func(edit func(*x509.RevocationList)) []byte {
		tmpl := p.crlTemplate()
		edit(tmpl)
		return create(t, tmpl, p.inter.Cert, p.inter.Key)
	}
	// Signed with the intermediate's key but naming another CA.
	otherName := &x509.Certificate{
		Subject:      pkix.Name{CommonName: "Somebody Else"},
		SubjectKeyId: p.inter.Cert.SubjectKeyId,
		KeyUsage:     x509.KeyUsageCRLSign,
	}
	for _, tc := range []struct {
		name     string
		url      string
		leaf     *testpki.Cert
		maxBytes int64
		// wantFetch are the attempt's problems, wantCheck the copy's.
		wantFetch []Reason
		wantCheck []Reason
		listed    bool
	}{
		{
			name: "good",
			url:  srv.put("/good.crl", p.goodCRL(t), http.StatusOK, ""),
			leaf: p.leaf,
		},
		{
			name:      "revoked",
			url:       srv.put("/revoked.crl", p.goodCRL(t), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonRevoked},
			listed:    true,
		},
		{
			name: "PEM body",
			url:  srv.put("/pem.crl", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: p.goodCRL(t)}), http.StatusOK, ""),
			leaf: p.leaf,
		},
		{
			name:      "body of unknown length, read in chunks",
			url:       srv.putFile("/chunked.crl", servedFile{body: bigCRLFor(t, entries2MB).der, status: http.StatusOK, unknownLength: true}),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonRevoked},
			listed:    true,
		},
		{
			name:      "too large, length unknown",
			url:       srv.putFile("/chunked-large.crl", servedFile{body: bigCRLFor(t, entries2MB).der, status: http.StatusOK, unknownLength: true}),
			leaf:      p.leaf,
			maxBytes:  1 << 20,
			wantFetch: []Reason{ReasonTooLarge},
		},
		{
			name: "stale",
			url: srv.put("/stale.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ThisUpdate, rl.NextUpdate = now.Add(-48*time.Hour), now.Add(-time.Hour)
			}), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonStale},
		},
		{
			name: "not yet valid",
			url: srv.put("/future.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ThisUpdate, rl.NextUpdate = now.Add(time.Hour), now.Add(48*time.Hour)
			}), http.StatusOK, ""),
			leaf:      p.leaf,
			wantCheck: []Reason{ReasonStale},
		},
		{
			name:      "no NextUpdate",
			url:       srv.put("/no-next.crl", handCRL(t, p.inter, now.Add(-time.Hour), time.Time{}, 3), http.StatusOK, ""),
			leaf:      p.leaf,
			wantCheck: []Reason{ReasonNoNextUpdate},
		},
		{
			name:      "bad signature: same issuer name, another key",
			url:       srv.put("/impostor.crl", create(t, p.crlTemplate(), p.impostor.Cert, p.impostor.Key), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonBadSignature},
		},
		{
			name:      "wrong issuer name",
			url:       srv.put("/other-name.crl", create(t, p.crlTemplate(), otherName, p.inter.Key), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonBadSignature, ReasonBadSignature},
		},
		{
			name:      "delta CRL",
			url:       srv.put("/delta.crl", withTemplate(func(rl *x509.RevocationList) { rl.ExtraExtensions = []pkix.Extension{deltaIndicator(41)} }), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonUnsupported},
		},
		{
			name: "unknown critical CRL extension",
			url: srv.put("/critical.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ExtraExtensions = []pkix.Extension{{Id: oidTestCritical, Critical: true, Value: []byte{5, 0}}}
			}), http.StatusOK, ""),
			leaf:      p.leaf,
			wantCheck: []Reason{ReasonUnsupported},
		},
		{
			name: "unknown non-critical CRL extension is ignored",
			url: srv.put("/noncritical.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ExtraExtensions = []pkix.Extension{{Id: oidTestCritical, Value: []byte{5, 0}}}
			}), http.StatusOK, ""),
			leaf: p.leaf,
		},
		{
			name: "unknown critical entry extension",
			url: srv.put("/entry-critical.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.RevokedCertificateEntries[0].ExtraExtensions = []pkix.Extension{{Id: oidTestCritical, Critical: true, Value: []byte{5, 0}}}
			}), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonUnsupported},
		},
		{
			name: "issuing distribution point for CA certificates only",
			url: srv.put("/ca-only.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ExtraExtensions = []pkix.Extension{idpExtension("http://127.0.0.1/inter.crl", true)}
			}), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonUnsupported},
		},
		{
			name: "issuing distribution point naming the leaf's CDP",
			url: srv.put("/idp.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ExtraExtensions = []pkix.Extension{idpExtension("http://127.0.0.1/inter.crl", false)}
			}), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonRevoked},
			listed:    true,
		},
		{
			name: "issuing distribution point naming another CDP",
			url: srv.put("/idp-other.crl", withTemplate(func(rl *x509.RevocationList) {
				rl.ExtraExtensions = []pkix.Extension{idpExtension("http://127.0.0.1/other.crl", false)}
			}), http.StatusOK, ""),
			leaf:      p.revokedLeaf,
			wantCheck: []Reason{ReasonUnsupported},
		},
		{
			name:      "404",
			url:       srv.URL + "/missing.crl",
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonHTTPStatus},
		},
		{
			name:      "unreachable: closed port",
			url:       "http://" + loopback.ClosedAddr(t) + "/x.crl",
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonUnreachable},
		},
		{
			name:      "timeout: a server that never answers",
			url:       "http://" + loopback.Silent(t) + "/x.crl",
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonTimeout},
		},
		{
			name:      "too large",
			url:       srv.put("/large.crl", p.goodCRL(t), http.StatusOK, ""),
			leaf:      p.leaf,
			maxBytes:  100,
			wantFetch: []Reason{ReasonTooLarge},
		},
		{
			name:      "malformed",
			url:       srv.put("/malformed.crl", []byte("<html>not a CRL</html>"), http.StatusOK, ""),
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonMalformed},
		},
		{
			name:      "malformed: truncated",
			url:       srv.put("/truncated.crl", p.goodCRL(t)[:200], http.StatusOK, ""),
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonMalformed},
		},
		{
			name:      "ldap scheme",
			url:       "ldap://127.0.0.1/cn=CRL%20Test%20Intermediate?certificateRevocationList",
			leaf:      p.leaf,
			wantFetch: []Reason{ReasonUnsupported},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			res := Fetch(ctx, freshClient(), tc.url, FetchOptions{Issuer: p.inter.Cert, MaxBytes: tc.maxBytes, Now: frozen})
			if got := reasonsOf(res.Problems); !slices.Equal(got, tc.wantFetch) {
				t.Fatalf("fetch reasons = %v, want %v (%v)", got, tc.wantFetch, res.Problems)
			}
			if tc.wantFetch != nil {
				if res.CRL != nil || res.Up() {
					t.Errorf("a failed fetch returned a copy: %+v", res)
				}
				return
			}
			if !res.Up() || res.HTTPStatus != http.StatusOK || res.BodyBytes == 0 || res.Timings.Total <= 0 || res.Timings.Connect <= 0 || res.Timings.Processing <= 0 {
				t.Errorf("up %v status %d bytes %d timings %+v", res.Up(), res.HTTPStatus, res.BodyBytes, res.Timings)
			}
			st := res.CRL.Check(tc.leaf.Cert, now, skew)
			if got := reasonsOf(st.Problems); !slices.Equal(got, tc.wantCheck) {
				t.Errorf("check reasons = %v, want %v (%v)", got, tc.wantCheck, st.Problems)
			}
			wantTrusted := len(tc.wantCheck) == 0 || tc.listed
			if st.Trusted != wantTrusted || st.Listed != tc.listed {
				t.Errorf("trusted %v listed %v, want %v %v", st.Trusted, st.Listed, wantTrusted, tc.listed)
			}
			if !st.Trusted && (st.Listed || !st.RevokedAt.IsZero() || st.ReasonCode != NoReasonCode) {
				t.Errorf("an untrusted CRL gave an answer: %+v", st)
			}
		})
	}
}

func deltaIndicator(base int64) pkix.Extension {
	value := []byte{0x02, 0x01, byte(base)}
	return pkix.Extension{Id: oidDeltaCRL, Critical: true, Value: value}
}

func TestRevokedDetails(t *testing.T) {
	p := testPKI(t)
	c, err := Parse(p.goodCRL(t), p.inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Check(p.revokedLeaf.Cert, now, skew)
	want := now.Add(-2 * time.Hour).Truncate(time.Second)
	if !st.Listed || !st.RevokedAt.Equal(want) || st.ReasonCode != 1 {
		t.Errorf("listed %v at %s reason %d, want at %s keyCompromise (1)", st.Listed, st.RevokedAt, st.ReasonCode, want)
	}
	info := c.Info()
	if info.Entries != 2 || info.Number.Int64() != 42 || !info.ThisUpdate.Equal(now.Add(-time.Hour)) ||
		!info.NextUpdate.Equal(now.Add(23*time.Hour)) || info.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("info %+v", info)
	}
	info.Number.SetInt64(0)
	if c.Info().Number.Int64() != 42 {
		t.Error("Info shares the CRL number with the caller")
	}
	if revoked, at, reason := c.Lookup(big.NewInt(7)); !revoked || !at.Equal(now.Add(-48*time.Hour)) || reason != NoReasonCode {
		t.Errorf("serial 7: %v %s %d, want revoked with no reasonCode", revoked, at, reason)
	}
	if revoked, _, _ := c.Lookup(p.leaf.Cert.SerialNumber); revoked {
		t.Error("the good leaf is listed")
	}
}

// TestVerdictFollowsTheClock judges one copy at several instants: the
// verdict is computed from its inputs, never stored.
func TestVerdictFollowsTheClock(t *testing.T) {
	p := testPKI(t)
	c, err := Parse(p.goodCRL(t), p.inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	next := now.Add(23 * time.Hour)
	for _, tc := range []struct {
		at      time.Time
		trusted bool
	}{
		{now, true},
		{now.Add(-time.Hour - skew), true},
		{now.Add(-time.Hour - skew - time.Second), false},
		{next.Add(-skew - time.Second), true},
		{next.Add(-skew), false},
		{now, true},
	} {
		if v := c.Verdict(tc.at, skew); v.Trusted != tc.trusted {
			t.Errorf("at %s: trusted %v, want %v (%v)", tc.at, v.Trusted, tc.trusted, v.Problems)
		}
	}
}

func TestLookupSerialEncodings(t *testing.T) {
	p := testPKI(t)
	serials := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(127), big.NewInt(128), big.NewInt(255), big.NewInt(256),
		big.NewInt(-1), big.NewInt(-128), big.NewInt(-129),
		new(big.Int).Lsh(big.NewInt(1), 159), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1)),
	}
	tmpl := p.crlTemplate()
	tmpl.RevokedCertificateEntries = nil
	for i, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.Add(-time.Duration(i) * time.Hour)})
	}
	c, err := Parse(create(t, tmpl, p.inter.Cert, p.inter.Key), p.inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range serials {
		if revoked, at, _ := c.Lookup(s); !revoked || !at.Equal(now.Add(-time.Duration(i)*time.Hour)) {
			t.Errorf("serial %s: revoked %v at %s", s, revoked, at)
		}
		near := new(big.Int).Add(s, big.NewInt(1000003))
		if revoked, _, _ := c.Lookup(near); revoked {
			t.Errorf("serial %s is listed but was not revoked", near)
		}
	}
	if revoked, _, _ := c.Lookup(nil); revoked {
		t.Error("a nil serial is listed")
	}
}

func TestConditionalGET(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/etag.crl", p.goodCRL(t), http.StatusOK, `"v1"`)
	clock := testpki.NewClock(now)
	first := Fetch(context.Background(), srv.Client(), url, FetchOptions{Issuer: p.inter.Cert, Now: clock.Now})
	if !first.Up() || first.CRL.Info().ETag != `"v1"` {
		t.Fatalf("first fetch: %+v", first)
	}
	clock.Advance(time.Hour)
	second := Fetch(context.Background(), srv.Client(), url, FetchOptions{Issuer: p.inter.Cert, Now: clock.Now, Previous: first.CRL})
	if !second.Up() || !second.NotModified || second.HTTPStatus != http.StatusNotModified || second.CRL != first.CRL || !second.FetchedAt.Equal(clock.Now()) {
		t.Errorf("second fetch: up %v 304 %v status %d same copy %v fetched %s", second.Up(), second.NotModified, second.HTTPStatus, second.CRL == first.CRL, second.FetchedAt)
	}
	if srv.notModified.Load() != 1 {
		t.Errorf("server answered %d conditional GETs with 304, want 1", srv.notModified.Load())
	}
	srv.put("/etag.crl", p.goodCRL(t), http.StatusOK, `"v2"`)
	third := Fetch(context.Background(), srv.Client(), url, FetchOptions{Issuer: p.inter.Cert, Now: clock.Now, Previous: first.CRL})
	if !third.Up() || third.NotModified || third.CRL == first.CRL || third.CRL.Info().ETag != `"v2"` {
		t.Errorf("a changed CRL was not downloaded again: %+v", third)
	}
}

func TestParseKeepsNoReference(t *testing.T) {
	p := testPKI(t)
	der := p.goodCRL(t)
	c, err := Parse(der, p.inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	for i := range der {
		der[i] = 0
	}
	if revoked, _, _ := c.Lookup(p.revokedLeaf.Cert.SerialNumber); !revoked || !c.Check(p.revokedLeaf.Cert, now, skew).Trusted {
		t.Error("the parsed CRL changed with the input buffer")
	}
}

func TestAllReasonsDescribed(t *testing.T) {
	for _, r := range AllReasons() {
		if r.Describe() == string(r) {
			t.Errorf("%s has no description", r)
		}
	}
	if got := fmt.Sprint(Problem{Reason: ReasonStale, Detail: "x"}); got != ReasonStale.Describe()+": x" {
		t.Errorf("Problem.String = %q", got)
	}
}

func TestBoundedText(t *testing.T) {
	long := strings.Repeat("é", maxText)
	got := boundedText(long)
	if len(got) > maxText+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("boundedText(%d bytes) = %d bytes, valid %v", len(long), len(got), utf8.ValidString(got))
	}
	if got := boundedText("CN=a\xff"); !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8 kept: %q", got)
	}
}

func TestDistributionPoints(t *testing.T) {
	cert := &x509.Certificate{CRLDistributionPoints: []string{
		"http://a/1.crl", "ldap://b/x", "http://a/1.crl", "", "http://c/2.crl", "http://d/3.crl", "http://e/4.crl",
	}}
	want := []string{"http://a/1.crl", "ldap://b/x", "http://c/2.crl", "http://d/3.crl"}
	if got := DistributionPoints(cert); !slices.Equal(got, want) {
		t.Errorf("DistributionPoints = %q, want %q", got, want)
	}
	if got := DistributionPoints(nil); got != nil {
		t.Errorf("nil certificate: %q", got)
	}
}

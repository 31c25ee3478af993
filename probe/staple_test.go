package probe

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func TestStapleVerdicts(t *testing.T) {
	p := testPKI(t)
	skew := DefaultSkew
	window := func(leaf *testpki.Cert, this, next time.Time) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, this, next)}, ProducedAt: this, Signer: leaf.Parent}.MustDER()
	}
	signedBy := func(signer *testpki.Cert, embed bool) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now.Add(-time.Hour), Signer: signer, Embed: embed}.MustDER()
	}
	cases := []struct {
		name     string
		leaf     *testpki.Cert
		staple   []byte
		opts     testpki.ServerOptions
		issuer   *testpki.Cert
		want     []Reason
		status   CertStatus
		signer   SignerKind
		validity bool
	}{
		{name: "good issuer-signed", leaf: p.leaf, staple: good(p.leaf), status: CertGood, signer: SignerIssuer, validity: true},
		{name: "good RSA chain", leaf: p.rsaLeaf, staple: good(p.rsaLeaf), status: CertGood, signer: SignerIssuer, validity: true},
		{name: "good delegated signer", leaf: p.leaf, staple: signedBy(p.delegated, true), status: CertGood, signer: SignerDelegated, validity: true},
		{name: "multi-response staple", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{
			testpki.EntryFor(p.mustLeaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour)),
			testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour)),
		}, ProducedAt: now, Signer: p.inter}.MustDER(), status: CertGood, signer: SignerIssuer, validity: true},
		{name: "no staple", leaf: p.leaf, want: []Reason{ReasonStapleMissing}},
		{name: "must-staple without staple", leaf: p.mustLeaf, want: []Reason{ReasonMustStapleViolated}},
		{name: "garbage staple", leaf: p.leaf, staple: []byte("not an OCSP response"), want: []Reason{ReasonStapleMalformed}},
		{name: "tryLater stapled", leaf: p.leaf, staple: testpki.StatusOnly(3), want: []Reason{ReasonStapleMalformed}},
		{name: "staple for another certificate", leaf: p.leaf, staple: good(p.mustLeaf), want: []Reason{ReasonStapleWrongCert}},
		{name: "same serial other issuer", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{{Serial: p.leaf.Cert.SerialNumber, Issuer: p.otherInter.Cert, Status: testpki.Good, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}}, ProducedAt: now, Signer: p.inter}.MustDER(), want: []Reason{ReasonStapleWrongCert}},
		{name: "signed by the wrong key", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter, SignWith: p.otherInter.Key}.MustDER(), want: []Reason{ReasonStapleBadSignature}},
		{name: "embedded signer did not sign", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, SignWith: p.inter.Key}.MustDER(), want: []Reason{ReasonStapleBadSignature}},
		{name: "delegated signer without EKU", leaf: p.leaf, staple: signedBy(p.delegatedNoEKU, true), want: []Reason{ReasonStapleUnauthorizedSigner}, signer: SignerDelegated},
		{name: "signer from another CA", leaf: p.leaf, staple: signedBy(p.foreignSigner, true), want: []Reason{ReasonStapleUnauthorizedSigner}, signer: SignerDelegated},
		{name: "good, responder identified by key hash", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, ByKey: true}.MustDER(), status: CertGood, signer: SignerDelegated, validity: true},
		{name: "ResponderID names another responder", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, ResponderID: p.delegatedNoEKU}.MustDER(), want: []Reason{ReasonStapleUnauthorizedSigner}},
		{name: "issuer-signed, ResponderID names the delegated signer", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter, ResponderID: p.delegated}.MustDER(), want: []Reason{ReasonStapleUnauthorizedSigner}},
		{name: "signer expired at ProducedAt", leaf: p.leaf, staple: signedBy(p.expiredSigner, true), want: []Reason{ReasonStapleUnauthorizedSigner}, signer: SignerDelegated},
		{name: "valid one second before the skew edge", leaf: p.leaf, staple: window(p.leaf, now.Add(-time.Hour), now.Add(skew+time.Second)), status: CertGood, signer: SignerIssuer, validity: true},
		{name: "expired at the skew edge", leaf: p.leaf, staple: window(p.leaf, now.Add(-time.Hour), now.Add(skew)), want: []Reason{ReasonStapleExpired}, status: CertGood, signer: SignerIssuer},
		{name: "ThisUpdate at the skew edge", leaf: p.leaf, staple: window(p.leaf, now.Add(skew), now.Add(time.Hour)), status: CertGood, signer: SignerIssuer, validity: true},
		{name: "ThisUpdate one second past skew", leaf: p.leaf, staple: window(p.leaf, now.Add(skew+time.Second), now.Add(time.Hour)), want: []Reason{ReasonStapleNotYetValid}, status: CertGood, signer: SignerIssuer},
		{name: "revoked", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter}.MustDER(), want: []Reason{ReasonStapleRevoked}, status: CertRevoked, signer: SignerIssuer, validity: true},
		{name: "unknown", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Unknown, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter}.MustDER(), want: []Reason{ReasonStapleUnknown}, status: CertUnknown, signer: SignerIssuer, validity: true},
		{name: "issuer not served nor known", leaf: p.leaf, staple: good(p.leaf), opts: testpki.ServerOptions{LeafOnly: true}, want: []Reason{ReasonIssuerMissing}},
		{name: "issuer not served but configured", leaf: p.leaf, staple: good(p.leaf), opts: testpki.ServerOptions{LeafOnly: true}, issuer: p.inter, status: CertGood, signer: SignerIssuer, validity: true},
	}
	// The "cached" variant runs every case twice through one VerifyCache
	// and judges the second, warm run: the cache must change no verdict.
	variants := append(slices.Clone(tlsVersions), struct {
		name    string
		version uint16
	}{"TLS1.3-cached", tls.VersionTLS13})
	for _, v := range variants {
		for _, tc := range cases {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				opts := tc.opts
				opts.MaxVersion = v.version
				srv := startTLS(t, tc.leaf, tc.staple, opts)
				req := StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: tc.leaf.Root().Pool(), Now: frozen, Policy: VerifyPolicy{Skew: skew}}
				if tc.issuer != nil {
					req.Issuer = tc.issuer.Cert
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if strings.HasSuffix(v.name, "-cached") {
					req.Cache = NewVerifyCache(0)
					Staple(ctx, req)
					if req.Cache.Len() == 0 && tc.staple != nil {
						t.Fatal("the first run cached nothing")
					}
				}
				results := Staple(ctx, req)
				if len(results) != 1 {
					t.Fatalf("got %d results, want 1", len(results))
				}
				r := results[0]
				if !r.HandshakeOK {
					t.Fatalf("handshake failed: %v", r.Problems)
				}
				if got := reasonsOf(r.Problems); !slices.Equal(got, tc.want) {
					t.Errorf("reasons = %v, want %v (%v)", got, tc.want, r.Problems)
				}
				if want := tls.VersionName(v.version); r.TLSVersion != want && v.version != 0 {
					t.Errorf("TLS version = %s, want %s", r.TLSVersion, want)
				}
				if r.StaplePresent != (tc.staple != nil) {
					t.Errorf("staple present = %v, want %v", r.StaplePresent, tc.staple != nil)
				}
				if tc.staple == nil {
					return
				}
				if r.Staple.Valid != tc.validity {
					t.Errorf("staple valid = %v, want %v (%s)", r.Staple.Valid, tc.validity, r.Staple.Detail())
				}
				if r.Staple.CertStatus != tc.status {
					t.Errorf("cert status = %q, want %q", r.Staple.CertStatus, tc.status)
				}
				if tc.signer != "" && (r.Staple.Signer == nil || r.Staple.Signer.Kind != tc.signer) {
					t.Errorf("signer = %+v, want kind %q", r.Staple.Signer, tc.signer)
				}
				if r.ChainIncomplete != tc.opts.LeafOnly {
					t.Errorf("chain incomplete = %v, want %v", r.ChainIncomplete, tc.opts.LeafOnly)
				}
			})
		}
	}
}

func TestStapleDetails(t *testing.T) {
	p := testPKI(t)
	staple := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(p.leaf.Cert.NotAfter.Sub(now)+time.Hour))}, ProducedAt: now.Add(-30 * time.Minute), Signer: p.delegated, Embed: true}.MustDER()
	srv := startTLS(t, p.leaf, staple, testpki.ServerOptions{})
	r := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen})[0]
	if !r.ChainVerified || r.ChainError != "" {
		t.Errorf("chain verified = %v (%s), want true", r.ChainVerified, r.ChainError)
	}
	if r.Address != srv.Addr || r.Timings.Resolve != 0 || r.Timings.Connect <= 0 || r.Timings.TLS <= 0 {
		t.Errorf("address %s timings %+v", r.Address, r.Timings)
	}
	v := r.Staple
	if !v.ProducedAt.Equal(now.Add(-30*time.Minute)) || !v.ThisUpdate.Equal(now.Add(-time.Hour)) {
		t.Errorf("times: produced %s this %s", v.ProducedAt, v.ThisUpdate)
	}
	if !v.NextUpdateAfterCertExpiry {
		t.Error("NextUpdate after the leaf's NotAfter was not flagged")
	}
	if !v.Signer.NoCheck || v.Signer.Subject != "CN=Test OCSP Signer" {
		t.Errorf("signer = %+v", v.Signer)
	}
	if r.Cert.Posture != PostureOCSP || r.Cert.MustStaple || len(r.Cert.OCSPServers) != 1 {
		t.Errorf("cert info = %+v", r.Cert)
	}

	untrusted := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.otherRoot.Pool(), Now: frozen,
		Policy: VerifyPolicy{MaxResponseAge: 90 * 24 * time.Hour}})[0]
	if untrusted.ChainVerified || untrusted.ChainError == "" || !untrusted.Staple.Valid {
		t.Errorf("untrusted chain: verified=%v err=%q staple valid=%v (%s); the staple must still be checked", untrusted.ChainVerified, untrusted.ChainError, untrusted.Staple.Valid, untrusted.Staple.Detail())
	}
}

func TestStapleRevokedDetail(t *testing.T) {
	p := testPKI(t)
	e := testpki.EntryFor(p.leaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))
	e.RevocationReason = 1
	e.RevokedAt = now.Add(-48 * time.Hour)
	srv := startTLS(t, p.leaf, testpki.Response{Entries: []testpki.Entry{e}, ProducedAt: now, Signer: p.inter}.MustDER(), testpki.ServerOptions{})
	r := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, Roots: p.root.Pool(), Now: frozen})[0]
	if r.Staple.RevokedAt == nil || !r.Staple.RevokedAt.Equal(e.RevokedAt) || r.Staple.RevocationReason != "keyCompromise" {
		t.Errorf("revocation = %v %q", r.Staple.RevokedAt, r.Staple.RevocationReason)
	}
}

func TestStapleNetworkFailures(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		want     Reason
	}{
		{"name does not resolve", "nowhere.invalid:443", ReasonDNS},
		{"port closed", loopback.ClosedAddr(t), ReasonConnect},
		{"server never speaks", loopback.Silent(t), ReasonTimeout},
		{"not TLS", loopback.Banner(t, "HTTP/1.0 400 Bad Request\r\n\r\n"), ReasonTLSHandshake},
		{"bad endpoint", "no-port", ReasonDNS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			r := Staple(ctx, StapleRequest{Endpoint: tc.endpoint, Now: frozen, Resolver: offlineResolver()})[0]
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("probe took %s, past its 300ms deadline", elapsed)
			}
			if got := reasonsOf(r.Problems); len(got) != 1 || got[0] != tc.want {
				t.Errorf("reasons = %v, want [%s]", r.Problems, tc.want)
			}
			if r.HandshakeOK {
				t.Error("handshake reported OK")
			}
		})
	}
}

func TestInspectCertPosture(t *testing.T) {
	p := testPKI(t)
	short, err := p.inter.NewLeaf(testpki.LeafOptions{NotBefore: now, NotAfter: now.Add(ShortLivedValidity)})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := p.inter.NewLeaf(testpki.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cert *testpki.Cert
		want Posture
	}{{p.leaf, PostureOCSP}, {p.noAIALeaf, PostureCRLOnly}, {short, PostureShortLived}, {bare, PostureNone}} {
		if got := InspectCert(tc.cert.Cert).Posture; got != tc.want {
			t.Errorf("%s: posture %s, want %s", tc.cert.Cert.Subject, got, tc.want)
		}
	}
	if !IsMustStaple(p.mustLeaf.Cert) || IsMustStaple(p.leaf.Cert) {
		t.Error("must-staple detection is wrong")
	}
}

// Behind a load balancer, backends staple differently; addresses=all must
// show each one.
func TestStapleEveryAddress(t *testing.T) {
	p := testPKI(t)
	stapling := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	_, port, _ := net.SplitHostPort(stapling.Addr)
	bare := startTLS(t, p.leaf, nil, testpki.ServerOptions{Addr: "127.0.0.2:" + port})
	resolver := loopback.Resolver(map[string][]net.IP{"lb.test": {net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)}})
	req := StapleRequest{Endpoint: "lb.test:" + port, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Resolver: resolver}

	first := Staple(context.Background(), req)
	if len(first) != 1 || first[0].Address != stapling.Addr || first[0].Timings.Resolve <= 0 {
		t.Fatalf("first address only: got %d results, first %+v", len(first), first[0])
	}
	req.AllAddresses = true
	all := Staple(context.Background(), req)
	if len(all) != 2 || all[0].Address != stapling.Addr || all[1].Address != bare.Addr {
		t.Fatalf("every address: got %d results", len(all))
	}
	if !all[0].StaplePresent || all[1].StaplePresent || !slices.Equal(reasonsOf(all[1].Problems), []Reason{ReasonStapleMissing}) {
		t.Errorf("backends: %v / %v", all[0].Problems, all[1].Problems)
	}
}

// TestALPN: a server that, like grpc-go, refuses handshakes without "h2"
// is reachable only when the probe offers it, and the chosen protocol is
// reported.
func TestALPN(t *testing.T) {
	p := testPKI(t)
	srv := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{RequireALPN: "h2"})
	without := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Now: frozen})[0]
	if without.HandshakeOK || !hasReason(without.Problems, ReasonTLSHandshake) {
		t.Errorf("without ALPN: handshake %v problems %v; want tls_handshake", without.HandshakeOK, without.Problems)
	}
	with := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Now: frozen, ALPN: []string{"h2", "http/1.1"}})[0]
	if !with.HandshakeOK || with.ALPN != "h2" || !with.StaplePresent {
		t.Errorf("with ALPN: handshake %v alpn %q staple %v problems %v", with.HandshakeOK, with.ALPN, with.StaplePresent, with.Problems)
	}
}

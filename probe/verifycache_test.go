package probe

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestChainCacheKeepsSkippedAndVerifiedApart: two targets share a chain
// and roots, one with insecure_skip_verify: neither takes the other's
// chain verdict from the cache, and a warm run keeps ChainSkipped.
func TestChainCacheKeepsSkippedAndVerifiedApart(t *testing.T) {
	p := testPKI(t)
	srv := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	cache := NewVerifyCache(0)
	base := StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Cache: cache}
	skip := base
	skip.SkipChainVerify = true
	for range 2 {
		if r := Staple(context.Background(), skip)[0]; !r.ChainSkipped || r.ChainVerified {
			t.Errorf("skipping target: skipped %v verified %v", r.ChainSkipped, r.ChainVerified)
		}
		if r := Staple(context.Background(), base)[0]; r.ChainSkipped || !r.ChainVerified {
			t.Errorf("verifying target: skipped %v verified %v (%s)", r.ChainSkipped, r.ChainVerified, r.ChainError)
		}
	}
}

// TestPinnedSignerMustBeValidNow: a pinned signer is trusted whoever
// issued it, but not once it has expired.
func TestPinnedSignerMustBeValidNow(t *testing.T) {
	p := testPKI(t)
	der := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-30*time.Hour), now.Add(2*time.Hour))},
		ProducedAt: now.Add(-30 * time.Hour), Signer: p.expiredSigner}.MustDER()
	v := verifyResponse(der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{Pinned: []*x509.Certificate{p.expiredSigner.Cert}})
	if v.Valid || v.failure != failSignerExpired {
		t.Errorf("valid %v failure %q, want signer_expired", v.Valid, v.failure)
	}
}

// TestInternerSharesCertificates: two handshakes serving the same chain
// give results that share one parsed copy of each certificate.
func TestInternerSharesCertificates(t *testing.T) {
	p := testPKI(t)
	a := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	b := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	in := NewCertInterner()
	ra := Staple(context.Background(), StapleRequest{Endpoint: a.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Interner: in})[0]
	rb := Staple(context.Background(), StapleRequest{Endpoint: b.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Interner: in})[0]
	if ra.Leaf != rb.Leaf || ra.Chain[1] != rb.Chain[1] || !ra.ChainVerified || !rb.ChainVerified {
		t.Errorf("the two results hold separate copies: leaf %v, issuer %v", ra.Leaf == rb.Leaf, ra.Chain[1] == rb.Chain[1])
	}
}

// TestChainVerdictsSharedBetweenNames: one chain verified for two names
// with the same outcome is kept as one verdict under both keys.
func TestChainVerdictsSharedBetweenNames(t *testing.T) {
	p := testPKI(t)
	srv := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	cache, certs, roots := NewVerifyCache(0), NewCertInterner(), p.root.Pool()
	for _, name := range []string{"localhost", "127.0.0.1"} {
		r := Staple(context.Background(), StapleRequest{Endpoint: srv.Addr, ServerName: name, Roots: roots, Now: frozen, Cache: cache, Interner: certs})[0]
		if !r.ChainVerified {
			t.Fatalf("%s: %s", name, r.ChainError)
		}
	}
	var verdicts []*chainVerdict
	for _, v := range cache.chains {
		verdicts = append(verdicts, v)
	}
	if len(verdicts) != 2 || verdicts[0] != verdicts[1] {
		t.Errorf("%d chain entries; shared: %v", len(verdicts), len(verdicts) == 2 && verdicts[0] == verdicts[1])
	}
}

package probe

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// The benchmarks below split a staple probe's own work from its
// handshake: what runs once the server's chain and staple are in hand.
// "cold" meets chain and staple bytes never seen before, as a target's
// first run does; "warm" meets the same bytes again, as every later run
// does while the server keeps its certificate and staple. A cache keyed
// by those bytes shows as warm dropping below cold.

// verifyServed is the verification a handshake runs on what the server
// sent (handshake, after ConnectionState): the leaf's facts, the chain
// and issuer, then the staple.
func verifyServed(req StapleRequest, chain []*x509.Certificate, staple []byte) *StapleResult {
	r := &StapleResult{Leaf: chain[0], Chain: chain, StaplePresent: true, StapleDER: staple}
	r.Cert = InspectCert(r.Leaf)
	r.inspectChain(req, req.ServerName)
	r.Staple = req.Cache.verify(staple, r.Leaf, r.Issuer, req.Now(), req.Policy)
	return r
}

// servedFixture is one server's chain and staple.
type servedFixture struct {
	chain  []*x509.Certificate
	staple []byte
}

// newServed issues a fresh leaf and its staple, signed by the issuer or
// by the delegated responder with its certificate embedded.
func newServed(b *testing.B, p *pki, delegated bool) servedFixture {
	b.Helper()
	leaf, err := p.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{"http://127.0.0.1:1/ocsp"}})
	if err != nil {
		b.Fatal(err)
	}
	staple := good(leaf)
	if delegated {
		staple = testpki.Response{
			Entries:    []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(71*time.Hour))},
			ProducedAt: now.Add(-time.Hour),
			Signer:     p.delegated,
			Embed:      true,
		}.MustDER()
	}
	return servedFixture{chain: []*x509.Certificate{leaf.Cert, p.inter.Cert}, staple: staple}
}

func BenchmarkStapleVerification(b *testing.B) {
	p := testPKI(b)
	req := StapleRequest{ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}}.withDefaults()
	for _, signer := range []struct {
		name      string
		delegated bool
	}{
		{"issuer-signed", false},
		{"delegated-signer", true},
	} {
		b.Run(signer.name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				served := newServed(b, p, signer.delegated)
				b.StartTimer()
				if r := verifyServed(req, served.chain, served.staple); !r.ChainVerified || !r.Staple.Valid {
					b.Fatalf("chain %v, staple %s", r.ChainError, r.Staple.Detail())
				}
			}
		})
		b.Run(signer.name+"/warm", func(b *testing.B) {
			// Warm is what the agent sees run after run: the same bytes,
			// through its VerifyCache.
			req := req
			req.Cache = NewVerifyCache(0)
			served := newServed(b, p, signer.delegated)
			verifyServed(req, served.chain, served.staple)
			b.ReportAllocs()
			for b.Loop() {
				// Each handshake delivers the staple in a new buffer.
				if r := verifyServed(req, served.chain, bytes.Clone(served.staple)); !r.ChainVerified || !r.Staple.Valid {
					b.Fatalf("chain %v, staple %s", r.ChainError, r.Staple.Detail())
				}
			}
		})
	}
}

// BenchmarkChainVerification is the chain part alone: finding the
// issuer and verifying the served chain to the roots.
func BenchmarkChainVerification(b *testing.B) {
	p := testPKI(b)
	req := StapleRequest{ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}}.withDefaults()
	inspect := func(chain []*x509.Certificate) {
		r := &StapleResult{Leaf: chain[0], Chain: chain}
		r.inspectChain(req, req.ServerName)
		if !r.ChainVerified || r.Issuer == nil {
			b.Fatalf("chain %v", r.ChainError)
		}
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			served := newServed(b, p, false)
			b.StartTimer()
			inspect(served.chain)
		}
	})
	b.Run("warm", func(b *testing.B) {
		req.Cache = NewVerifyCache(0) // the agent's VerifyCache, as in every run after the first
		served := newServed(b, p, false)
		inspect(served.chain)
		b.ReportAllocs()
		for b.Loop() {
			inspect(served.chain)
		}
	})
}

// BenchmarkNewRequest is request building as targets do it by default (no
// nonce; SHA-1 CertID, what RFC 5019 responders expect) and with SHA-256.
// BenchmarkNewRequestWithNonce covers the nonce.
func BenchmarkNewRequest(b *testing.B) {
	p := testPKI(b)
	for _, tc := range []struct {
		name string
		hash crypto.Hash
	}{
		{"sha1", crypto.SHA1},
		{"sha256", crypto.SHA256},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewRequest(p.leaf.Cert, p.inter.Cert, tc.hash, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

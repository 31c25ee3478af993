package probe

import (
	"context"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// go test -bench . -run '^$' ./probe prints the verifier's and the
// prober's costs; the closing notes quote them.

func BenchmarkVerifyResponse(b *testing.B) {
	p := testPKI(b)
	for _, tc := range []struct {
		name string
		leaf *testpki.Cert
		der  []byte
	}{
		{"ECDSA-issuer", p.leaf, good(p.leaf)},
		{"RSA-issuer", p.rsaLeaf, good(p.rsaLeaf)},
		{"ECDSA-delegated", p.leaf, testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true}.MustDER()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := verifyResponse(tc.der, tc.leaf.Cert, tc.leaf.Parent.Cert, now, VerifyPolicy{Skew: DefaultSkew}); !v.Valid {
					b.Fatal(v.Detail())
				}
			}
		})
	}
}

func BenchmarkNewRequestWithNonce(b *testing.B) {
	p := testPKI(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRequest(p.leaf.Cert, p.inter.Cert, 0, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStapleProbeLoopback is one full staple probe: connect, TLS 1.3
// handshake, chain verification and staple verification.
func BenchmarkStapleProbeLoopback(b *testing.B) {
	p := testPKI(b)
	srv, err := testpki.NewTLSServer(p.leaf, good(p.leaf), testpki.ServerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	req := StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}}
	b.ReportAllocs()
	for b.Loop() {
		if r := Staple(context.Background(), req)[0]; len(r.Problems) != 0 {
			b.Fatal(r.Problems)
		}
	}
}

// BenchmarkResponderQueryLoopback is one direct query: request encoding,
// HTTP GET on a fresh connection, and verification.
func BenchmarkResponderQueryLoopback(b *testing.B) {
	p := testPKI(b)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	client := testClient()
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}}
	b.ReportAllocs()
	for b.Loop() {
		if r := Responder(context.Background(), client, req); !r.Up {
			b.Fatal(r.Problems)
		}
	}
}

// BenchmarkStapleProbeLoopbackCached is the same probe with a warm
// VerifyCache: the handshake, and only the time checks of the verdicts.
func BenchmarkStapleProbeLoopbackCached(b *testing.B) {
	p := testPKI(b)
	srv, err := testpki.NewTLSServer(p.leaf, good(p.leaf), testpki.ServerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	req := StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.root.Pool(), Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}, Cache: NewVerifyCache(0)}
	b.ReportAllocs()
	for b.Loop() {
		if r := Staple(context.Background(), req)[0]; len(r.Problems) != 0 {
			b.Fatal(r.Problems)
		}
	}
}

// BenchmarkJudgeStaple compares staple verification cold (every check)
// and warm (a VerifyCache hit, then the time checks).
func BenchmarkJudgeStaple(b *testing.B) {
	p := testPKI(b)
	der := good(p.leaf)
	for _, tc := range []struct {
		name  string
		cache *VerifyCache
	}{{"cold", nil}, {"warm", NewVerifyCache(0)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := tc.cache.verify(der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{Skew: DefaultSkew}); !v.Valid {
					b.Fatal(v.Detail())
				}
			}
		})
	}
}

package probe

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// FuzzVerifyResponse feeds arbitrary bytes to the verifier, as a hostile
// server or responder could: it must never panic, and must never call a
// response valid unless the issuer signed it for this certificate.
func FuzzVerifyResponse(f *testing.F) {
	p := testPKI(f)
	f.Add(good(p.leaf))
	f.Add(testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Revoked, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, Nonce: []byte("nonce")}.MustDER())
	f.Add(testpki.StatusOnly(3))
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		v := verifyResponse(der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{Skew: DefaultSkew})
		if v.Valid && (v.Signer == nil || v.CertStatus == "") {
			t.Fatalf("a response without a trusted signer or status was called valid: %+v", v)
		}
		// Differential check against x/crypto/ocsp: whatever this verifier
		// trusts, the reference parser must read the same way.
		// x/crypto/ocsp reads the first entry with the serial, whatever its
		// issuer; this verifier the one that names the issuer too, so the
		// two are compared on single-entry responses.
		if v.Valid && v.SingleResponses == 1 {
			ref, err := ocsp.ParseResponseForCert(der, p.leaf.Cert, p.inter.Cert)
			if err != nil {
				t.Fatalf("trusted a response x/crypto/ocsp rejects: %v", err)
			}
			if !ref.ThisUpdate.Equal(v.ThisUpdate) || (ref.Status == ocsp.Good) != (v.CertStatus == CertGood) {
				t.Fatalf("reads differently from x/crypto/ocsp: %+v vs %+v", ref, v)
			}
		}
		_ = v.problems(stapleReasons, ReasonStapleRevoked, ReasonStapleUnknown)
		_ = checkNonce([]byte("nonce"), v.nonce)
	})
}

// FuzzJudgeStaple judges arbitrary staple bytes as a TLS server could send
// them: never a panic, every problem a staple reason, and a valid staple
// fails only for what it says about the certificate.
func FuzzJudgeStaple(f *testing.F) {
	p := testPKI(f)
	f.Add(good(p.leaf))
	f.Add(testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Unknown, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, ByKey: true}.MustDER())
	f.Add(testpki.StatusOnly(1))
	f.Fuzz(func(t *testing.T, der []byte) {
		r := &StapleResult{Leaf: p.leaf.Cert, Issuer: p.inter.Cert}
		r.judgeStaple(der, StapleRequest{Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}})
		for _, pr := range r.Problems {
			if !strings.HasPrefix(string(pr.Reason), "staple_") && pr.Reason != ReasonIssuerMissing {
				t.Fatalf("a staple problem with reason %q", pr.Reason)
			}
			if r.Staple.Valid && pr.Reason != ReasonStapleRevoked && pr.Reason != ReasonStapleUnknown {
				t.Fatalf("a valid staple failed for %q", pr.Reason)
			}
		}
		if !r.Staple.Valid && len(r.Problems) == 0 {
			t.Fatal("an invalid staple with no problem")
		}
		if r.Staple.Valid && r.Staple.CertStatus == CertGood && len(r.Problems) != 0 {
			t.Fatalf("a valid good staple with problems %v", r.Problems)
		}
	})
}

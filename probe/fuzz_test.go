package probe

import (
	"testing"
	"time"

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
		v := verifyResponse(der, p.leaf.Cert, p.inter.Cert, now, DefaultSkew)
		if v.Valid && (v.Signer == nil || v.CertStatus == "") {
			t.Fatalf("a response without a trusted signer or status was called valid: %+v", v)
		}
		_ = v.problems(stapleReasons, ReasonStapleRevoked, ReasonStapleUnknown)
		_ = checkNonce([]byte("nonce"), v.nonce)
	})
}

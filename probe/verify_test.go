package probe

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/http"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestVerifierLooseEnds covers the RFC 6960 and RFC 5019 checks that
// x/crypto/ocsp leaves to its caller, each against a response built on
// purpose, with the clock frozen.
func TestVerifierLooseEnds(t *testing.T) {
	p := testPKI(t)
	unknownOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	entry := testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))
	cases := []struct {
		name   string
		resp   testpki.Response
		policy VerifyPolicy
		want   Reason
		signer SignerKind
	}{
		{
			name:   "delegated signer valid at ProducedAt but expired now",
			resp:   testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-30*time.Hour), now.Add(2*time.Hour))}, ProducedAt: now.Add(-30 * time.Hour), Signer: p.expiredSigner, Embed: true},
			policy: VerifyPolicy{Skew: DefaultSkew},
			want:   ReasonStapleUnauthorizedSigner,
			signer: SignerDelegated,
		},
		{
			name:   "no NextUpdate, 30 days old",
			resp:   testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-30*24*time.Hour), time.Time{})}, ProducedAt: now.Add(-30 * 24 * time.Hour), Signer: p.inter},
			policy: VerifyPolicy{Skew: DefaultSkew},
			want:   ReasonStapleNoNextUpdate,
			signer: SignerIssuer,
		},
		{
			name:   "NextUpdate in year 9999",
			resp:   testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))}, ProducedAt: now, Signer: p.inter},
			policy: VerifyPolicy{Skew: DefaultSkew},
			want:   ReasonStapleTooLongLived,
			signer: SignerIssuer,
		},
		{
			name:   "window just inside max_response_age",
			resp:   testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(47*time.Hour))}, ProducedAt: now, Signer: p.inter},
			policy: VerifyPolicy{MaxResponseAge: 48 * time.Hour},
			signer: SignerIssuer,
		},
		{
			name:   "window one second over max_response_age",
			resp:   testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(47*time.Hour+time.Second))}, ProducedAt: now, Signer: p.inter},
			policy: VerifyPolicy{MaxResponseAge: 48 * time.Hour},
			want:   ReasonStapleTooLongLived,
			signer: SignerIssuer,
		},
		{
			name:   "unknown critical response extension",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.inter, Extensions: []pkix.Extension{{Id: unknownOID, Critical: true, Value: asn1.NullBytes}}},
			want:   ReasonStapleCriticalExtension,
			signer: SignerIssuer,
		},
		{
			name:   "unknown critical single extension",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.inter, SingleExtensions: []pkix.Extension{{Id: unknownOID, Critical: true, Value: asn1.NullBytes}}},
			want:   ReasonStapleCriticalExtension,
			signer: SignerIssuer,
		},
		{
			name:   "unknown non-critical extension is ignored",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.inter, Extensions: []pkix.Extension{{Id: unknownOID, Value: asn1.NullBytes}}},
			signer: SignerIssuer,
		},
		{
			name:   "critical nonce is understood",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.inter, Extensions: []pkix.Extension{{Id: oidOCSPNonce, Critical: true, Value: []byte{4, 1, 0}}}},
			signer: SignerIssuer,
		},
		{
			name:   "signer found by ResponderID, not by position",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.delegated, Embed: true, ExtraCerts: []*testpki.Cert{p.foreignSigner, p.inter}},
			signer: SignerDelegated,
		},
		{
			name:   "signer found by key hash among several",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.delegated, Embed: true, ByKey: true, ExtraCerts: []*testpki.Cert{p.foreignSigner}},
			signer: SignerDelegated,
		},
		{
			name:   "ResponderID names an embedded certificate that did not sign",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.delegated, Embed: true, SignWith: p.foreignSigner.Key},
			want:   ReasonStapleBadSignature,
			signer: SignerDelegated,
		},
		{
			name: "ResponderID names nobody we have",
			resp: testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.foreignSigner},
			want: ReasonStapleUnauthorizedSigner,
		},
		{
			name:   "signer without OCSPSigning EKU, not pinned",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.delegatedNoEKU, Embed: true},
			want:   ReasonStapleUnauthorizedSigner,
			signer: SignerDelegated,
		},
		{
			name:   "signer without OCSPSigning EKU, pinned",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.delegatedNoEKU},
			policy: VerifyPolicy{Pinned: []*x509.Certificate{p.delegatedNoEKU.Cert}},
			signer: SignerPinned,
		},
		{
			name:   "another CA's signer is not accepted because a different signer is pinned",
			resp:   testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now, Signer: p.foreignSigner, Embed: true},
			policy: VerifyPolicy{Pinned: []*x509.Certificate{p.delegatedNoEKU.Cert}},
			want:   ReasonStapleUnauthorizedSigner,
			signer: SignerDelegated,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := verifyResponse(tc.resp.MustDER(), p.leaf.Cert, p.inter.Cert, now, tc.policy)
			got := v.problems(stapleReasons, ReasonStapleRevoked, ReasonStapleUnknown)
			switch {
			case tc.want == "" && (len(got) != 0 || !v.Valid):
				t.Errorf("want valid, got valid=%v problems %v", v.Valid, got)
			case tc.want != "" && (len(got) != 1 || got[0].Reason != tc.want || v.Valid):
				t.Errorf("want %s, got valid=%v problems %v", tc.want, v.Valid, got)
			}
			var kind SignerKind
			if v.Signer != nil {
				kind = v.Signer.Kind
			}
			if kind != tc.signer {
				t.Errorf("signer kind %q, want %q", kind, tc.signer)
			}
		})
	}
}

func TestVerificationIsJudgedAtUseAndNeverChanges(t *testing.T) {
	p := testPKI(t)
	der := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true}.MustDER()
	v := verifyResponse(der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{})
	if !v.Valid {
		t.Fatalf("fresh response invalid: %s", v.Detail())
	}
	later := v.At(now.Add(time.Hour))
	if later.Valid || later.failure != failExpired {
		t.Errorf("an hour later: valid %v failure %q, want expired", later.Valid, later.failure)
	}
	if !v.Valid || v.Detail() != "" {
		t.Error("judging a verification at another time changed it")
	}
	if back := later.At(now); !back.Valid {
		t.Errorf("judged back at now: %s", back.Detail())
	}
}

func TestRevocationReasonAbsentIsUnspecified(t *testing.T) {
	p := testPKI(t)
	e := testpki.EntryFor(p.leaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))
	e.RevocationReason = 1 // keyCompromise
	v := verifyResponse(testpki.Response{Entries: []testpki.Entry{e}, ProducedAt: now, Signer: p.inter}.MustDER(), p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{})
	if v.CertStatus != CertRevoked || v.RevocationReason != "keyCompromise" || v.RevokedAt == nil {
		t.Errorf("revoked with a reason: %+v", v)
	}
	e.RevocationReason = 0 // the encoder leaves an unspecified reason out
	v = verifyResponse(testpki.Response{Entries: []testpki.Entry{e}, ProducedAt: now, Signer: p.inter}.MustDER(), p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{})
	if v.CertStatus != CertRevoked || v.RevocationReason != "unspecified" {
		t.Errorf("revoked without a reason: status %s reason %q", v.CertStatus, v.RevocationReason)
	}
}

func TestCacheHeadersSurviveHugeMaxAge(t *testing.T) {
	h := http.Header{}
	h.Set("Cache-Control", "public, max-age=18446744073")
	c := readCacheHeaders(h)
	if c.MaxAge == nil || *c.MaxAge <= 0 {
		t.Fatalf("max-age=18446744073 read as %v", c.MaxAge)
	}
	h.Set("Cache-Control", "max-age=99999999999999999999")
	if c := readCacheHeaders(h); c.MaxAge != nil {
		t.Errorf("an unparsable max-age read as %v", *c.MaxAge)
	}
}

// TestMultiResponseMatchesSerialAndIssuer: a staple may answer for the
// same serial from two issuers; the entry naming the right issuer counts,
// wherever it stands.
func TestMultiResponseMatchesSerialAndIssuer(t *testing.T) {
	p := testPKI(t)
	foreign := testpki.Entry{Serial: p.leaf.Cert.SerialNumber, Issuer: p.otherInter.Cert, Status: testpki.Revoked, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-2 * time.Hour)}
	mine := testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))
	der := testpki.Response{Entries: []testpki.Entry{foreign, mine}, ProducedAt: now, Signer: p.inter}.MustDER()
	v := verifyResponse(der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{})
	if !v.Valid || v.CertStatus != CertGood {
		t.Errorf("valid %v status %s (%s); want the second entry's good", v.Valid, v.CertStatus, v.Detail())
	}
}

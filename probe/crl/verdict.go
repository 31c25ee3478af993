package crl

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// Verdict is a judgement of a CRL as a whole at one instant.
type Verdict struct {
	// Trusted is true when the issuer signed the CRL, the CRL names it,
	// nothing in it is unsupported, and now (with the skew) is inside
	// ThisUpdate..NextUpdate. Only a trusted CRL says anything about a
	// certificate.
	Trusted  bool
	Problems []Problem
}

// Verdict judges the CRL at now. It is a pure function of the CRL, now and
// skew: the same copy judged later may turn stale, and nothing is stored.
func (c *CRL) Verdict(now time.Time, skew time.Duration) Verdict {
	problems := slices.Clone(c.findings)
	shifted := now.Add(skew)
	switch {
	case c.info.ThisUpdate.After(shifted):
		problems = append(problems, Problem{ReasonStale, fmt.Sprintf("ThisUpdate %s is %s ahead of now", stamp(c.info.ThisUpdate), c.info.ThisUpdate.Sub(now).Round(time.Second))})
	case c.info.NextUpdate.IsZero():
		problems = append(problems, Problem{ReasonNoNextUpdate, ""})
	case !shifted.Before(c.info.NextUpdate):
		problems = append(problems, Problem{ReasonStale, fmt.Sprintf("NextUpdate %s was %s ago (skew allowance %s)", stamp(c.info.NextUpdate), now.Sub(c.info.NextUpdate).Round(time.Second), skew)})
	}
	return Verdict{Trusted: len(problems) == 0, Problems: problems}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CertStatus is what a CRL says about one certificate.
type CertStatus struct {
	Verdict
	// Listed, RevokedAt and ReasonCode are set only when the CRL is
	// trusted: an untrusted CRL gives no answer at all.
	Listed     bool
	RevokedAt  time.Time
	ReasonCode int
}

// Check judges cert against the CRL at now. Beyond the CRL's own Verdict,
// the CRL must be its issuer's and, when it has an issuingDistributionPoint,
// must cover this kind of certificate and one of its distribution points.
// A listed certificate adds ReasonRevoked to the problems.
func (c *CRL) Check(cert *x509.Certificate, now time.Time, skew time.Duration) CertStatus {
	v := c.Verdict(now, skew)
	v.Problems = append(v.Problems, c.coverage(cert)...)
	v.Trusted = len(v.Problems) == 0
	st := CertStatus{Verdict: v, ReasonCode: NoReasonCode}
	if !v.Trusted {
		return st
	}
	// removeFromCRL (8) belongs to delta CRLs, which are not trusted here;
	// in a full CRL it says the certificate is no longer revoked.
	if listed, at, reason := c.Lookup(cert.SerialNumber); listed && reason != reasonRemoveFromCRL {
		st.Listed, st.RevokedAt, st.ReasonCode = true, at, reason
		st.Problems = append(st.Problems, Problem{ReasonRevoked, revokedDetail(at, reason)})
	}
	return st
}

const reasonRemoveFromCRL = 8

func revokedDetail(at time.Time, reason int) string {
	d := "revoked at " + stamp(at)
	if reason != NoReasonCode {
		d += fmt.Sprintf(", reasonCode %d", reason)
	}
	return d
}

// coverage checks that the CRL is the one that speaks for cert (RFC 5280
// §6.3.3 (b)).
func (c *CRL) coverage(cert *x509.Certificate) []Problem {
	if cert == nil {
		return []Problem{{ReasonBadSignature, "no certificate to check"}}
	}
	var out []Problem
	if !bytes.Equal(cert.RawIssuer, c.rawIssuer) {
		out = append(out, Problem{ReasonBadSignature, fmt.Sprintf("the CRL is issued by %q, not by the certificate's issuer %q", c.info.Issuer, cert.Issuer)})
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	switch {
	case c.scope.onlyUser && isCA:
		out = append(out, Problem{ReasonUnsupported, "the CRL covers only end-entity certificates and this one is a CA"})
	case c.scope.onlyCA && !isCA:
		out = append(out, Problem{ReasonUnsupported, "the CRL covers only CA certificates and this one is not a CA"})
	}
	if len(c.scope.names) > 0 && len(cert.CRLDistributionPoints) > 0 &&
		!slices.ContainsFunc(cert.CRLDistributionPoints, func(u string) bool { return slices.Contains(c.scope.names, u) }) {
		out = append(out, Problem{ReasonUnsupported, fmt.Sprintf("the CRL's issuingDistributionPoint %q names none of the certificate's distribution points", c.scope.names)})
	}
	return out
}

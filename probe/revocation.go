package probe

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// CRLPolicy says which certificates of a chain have their CRLs checked.
type CRLPolicy string

// With CRLAuto a certificate's CRL is checked when it names a CRL and no
// OCSP responder, which is how public CAs have run since OCSP became
// optional (CA/B Forum ballot SC-063); CRLOn checks every CRL named;
// CRLOff none.
const (
	CRLAuto CRLPolicy = "auto"
	CRLOn   CRLPolicy = "on"
	CRLOff  CRLPolicy = "off"
)

// Reasons found while checking revocation beyond the leaf's OCSP: the
// CRL reasons of package crl, and what the chain as a whole shows.
const (
	ReasonCRLUnreachable          = Reason(crl.ReasonUnreachable)
	ReasonCRLTimeout              = Reason(crl.ReasonTimeout)
	ReasonCRLHTTPStatus           = Reason(crl.ReasonHTTPStatus)
	ReasonCRLTooLarge             = Reason(crl.ReasonTooLarge)
	ReasonCRLMalformed            = Reason(crl.ReasonMalformed)
	ReasonCRLBadSignature         = Reason(crl.ReasonBadSignature)
	ReasonCRLStale                = Reason(crl.ReasonStale)
	ReasonCRLNoNextUpdate         = Reason(crl.ReasonNoNextUpdate)
	ReasonCRLUnsupported          = Reason(crl.ReasonUnsupported)
	ReasonCRLRevoked              = Reason(crl.ReasonRevoked)
	ReasonChainRevoked     Reason = "chain_revoked"
	ReasonCRLOCSPDisagree  Reason = "crl_ocsp_disagree"
	ReasonNoRevocationInfo Reason = "no_revocation_info"
)

// CRLResult is one CRL checked for one certificate.
type CRLResult struct {
	URL      string
	Snapshot *crl.Snapshot
	// Status is what the CRL says about this certificate; Verdict the
	// CRL's own health, the same for every certificate it covers.
	Status  crl.CertStatus
	Verdict crl.Verdict
}

func crlResult(url string, snap *crl.Snapshot, cert *x509.Certificate, now time.Time, skew time.Duration) *CRLResult {
	r := &CRLResult{URL: url, Snapshot: snap, Status: snap.Check(cert, now, skew)}
	r.Verdict.Problems = append([]crl.Problem(nil), snap.Problems...)
	if snap.CRL != nil {
		v := snap.CRL.Verdict(now, skew)
		r.Verdict.Problems = append(r.Verdict.Problems, v.Problems...)
	}
	r.Verdict.Trusted = snap.CRL != nil && len(r.Verdict.Problems) == 0
	return r
}

// ChainCert is the revocation check of one certificate on the path.
type ChainCert struct {
	// Depth is 0 for the leaf, 1 for its issuer and so on.
	Depth   int
	Subject string
	Serial  string
	CRLs    []*CRLResult
	// OCSP holds the responders' answers about an intermediate that names
	// a responder; the leaf's are Report.Responders.
	OCSP     []*ResponderResult
	Problems []Problem
}

// CRLRevoked reports whether a trusted CRL lists the certificate, and
// whether any trusted CRL spoke at all.
func (c *ChainCert) CRLRevoked() (revoked, known bool) {
	for _, r := range c.CRLs {
		if r.Status.Trusted {
			known = true
			revoked = revoked || r.Status.Listed
		}
	}
	return revoked, known
}

// checkChain checks revocation along path (leaf first, each issued by the
// next) as far as the path goes. A self-signed certificate is a trust
// anchor and is not checked.
func checkChain(ctx context.Context, spec TargetSpec, pool *ResponderPool, path []*x509.Certificate, crlFile []byte) []*ChainCert {
	var out []*ChainCert
	for depth := 0; depth+1 < len(path); depth++ {
		cert, issuer := path[depth], path[depth+1]
		if depth > 0 && isSelfSigned(cert) {
			break
		}
		out = append(out, checkCert(ctx, spec, pool, depth, cert, issuer, crlFile))
	}
	return out
}

func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func checkCert(ctx context.Context, spec TargetSpec, pool *ResponderPool, depth int, cert, issuer *x509.Certificate, crlFile []byte) *ChainCert {
	// The facts come through the interner: every target behind one CA
	// then shares its intermediate's subject and serial.
	var in *CertInterner
	if spec.Staple != nil {
		in = spec.Staple.Interner
	}
	info := in.inspect(cert)
	cc := &ChainCert{Depth: depth, Subject: info.Subject, Serial: info.SerialNumber}
	ocspURLs, _ := usableURLs(cert.OCSPServer)
	cdps := crl.DistributionPoints(cert)
	where := ""
	if depth > 0 {
		where = fmt.Sprintf("depth %d (%s): ", depth, cc.Subject)
	}
	if depth == 0 && len(ocspURLs) == 0 && len(cdps) == 0 && crlFile == nil &&
		cert.NotAfter.Sub(cert.NotBefore) > ShortLivedValidity {
		cc.Problems = append(cc.Problems, Problem{Reason: ReasonNoRevocationInfo,
			Detail: "the certificate names neither an OCSP responder nor a CRL, and is not short-lived"})
	}

	switch {
	case depth == 0 && crlFile != nil:
		now := spec.Now()
		snap := &crl.Snapshot{URL: "file", LastGood: now}
		parsed, err := crl.Parse(crlFile, issuer)
		if err != nil {
			snap.Problems = []crl.Problem{{Reason: crl.ReasonMalformed, Detail: err.Error()}}
		} else {
			snap.CRL = parsed
		}
		cc.CRLs = append(cc.CRLs, crlResult(snap.URL, snap, cert, now, spec.Policy.Skew))
	case spec.CRLs != nil && len(cdps) > 0 && (spec.CRL == CRLOn || (spec.CRL == CRLAuto && len(ocspURLs) == 0)):
		results := make([]*CRLResult, len(cdps))
		var wg sync.WaitGroup
		for i, u := range cdps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				snap := spec.CRLs.Get(ctx, u, issuer)
				// Judged when the copy is in hand: a download may take
				// longer than the time windows allow.
				results[i] = crlResult(u, snap, cert, spec.Now(), spec.Policy.Skew)
			}()
		}
		wg.Wait()
		cc.CRLs = results
	}
	for _, r := range cc.CRLs {
		for _, p := range r.Status.Problems {
			reason := Reason(p.Reason)
			if reason == ReasonCRLRevoked && depth > 0 {
				reason = ReasonChainRevoked
			}
			cc.Problems = append(cc.Problems, Problem{Reason: reason, Detail: where + r.URL + ": " + p.Detail})
		}
	}
	if depth > 0 && len(ocspURLs) > 0 && pool != nil && spec.QueryResponder {
		cc.OCSP = queryAll(ctx, spec, pool, ocspURLs, OriginRemote, cert, issuer)
		for _, r := range cc.OCSP {
			for _, p := range r.Problems {
				if p.Reason == ReasonResponseRevoked {
					p.Reason = ReasonChainRevoked
				}
				cc.Problems = append(cc.Problems, Problem{Reason: p.Reason, Detail: where + r.URL + ": " + p.Detail})
			}
		}
	}
	return cc
}

// compareCRLWithOCSP flags a leaf that a trusted CRL and a valid OCSP
// answer (stapled or fetched) disagree about: one says revoked, the other
// good.
func compareCRLWithOCSP(rep *Report) {
	if len(rep.Chain) == 0 || rep.Chain[0].Depth != 0 {
		return
	}
	leaf := rep.Chain[0]
	revoked, known := leaf.CRLRevoked()
	if !known {
		return
	}
	var answers []*Verification
	for _, e := range rep.Endpoints {
		if e.Staple != nil && e.Staple.Valid {
			answers = append(answers, e.Staple)
		}
	}
	for _, r := range rep.Responders {
		if r.Response != nil && r.Response.Valid {
			answers = append(answers, r.Response)
		}
	}
	for _, v := range answers {
		if (v.CertStatus == CertRevoked) != revoked && v.CertStatus != CertUnknown {
			crlSays := "good"
			if revoked {
				crlSays = "revoked"
			}
			leaf.Problems = append(leaf.Problems, Problem{Reason: ReasonCRLOCSPDisagree,
				Detail: fmt.Sprintf("the CRL says %s, OCSP says %s", crlSays, v.CertStatus)})
			return
		}
	}
}

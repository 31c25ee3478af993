package probe

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// StapleRequirement says whether a missing staple fails a target.
type StapleRequirement string

// RequireAuto requires a staple exactly when the certificate is
// must-staple, which is when clients hard-fail without one.
const (
	RequireAuto   StapleRequirement = "auto"
	RequireAlways StapleRequirement = "true"
	RequireNever  StapleRequirement = "false"
)

// Requires is the one place that decides whether a staple is required
// from a certificate: the verdict and the exported ocsp_staple_required
// both ask it.
func (r StapleRequirement) Requires(mustStaple bool) bool {
	return r == RequireAlways || (r != RequireNever && mustStaple)
}

// TargetSpec is everything one run of one target needs. Either Staple is
// set (an endpoint) or Leaf and Issuer are (a responder-only target).
type TargetSpec struct {
	Name   string
	Staple *StapleRequest

	Leaf, Issuer *x509.Certificate

	QueryResponder bool
	// ResponderURLs overrides the leaf's AIA OCSP URLs.
	ResponderURLs []string
	Method        Method
	Hash          crypto.Hash
	Nonce         bool
	RequireNonce  bool
	RequireStaple StapleRequirement
	MaxBodyBytes  int64
	UserAgent     string
	// ResponderHost replaces the Host header of responder queries;
	// ResponderProxy carries them instead of the client's proxy setting.
	ResponderHost  string
	ResponderProxy *url.URL
	Now            func() time.Time
	Policy         VerifyPolicy
	// Timeout bounds responder queries shared with other targets.
	Timeout time.Duration
	// Dial is the network policy. Adhoc marks a target named by a /probe
	// caller: its endpoint is remote input like a certificate's URLs.
	Dial  *DialPolicy
	Adhoc bool
	// CRL is the CRL policy; CRLs the shared CRL cache, nil for no CRL
	// checks. CRLFile, when set, is checked for the leaf instead of its
	// distribution points, for air-gapped checks.
	CRL     CRLPolicy
	CRLs    *crl.Pool
	CRLFile []byte
}

// Report is one run of one target: its handshakes, its responder queries
// and the verdict under the target's policy.
type Report struct {
	Target    string
	Started   time.Time
	Duration  time.Duration
	Endpoints []*StapleResult
	Cert      *CertInfo
	Leaf      *x509.Certificate
	// NoResponderURL is set when the certificate names no OCSP responder
	// and none is configured: a posture, not a failure.
	NoResponderURL bool
	Responders     []*ResponderResult
	// Chain is the revocation check of every certificate on the path
	// except the trust anchor, leaf first: CRLs, and OCSP for
	// intermediates. Empty when no path is known.
	Chain []*ChainCert
	// Failures are the problems that fail the target under its policy.
	Failures []Problem
	Success  bool
}

// RunTarget probes a target's endpoint, queries its responders through
// pool, compares the two, and judges the result.
func RunTarget(ctx context.Context, spec TargetSpec, pool *ResponderPool) *Report {
	if spec.Now == nil {
		spec.Now = time.Now
	}
	if spec.CRL == "" {
		spec.CRL = CRLAuto
	}
	rep := &Report{Target: spec.Name, Started: spec.Now()}
	start := time.Now()
	defer func() { rep.Duration = time.Since(start) }()

	leaf, issuer := spec.Leaf, spec.Issuer
	var path []*x509.Certificate
	var cert *CertInfo
	if spec.Staple != nil {
		sreq := *spec.Staple
		sreq.Now, sreq.Policy, sreq.Dial = spec.Now, spec.Policy, spec.Dial
		if spec.Adhoc {
			sreq.Origin = OriginRemote
		}
		rep.Endpoints = Staple(ctx, sreq)
		leaf, issuer = nil, nil
		for _, e := range rep.Endpoints {
			if e.Leaf != nil {
				leaf, issuer, path, cert = e.Leaf, e.Issuer, e.Path, e.Cert
				break
			}
		}
	}
	if leaf != nil {
		rep.Leaf = leaf
		if cert == nil {
			cert = InspectCert(leaf)
		}
		rep.Cert = cert
	}
	if spec.QueryResponder && leaf != nil {
		urls, origin := spec.ResponderURLs, OriginConfigured
		if len(urls) == 0 || spec.Adhoc {
			urls, origin = rep.Cert.OCSPServers, OriginRemote
		}
		rep.NoResponderURL = len(urls) == 0
		rep.Responders = queryAll(ctx, spec, pool, urls, origin, leaf, issuer)
		compareWithResponders(rep)
	} else if leaf != nil {
		rep.NoResponderURL = len(spec.ResponderURLs) == 0 && len(rep.Cert.OCSPServers) == 0
	}
	if leaf != nil && issuer != nil && (spec.CRL != CRLOff || spec.CRLFile != nil) {
		if path == nil {
			path = []*x509.Certificate{leaf, issuer}
		}
		rep.Chain = checkChain(ctx, spec, pool, path, spec.CRLFile)
		compareCRLWithOCSP(rep)
	}
	rep.Failures = Evaluate(rep, spec.RequireStaple)
	rep.Success = len(rep.Failures) == 0
	return rep
}

func queryAll(ctx context.Context, spec TargetSpec, pool *ResponderPool, urls []string, origin Origin, leaf, issuer *x509.Certificate) []*ResponderResult {
	results := make([]*ResponderResult, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = pool.Query(ctx, ResponderRequest{
				URL: u, Leaf: leaf, Issuer: issuer, Method: spec.Method, Hash: spec.Hash,
				Nonce: spec.Nonce, RequireNonce: spec.RequireNonce, MaxBodyBytes: spec.MaxBodyBytes,
				UserAgent: spec.UserAgent, HostHeader: spec.ResponderHost, Proxy: spec.ResponderProxy, Policy: spec.Policy, Timeout: spec.Timeout, Dial: spec.Dial, Origin: origin,
			})
		}()
	}
	wg.Wait()
	return results
}

// compareWithResponders flags a valid staple whose status differs from a
// valid responder answer for the same certificate. The dangerous case is a
// server still stapling "good" for a certificate the CA has revoked.
func compareWithResponders(rep *Report) {
	for _, e := range rep.Endpoints {
		if e.Staple == nil || !e.Staple.Valid || e.Leaf == nil || e.Leaf.SerialNumber.Cmp(rep.Leaf.SerialNumber) != 0 {
			continue
		}
		for _, r := range rep.Responders {
			if r.Response == nil || !r.Response.Valid {
				continue
			}
			agrees := r.Response.CertStatus == e.Staple.CertStatus
			if e.ResponderAgrees == nil || !agrees {
				e.ResponderAgrees = &agrees
			}
			if !agrees {
				e.Problems = append(e.Problems, Problem{Reason: ReasonStapleResponderDisagree,
					Detail: fmt.Sprintf("staple says %s, %s says %s", e.Staple.CertStatus, r.URL, r.Response.CertStatus)})
			}
		}
	}
}

// Evaluate returns the problems that fail a run under the staple
// requirement: whether the endpoint's revocation state is served
// correctly. A missing staple fails only when a staple is required. For
// an endpoint target, a responder's own trouble (unreachable, errors,
// bad signatures) is the responder's health, reported per responder, and
// does not fail the endpoint; what the responder says about the
// certificate (revoked, unknown) still does. For a responder-only target
// the responder is what is monitored, so every problem fails it.
func Evaluate(rep *Report, require StapleRequirement) []Problem {
	var out []Problem
	keep := func(p Problem) {
		switch p.Reason {
		case ReasonStapleMissing:
			if !require.Requires(false) {
				return
			}
		case ReasonMustStapleViolated:
			if !require.Requires(true) {
				return
			}
		}
		out = append(out, p)
	}
	for _, e := range rep.Endpoints {
		for _, p := range e.Problems {
			keep(p)
		}
	}
	endpointTarget := len(rep.Endpoints) > 0
	for _, r := range rep.Responders {
		for _, p := range r.Problems {
			if endpointTarget && !describesCertificate(p.Reason) {
				continue
			}
			keep(p)
		}
	}
	for _, c := range rep.Chain {
		for _, p := range c.Problems {
			// As with responders: a CRL that cannot be fetched or trusted is
			// the CA's problem, reported per URL; what the chain says about
			// the certificates is the endpoint's.
			if endpointTarget && !describesChain(p.Reason) {
				continue
			}
			keep(p)
		}
	}
	return out
}

// describesChain tells a verdict on a certificate of the chain from a
// problem of the CRL or responder that should have given it.
func describesChain(r Reason) bool {
	switch r {
	case ReasonCRLRevoked, ReasonChainRevoked, ReasonCRLOCSPDisagree, ReasonNoRevocationInfo:
		return true
	}
	return false
}

// describesCertificate tells a responder's verdict on the certificate
// from a problem of the responder itself.
func describesCertificate(r Reason) bool {
	return r == ReasonResponseRevoked || r == ReasonResponseUnknown
}

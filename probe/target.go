package probe

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"sync"
	"time"
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
	Now           func() time.Time
	// Skew is the clock-skew tolerance; zero means DefaultSkew.
	Skew time.Duration
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
	rep := &Report{Target: spec.Name, Started: spec.Now()}
	start := time.Now()
	defer func() { rep.Duration = time.Since(start) }()

	leaf, issuer := spec.Leaf, spec.Issuer
	if spec.Staple != nil {
		sreq := *spec.Staple
		sreq.Now, sreq.Skew = spec.Now, spec.Skew
		rep.Endpoints = Staple(ctx, sreq)
		leaf, issuer = nil, nil
		for _, e := range rep.Endpoints {
			if e.Leaf != nil {
				leaf, issuer = e.Leaf, e.Issuer
				break
			}
		}
	}
	if leaf != nil {
		rep.Leaf = leaf
		rep.Cert = InspectCert(leaf)
	}
	if spec.QueryResponder && leaf != nil {
		urls := spec.ResponderURLs
		if len(urls) == 0 {
			urls = rep.Cert.OCSPServers
		}
		rep.NoResponderURL = len(urls) == 0
		rep.Responders = queryAll(ctx, spec, pool, urls, leaf, issuer)
		compareWithResponders(rep)
	} else if leaf != nil {
		rep.NoResponderURL = len(spec.ResponderURLs) == 0 && len(rep.Cert.OCSPServers) == 0
	}
	rep.Failures = Evaluate(rep, spec.RequireStaple)
	rep.Success = len(rep.Failures) == 0
	return rep
}

func queryAll(ctx context.Context, spec TargetSpec, pool *ResponderPool, urls []string, leaf, issuer *x509.Certificate) []*ResponderResult {
	results := make([]*ResponderResult, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = pool.Query(ctx, ResponderRequest{
				URL: u, Leaf: leaf, Issuer: issuer, Method: spec.Method, Hash: spec.Hash,
				Nonce: spec.Nonce, RequireNonce: spec.RequireNonce, MaxBodyBytes: spec.MaxBodyBytes,
				UserAgent: spec.UserAgent, Skew: spec.Skew,
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
			if require != RequireAlways {
				return
			}
		case ReasonMustStapleViolated:
			if require == RequireNever {
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
	return out
}

// describesCertificate tells a responder's verdict on the certificate
// from a problem of the responder itself.
func describesCertificate(r Reason) bool {
	return r == ReasonResponseRevoked || r == ReasonResponseUnknown
}

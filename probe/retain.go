package probe

// Compact returns the report as an agent keeps it between runs: every
// field that the verdict, the metrics and the status page read, without
// what only the run itself or a one-shot caller needs. The parsed
// certificates (Leaf, and each endpoint's Leaf, Chain, Issuer and Path)
// and the raw bytes received (StapleDER, each responder's DER) are left
// out: they are most of a report's size, and an agent holding 50,000
// reports would otherwise keep 50,000 copies of them alive.
//
// r is not changed, and the compact report shares the values that need
// no change with it. in, when not nil, also shares the compact form of
// a responder answer between the reports of every target that received
// it, as the pool shared the answer itself, and one ChainCert between
// the targets whose chains share a certificate nothing was found about.
func (r *Report) Compact(in *CertInterner) *Report {
	c := *r
	c.Leaf = nil
	c.Endpoints = compactAll(r.Endpoints, func(e *StapleResult) *StapleResult {
		ce := *e
		ce.Leaf, ce.Chain, ce.Issuer, ce.Path, ce.StapleDER = nil, nil, nil, nil, nil
		return &ce
	})
	c.Responders = compactAll(r.Responders, in.compactResponder)
	c.Chain = compactAll(r.Chain, func(cc *ChainCert) *ChainCert {
		if len(cc.OCSP) == 0 {
			return in.shareChainCert(cc)
		}
		ccc := *cc
		ccc.OCSP = compactAll(cc.OCSP, in.compactResponder)
		return &ccc
	})
	return &c
}

// chainCertKey is a ChainCert that nothing was found about: no CRL
// checked, no responder asked, no problem. Every target behind one
// intermediate has the same, and so does every target serving one leaf.
type chainCertKey struct {
	depth           int
	subject, serial string
}

// shareChainCert returns the one shared ChainCert equal to cc when cc
// holds nothing but the certificate's name, else cc.
func (ci *CertInterner) shareChainCert(cc *ChainCert) *ChainCert {
	if ci == nil || cc.CRLs != nil || cc.OCSP != nil || cc.Problems != nil {
		return cc
	}
	key := chainCertKey{cc.Depth, cc.Subject, cc.Serial}
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if shared := ci.chainCerts.get(key); shared != nil {
		return shared
	}
	ci.chainCerts.put(key, cc)
	return cc
}

// compactAll maps a slice to a new one of the same length and capacity,
// keeping nil as nil.
func compactAll[T any](in []*T, f func(*T) *T) []*T {
	if in == nil {
		return nil
	}
	out := make([]*T, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// compactResponder drops the answer's bytes. Results the pool shared
// between targets stay shared once compact: one copy per answer, not
// per target.
func (ci *CertInterner) compactResponder(r *ResponderResult) *ResponderResult {
	if r.DER == nil {
		return r
	}
	return ci.shareCompact(r, func() *ResponderResult {
		c := *r
		c.DER = nil
		return &c
	})
}

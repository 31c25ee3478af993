package probe

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/httpphase"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// DefaultSkew is the clock-skew tolerance applied to OCSP time windows.
const DefaultSkew = 5 * time.Minute

// StapleRequest says which TLS endpoint to probe and how to judge it.
type StapleRequest struct {
	// Endpoint is host:port. host may be an IP literal, with ServerName
	// giving the SNI name.
	Endpoint   string
	ServerName string
	// Roots verifies the served chain; nil means the system pool.
	Roots *x509.CertPool
	// Issuer is used when the server does not send the leaf's issuer.
	Issuer *x509.Certificate
	// AllAddresses probes every A and AAAA address instead of the first.
	AllAddresses bool
	Now          func() time.Time
	Policy       VerifyPolicy
	// ALPN lists the application protocols offered, in order; empty
	// offers none.
	ALPN []string
	// TLSMinVersion and TLSMaxVersion bound the TLS versions offered;
	// zero means TLS 1.2 and the library's highest.
	TLSMinVersion, TLSMaxVersion uint16
	// Groups are the key exchanges offered, in order; nil means crypto/tls's
	// default, which offers the X25519MLKEM768 hybrid first, as browsers do.
	Groups []tls.CurveID
	// StartTLS is the plain-text dialogue run before the handshake;
	// empty for TLS from the first byte.
	StartTLS starttls.Protocol
	// ClientCertificates are presented when the server asks for one.
	ClientCertificates []tls.Certificate
	// SkipChainVerify leaves the served chain unjudged (insecure_skip_verify):
	// ChainSkipped is reported instead. The staple is still verified in
	// full, against its issuer.
	SkipChainVerify bool
	// Family limits the addresses a name resolves to; IPAny takes all.
	Family IPFamily
	// Proxy, when set, is an http:// proxy the endpoint is reached
	// through with CONNECT; the proxy resolves the endpoint's name.
	Proxy *url.URL
	// Resolver defaults to net.DefaultResolver.
	Resolver *net.Resolver
	// Dial is the network policy; Origin says who named Endpoint.
	Dial   *DialPolicy
	Origin Origin
	// Cache remembers verdicts on byte-identical chains and staples; nil
	// verifies everything every run. Interner shares parsed certificates
	// between results; nil keeps each handshake's own.
	Cache    *VerifyCache
	Interner *CertInterner
}

// Timings of one handshake. Phases that did not happen (no DNS lookup
// for an IP literal) are zero and omitted from metrics.
type Timings struct {
	Resolve time.Duration
	Connect time.Duration
	TLS     time.Duration
}

// Total is the whole handshake's time, from resolving the name to the end
// of the TLS handshake.
func (t Timings) Total() time.Duration { return t.Resolve + t.Connect + t.TLS }

// Phases lists the handshake's phases that happened, by their metric names.
func (t Timings) Phases() []httpphase.Phase {
	return httpphase.HandshakePhases(t.Resolve, t.Connect, t.TLS)
}

// StapleResult is the outcome of one handshake with one address.
type StapleResult struct {
	Address    string
	ServerName string
	Timings    Timings
	// HandshakeOK is false when the endpoint could not be reached or the
	// handshake failed; nothing after it is then filled.
	HandshakeOK bool
	TLSVersion  string
	// TLSCipher is crypto/tls's name for the negotiated cipher suite.
	TLSCipher string
	// ALPN is the application protocol the server chose, if any.
	ALPN string

	Leaf  *x509.Certificate
	Chain []*x509.Certificate
	// Issuer is the certificate the staple was checked against.
	Issuer *x509.Certificate
	// IssuerSource says where Issuer came from: "chain", "roots" or "configured".
	IssuerSource    string
	ChainIncomplete bool
	ChainVerified   bool
	// ChainSkipped: the chain was not judged (SkipChainVerify).
	ChainSkipped bool
	ChainError   string
	// Path runs from the leaf up, each certificate issued by the next: the
	// verified path through the trust roots when there is one, else as far
	// as the served chain and the issuer go. Revocation is checked along it.
	Path []*x509.Certificate
	Cert *CertInfo

	StaplePresent bool
	StapleDER     []byte
	Staple        *Verification
	// ResponderAgrees is set once the staple's status was compared with a
	// responder's current answer; nil when no comparison was possible.
	ResponderAgrees *bool

	Problems []Problem
}

// Staple probes the endpoint: it resolves it, then for the chosen
// addresses completes a TLS handshake that asks for status_request and
// verifies whatever was stapled. A failure to resolve yields one result
// with no address. It never returns an empty slice.
func Staple(ctx context.Context, req StapleRequest) []*StapleResult {
	req = req.withDefaults()
	host, port, err := net.SplitHostPort(req.Endpoint)
	if err != nil {
		return []*StapleResult{{Problems: []Problem{{Reason: ReasonDNS, Detail: fmt.Sprintf("endpoint %q: %v", req.Endpoint, err)}}}}
	}
	serverName := req.ServerName
	if serverName == "" && net.ParseIP(host) == nil {
		serverName = host
	}

	if req.Proxy != nil {
		// The proxy resolves the name: agents behind an egress proxy
		// often cannot resolve outside names themselves.
		return []*StapleResult{handshake(ctx, req, req.Endpoint, serverName)}
	}

	start := time.Now()
	addrs, err := resolve(ctx, req.Resolver, host)
	resolveTime := time.Since(start)
	if net.ParseIP(host) != nil {
		resolveTime = 0
	}
	if err == nil {
		addrs, err = req.Family.filter(host, addrs)
	}
	if err != nil {
		reason := ReasonDNS
		if isTimeout(ctx, err) {
			reason = ReasonTimeout
		}
		return []*StapleResult{{ServerName: serverName, Timings: Timings{Resolve: resolveTime}, Problems: []Problem{{Reason: reason, Detail: dnsCause(err).Error()}}}}
	}
	if !req.AllAddresses {
		addrs = addrs[:1]
	}
	results := make([]*StapleResult, 0, len(addrs))
	for _, ip := range addrs {
		r := handshake(ctx, req, net.JoinHostPort(ip.String(), port), serverName)
		r.Timings.Resolve = resolveTime
		results = append(results, r)
	}
	return results
}

func (req StapleRequest) withDefaults() StapleRequest {
	if req.Now == nil {
		req.Now = time.Now
	}
	if req.Resolver == nil {
		req.Resolver = net.DefaultResolver
	}
	return req
}

func resolve(ctx context.Context, r *net.Resolver, host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, nil
}

func handshake(ctx context.Context, req StapleRequest, address, serverName string) *StapleResult {
	r := &StapleResult{Address: address, ServerName: serverName}
	start := time.Now()
	conn, err := connect(ctx, req, address)
	r.Timings.Connect = time.Since(start)
	if err != nil {
		r.addNetProblem(ctx, ReasonConnect, err)
		return r
	}
	defer conn.Close()
	// The handshake honours ctx, but a deadline on the socket also bounds
	// the reads a hostile server could stall.
	setDeadline := func() {
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
	}
	setDeadline()
	// The STARTTLS dialogue counts as part of the TLS phase.
	start = time.Now()
	if req.StartTLS != "" {
		err := starttls.Negotiate(ctx, conn, req.StartTLS, starttls.Options{ServerName: serverName})
		// Negotiate clears the deadline it set.
		setDeadline()
		if err != nil {
			r.Timings.TLS = time.Since(start)
			r.addStartTLSProblem(ctx, err)
			return r
		}
	}
	tlsConn := tls.Client(conn, &tls.Config{
		ServerName: serverName,
		// Chain trust is judged and reported separately below, so an
		// untrusted chain is still probed for its staple.
		InsecureSkipVerify: true, //nolint:gosec // verified by hand in inspectChain
		MinVersion:         cmp.Or(req.TLSMinVersion, tls.VersionTLS12),
		MaxVersion:         req.TLSMaxVersion,
		CurvePreferences:   req.Groups,
		NextProtos:         req.ALPN,
		Certificates:       req.ClientCertificates,
	})
	err = tlsConn.HandshakeContext(ctx)
	r.Timings.TLS = time.Since(start)
	if err != nil {
		r.addNetProblem(ctx, ReasonTLSHandshake, err)
		return r
	}
	state := tlsConn.ConnectionState()
	r.HandshakeOK = true
	r.TLSVersion = tls.VersionName(state.Version)
	r.TLSCipher = tls.CipherSuiteName(state.CipherSuite)
	r.ALPN = state.NegotiatedProtocol
	if len(state.PeerCertificates) == 0 {
		r.Problems = append(r.Problems, Problem{Reason: ReasonTLSHandshake, Detail: "server sent no certificate"})
		return r
	}
	r.Chain = req.Interner.internAll(state.PeerCertificates)
	r.Leaf = r.Chain[0]
	r.Cert = req.Interner.inspect(r.Leaf)
	r.inspectChain(req, serverName)

	if len(state.OCSPResponse) == 0 {
		if r.Cert.MustStaple {
			r.Problems = append(r.Problems, Problem{Reason: ReasonMustStapleViolated})
		} else {
			r.Problems = append(r.Problems, Problem{Reason: ReasonStapleMissing})
		}
		return r
	}
	r.judgeStaple(state.OCSPResponse, req)
	return r
}

// judgeStaple verifies what the server stapled, with the same verifier
// that checks responders' answers, and names its problems as a staple's.
func (r *StapleResult) judgeStaple(der []byte, req StapleRequest) {
	r.StaplePresent = true
	// A copy: the handshake's buffer, which der points into, need not
	// outlive the handshake.
	r.StapleDER = bytes.Clone(der)
	r.Staple = req.Cache.verify(der, r.Leaf, r.Issuer, req.Now(), req.Policy)
	r.Problems = append(r.Problems, r.Staple.problems(stapleReasons, ReasonStapleRevoked, ReasonStapleUnknown)...)
}

// inspectChain verifies the served chain and finds the issuer: from the
// chain, else from the verified path through the roots, else as configured.
func (r *StapleResult) inspectChain(req StapleRequest, serverName string) {
	now := req.Now()
	key := chainKey(r.Chain, req.Roots, serverName, req.Issuer, req.SkipChainVerify)
	if v := req.Cache.chain(key, req.Roots, now); v != nil {
		r.Issuer, r.IssuerSource, r.ChainIncomplete = v.issuer, v.issuerSource, v.chainIncomplete
		r.ChainVerified, r.ChainSkipped, r.ChainError = v.chainVerified, v.chainSkipped, v.chainError
		r.Path = append(append(make([]*x509.Certificate, 0, 1+len(v.above)), r.Leaf), v.above...)
		return
	}
	r.verifyChain(req, serverName, now)
	var configured []*x509.Certificate
	if req.Issuer != nil {
		configured = []*x509.Certificate{req.Issuer}
	}
	notBefore, notAfter := validityWindow(r.Chain, r.Path, configured)
	req.Cache.storeChain(key, &chainVerdict{issuer: r.Issuer, issuerSource: r.IssuerSource, chainIncomplete: r.ChainIncomplete,
		chainVerified: r.ChainVerified, chainSkipped: r.ChainSkipped, chainError: r.ChainError, above: slices.Clone(r.Path[1:]),
		roots: req.Roots, notBefore: notBefore, notAfter: notAfter})
}

// verifyChain verifies the served chain and finds the issuer: from the
// chain, else from the verified path through the roots, else as
// configured. The issuer is found by name and then by one signature
// check, rather than by checking signatures against every served
// certificate.
func (r *StapleResult) verifyChain(req StapleRequest, serverName string, now time.Time) {
	for _, c := range r.Chain[1:] {
		if bytes.Equal(r.Leaf.RawIssuer, c.RawSubject) && r.Leaf.CheckSignatureFrom(c) == nil {
			r.Issuer, r.IssuerSource = c, "chain"
			break
		}
	}
	var chains [][]*x509.Certificate
	if req.SkipChainVerify {
		r.ChainSkipped, r.ChainError = true, "not verified: insecure_skip_verify is set"
	} else {
		intermediates := x509.NewCertPool()
		for _, c := range r.Chain[1:] {
			intermediates.AddCert(c)
		}
		var err error
		chains, err = r.Leaf.Verify(x509.VerifyOptions{
			Roots:         req.Roots,
			Intermediates: intermediates,
			DNSName:       serverName,
			CurrentTime:   now,
		})
		if err != nil {
			r.ChainError = err.Error()
		} else {
			r.ChainVerified = true
		}
		// A leaf issued straight by a trust anchor needs no served issuer.
		if r.Issuer == nil && len(chains) > 0 && len(chains[0]) > 1 {
			r.Issuer, r.IssuerSource = chains[0][1], "roots"
		}
	}
	// Any other missing issuer means the server left out an intermediate.
	if r.Issuer == nil {
		r.ChainIncomplete = true
		if req.Issuer != nil && r.Leaf.CheckSignatureFrom(req.Issuer) == nil {
			r.Issuer, r.IssuerSource = req.Issuer, "configured"
		}
	}
	r.Path = buildPath(r.Leaf, r.Issuer, r.Chain, chains)
}

// addNetProblem records a failure to reach the address. The detail is the
// cause alone: the reason names the phase and r.Address the address, so
// repeating them made "connect: connect ADDR: dial tcp ADDR: connect: ...".
func (r *StapleResult) addNetProblem(ctx context.Context, reason Reason, err error) {
	var denied *AddressDeniedError
	switch {
	case errors.As(err, &denied):
		reason = ReasonAddressDenied
	case isTimeout(ctx, err):
		reason = ReasonTimeout
	}
	r.Problems = append(r.Problems, Problem{Reason: reason, Detail: netCause(err).Error()})
}

// netCause drops the wrappers that repeat the reason and the address:
// *net.OpError prints "dial tcp ADDRESS: ", *os.SyscallError "connect: ".
func netCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) && sys.Err != nil {
		err = sys.Err
	}
	return err
}

// dnsCause drops the "lookup HOST on SERVER: " that *net.DNSError
// prints: the endpoint names the host already.
func dnsCause(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.Err != "" {
		return errors.New(dnsErr.Err)
	}
	return err
}

// addStartTLSProblem names a failed dialogue: a refusal, a timeout like
// any other phase's, or a dialogue gone wrong. The server's reply stays
// in the detail, never in a label.
func (r *StapleResult) addStartTLSProblem(ctx context.Context, err error) {
	var refused *starttls.RefusedError
	switch {
	case errors.As(err, &refused):
		r.Problems = append(r.Problems, Problem{Reason: ReasonStartTLSRefused, Detail: fmt.Sprintf("%s: %v", r.Address, err)})
	case isTimeout(ctx, err):
		r.Problems = append(r.Problems, Problem{Reason: ReasonTimeout, Detail: fmt.Sprintf("STARTTLS %s: %v", r.Address, err)})
	default:
		r.Problems = append(r.Problems, Problem{Reason: ReasonStartTLSFailed, Detail: fmt.Sprintf("%s: %v", r.Address, err)})
	}
}

func isTimeout(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// buildPath is the verified path when there is one. Otherwise it follows
// the served chain by name from the leaf's issuer up: names suffice here,
// since each CRL and OCSP answer along the path is verified against the
// certificate it comes from.
func buildPath(leaf, issuer *x509.Certificate, served []*x509.Certificate, verified [][]*x509.Certificate) []*x509.Certificate {
	if len(verified) > 0 {
		return verified[0]
	}
	path := []*x509.Certificate{leaf}
	if issuer == nil {
		return path
	}
	path = append(path, issuer)
	for cur := issuer; len(path) <= len(served) && !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		var next *x509.Certificate
		for _, c := range served {
			if bytes.Equal(c.RawSubject, cur.RawIssuer) && !slices.Contains(path, c) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		path, cur = append(path, next), next
	}
	return path
}

package lint

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are parsed to be rejected.
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
)

// Requirement is the revocation policy: which revocation URL a leaf must
// name.
type Requirement string

// Requirements. RequireAny exempts short-lived certificates
// (probe.ShortLivedValidity), as the Baseline Requirements do.
const (
	RequireAny  Requirement = "any"
	RequireOCSP Requirement = "ocsp"
	RequireCRL  Requirement = "crl"
	RequireNone Requirement = "none"
)

// Default expiry thresholds.
const (
	DefaultWarn = 30 * 24 * time.Hour
	DefaultCrit = 7 * 24 * time.Hour
)

// maxURLs caps the URLs kept from one certificate extension.
const maxURLs = 10

// Options shape one lint. The zero value lints at the zero time; set Now.
type Options struct {
	Now time.Time
	// Warn and Crit are the expiry thresholds; zero means the defaults.
	// A threshold longer than a third of a certificate's lifetime is cut
	// to a third (Warn) or a sixth (Crit), so a 6-day certificate is not
	// flagged from the day it is issued.
	Warn, Crit time.Duration
	// Hosts must each be covered by the leaf.
	Hosts []string
	// Require is the revocation policy; empty means RequireAny.
	Require Requirement
	// OnlineWanted says --online was given; Online is then the report of
	// probe.RunTarget for the leaf and issuer that Leaf returns, nil
	// when there was nothing to query.
	OnlineWanted bool
	Online       *probe.Report
}

// Verdict is a bundle's worst finding.
type Verdict string

// Verdicts.
const (
	VerdictOK       Verdict = "ok"
	VerdictWarning  Verdict = "warning"
	VerdictCritical Verdict = "critical"
)

// Result is the lint of one bundle. It is built once and not changed.
type Result struct {
	Name string
	// Leaf is the end-entity certificate; Issuer its issuer from the
	// bundle, nil when the bundle lacks it.
	Leaf, Issuer  *x509.Certificate
	Certificates  int
	MustStaple    bool
	ShortLived    bool
	OCSPURLs      []string
	CRLURLs       []string
	CAIssuersURLs []string
	// KeysChecked counts the private keys compared with the leaf.
	KeysChecked int
	// Online is the responder report, when one was run.
	Online   *probe.Report
	Findings []Finding
	// Skipped says why a check did not run.
	Skipped map[Check]string
}

// Verdict returns the severity of the worst finding, or VerdictOK.
func (r *Result) Verdict() Verdict {
	v := VerdictOK
	for _, f := range r.Findings {
		if f.Severity() == SeverityCritical {
			return VerdictCritical
		}
		v = VerdictWarning
	}
	return v
}

// Fails reports whether the bundle fails the lint: any critical finding,
// or with strict any finding at all.
func (r *Result) Fails(strict bool) bool {
	v := r.Verdict()
	return v == VerdictCritical || (strict && v == VerdictWarning)
}

// Leaf returns the bundle's leaf and, when the bundle holds it, the
// leaf's issuer: what an OCSP request needs. The bundle holds at least
// one certificate, as ParseBundle ensures.
func Leaf(b *Bundle) (leaf, issuer *x509.Certificate) {
	ch := analyzeChain(b.Certs)
	return ch.leaf, ch.issuer
}

// Run lints one bundle, which holds at least one certificate, as
// ParseBundle ensures.
func Run(b *Bundle, opts Options) *Result {
	if opts.Warn <= 0 {
		opts.Warn = DefaultWarn
	}
	if opts.Crit <= 0 {
		opts.Crit = DefaultCrit
	}
	if opts.Require == "" {
		opts.Require = RequireAny
	}
	ch := analyzeChain(b.Certs)
	leaf := ch.leaf
	r := &Result{
		Name: b.Name, Leaf: leaf, Issuer: ch.issuer, Certificates: len(b.Certs),
		MustStaple:    probe.IsMustStaple(leaf),
		ShortLived:    leaf.NotAfter.Sub(leaf.NotBefore) <= probe.ShortLivedValidity,
		OCSPURLs:      capURLs(leaf.OCSPServer),
		CRLURLs:       capURLs(leaf.CRLDistributionPoints),
		CAIssuersURLs: capURLs(leaf.IssuingCertificateURL),
		KeysChecked:   len(b.Keys),
		Skipped:       map[Check]string{},
	}
	l := &linter{ch: ch, opts: opts, r: r}
	r.Findings = append(r.Findings, ch.findings...)
	l.names()
	l.usage()
	l.strength()
	l.validity()
	l.revocation()
	l.keyMatch(b.Keys)
	l.online()
	return r
}

// linter builds one Result, one check at a time, in report order.
type linter struct {
	ch   *chain
	opts Options
	r    *Result
}

func (l *linter) add(id ID, format string, args ...any) {
	l.r.Findings = append(l.r.Findings, Finding{ID: id, Message: fmt.Sprintf(format, args...)})
}

func (l *linter) names() {
	leaf := l.ch.leaf
	if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		l.add(LeafNoSAN, "%s has no subject alternative names", l.ch.label(leaf))
	}
	for _, host := range l.opts.Hosts {
		if leaf.VerifyHostname(host) != nil {
			l.add(LeafHostMismatch, "%s does not cover %s; it covers %s", l.ch.label(leaf), clip(host), coverage(leaf))
		}
	}
}

func (l *linter) usage() {
	leaf := l.ch.leaf
	if leaf.BasicConstraintsValid && leaf.IsCA {
		l.add(LeafIsCA, "%s has basicConstraints CA:TRUE", l.ch.label(leaf))
	}
	// A leaf without the key usage extension may be used for anything
	// (RFC 5280 §4.2.1.3).
	if need, ok := keyUsageFor(leaf.PublicKey); ok && leaf.KeyUsage != 0 && leaf.KeyUsage&need == 0 {
		l.add(LeafKeyUsage, "%s allows only %s; its %s key needs %s", l.ch.label(leaf),
			keyUsageNames(leaf.KeyUsage, ", "), keyKind(leaf.PublicKey), keyUsageNames(need, " or "))
	}
	switch {
	case len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0:
		l.add(LeafEKUAbsent, "%s has no extended key usage", l.ch.label(leaf))
	case !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		l.add(LeafNoServerAuth, "%s has extended key usage %s", l.ch.label(leaf), extKeyUsageNames(leaf))
	}
}

// strength checks every certificate's signature and key. A trust
// anchor's own signature is never checked by clients, so it may be weak.
func (l *linter) strength() {
	for _, c := range l.ch.certs {
		if weakSignature(c.SignatureAlgorithm) && !l.ch.selfSigned[c] {
			l.add(WeakSignature, "%s is signed with %s", l.ch.label(c), c.SignatureAlgorithm)
		}
	}
	for _, c := range l.ch.certs {
		if weak := weakKey(c.PublicKey); weak != "" {
			l.add(WeakKey, "%s has %s", l.ch.label(c), weak)
		}
	}
}

// validity checks every certificate: an expiring intermediate breaks the
// chain as surely as an expiring leaf.
func (l *linter) validity() {
	now := l.opts.Now
	for _, c := range l.ch.certs {
		warn, crit := thresholds(l.opts.Warn, l.opts.Crit, c.NotAfter.Sub(c.NotBefore))
		left := c.NotAfter.Sub(now)
		switch {
		case now.Before(c.NotBefore):
			l.add(NotYetValid, "%s is valid from %s (%s)", l.ch.label(c), stamp(c.NotBefore), human.Until(c.NotBefore, now))
		case now.After(c.NotAfter):
			l.add(Expired, "%s expired at %s (%s)", l.ch.label(c), stamp(c.NotAfter), human.Expiry(c.NotAfter, now))
		case left <= crit:
			l.add(ExpiresVerySoon, "%s %s, within the critical threshold of %s", l.ch.label(c), human.Expiry(c.NotAfter, now), human.Duration(crit))
		case left <= warn:
			l.add(ExpiresSoon, "%s %s, within the warning threshold of %s", l.ch.label(c), human.Expiry(c.NotAfter, now), human.Duration(warn))
		}
	}
}

func (l *linter) revocation() {
	leaf, r := l.ch.leaf, l.r
	if r.MustStaple && len(r.OCSPURLs) == 0 {
		l.add(MustStapleNoOCSP, "%s carries the TLS Feature status_request and no AIA OCSP URL", l.ch.label(leaf))
	}
	switch require := l.opts.Require; {
	case require == RequireOCSP && len(r.OCSPURLs) == 0:
		l.add(NoOCSPURL, "%s has no AIA OCSP URL%s", l.ch.label(leaf), crlNote(r.CRLURLs))
	case require == RequireCRL && len(r.CRLURLs) == 0:
		l.add(NoCRLURL, "%s has no CRL distribution point%s", l.ch.label(leaf), ocspNote(r.OCSPURLs))
	case require == RequireAny && len(r.OCSPURLs) == 0 && len(r.CRLURLs) == 0 && !r.ShortLived:
		l.add(NoRevocationURL, "%s is valid for %s with no OCSP or CRL URL; only certificates valid for %s or less may omit both",
			l.ch.label(leaf), human.Duration(leaf.NotAfter.Sub(leaf.NotBefore)), human.Duration(probe.ShortLivedValidity))
	}
	if len(r.CAIssuersURLs) == 0 && !l.ch.selfSigned[leaf] {
		l.add(NoCAIssuersURL, "%s has no AIA caIssuers URL", l.ch.label(leaf))
	}
}

// keyMatch compares each private key with the leaf and, on a mismatch,
// says which certificate of the bundle the key belongs to, if any: a
// key paired with the intermediate is a common copy-paste mistake.
func (l *linter) keyMatch(keys []Key) {
	leaf := l.ch.leaf
	if len(keys) == 0 {
		l.r.Skipped[CheckKeyMatch] = "no private key in the bundle or given with --key"
	}
	for _, k := range keys {
		if samePublicKey(k.Public, leaf.PublicKey) {
			continue
		}
		belongs := ""
		for _, c := range l.ch.certs {
			if samePublicKey(k.Public, c.PublicKey) {
				belongs = "; it belongs to " + l.ch.label(c)
			}
		}
		l.add(KeyMismatch, "the %s key from %s is not the key of %s%s", keyKind(k.Public), clip(k.Source), l.ch.label(leaf), belongs)
	}
}

func (l *linter) online() {
	switch {
	case !l.opts.OnlineWanted:
		l.r.Skipped[CheckOnline] = "not asked for (--online)"
	case len(l.r.OCSPURLs) == 0 && len(l.ch.leaf.CRLDistributionPoints) == 0:
		l.r.Skipped[CheckOnline] = "the leaf names neither an OCSP responder nor a CRL"
	case l.ch.issuer == nil:
		l.r.Skipped[CheckOnline] = "the bundle does not hold the leaf's issuer, which the OCSP request needs"
	case l.opts.Online == nil:
		l.r.Skipped[CheckOnline] = "no responder report was given"
	default:
		l.r.Online = l.opts.Online
		l.r.Findings = append(l.r.Findings, onlineFindings(l.opts.Online)...)
	}
}

// onlineFindings maps a responder report's problems to findings, one per
// problem, keeping the probe's reason in the message.
func onlineFindings(rep *probe.Report) []Finding {
	var out []Finding
	for _, resp := range rep.Responders {
		for _, p := range resp.Problems {
			id := OCSPResponderFailed
			if p.Reason == probe.ReasonResponseRevoked {
				id = OCSPRevoked
			}
			out = append(out, Finding{ID: id, Message: fmt.Sprintf("%s: %s (%s)", clip(resp.URL), p, p.Reason)})
		}
	}
	for _, c := range rep.Chain {
		for _, p := range c.Problems {
			id := CRLFailed
			switch p.Reason {
			case probe.ReasonCRLRevoked, probe.ReasonChainRevoked:
				id = CRLRevoked
			case probe.ReasonNoRevocationInfo:
				continue // the offline revocation check reports it
			}
			out = append(out, Finding{ID: id, Message: fmt.Sprintf("%s (%s)", p, p.Reason)})
		}
	}
	return out
}

// thresholds applies the expiry thresholds to a certificate's lifetime:
// clients renew with a third of the lifetime left, so a threshold beyond
// that would flag every short-lived certificate.
func thresholds(warn, crit, lifetime time.Duration) (time.Duration, time.Duration) {
	if warn > lifetime/3 {
		warn = lifetime / 3
	}
	if crit > lifetime/3 {
		crit = lifetime / 6
	}
	return warn, crit
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// keyUsageFor is the key usage a TLS server certificate needs for its key
// type: signing the handshake, or for RSA also key transport.
func keyUsageFor(pub crypto.PublicKey) (x509.KeyUsage, bool) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, true
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return x509.KeyUsageDigitalSignature, true
	}
	return 0, false
}

func weakSignature(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

func weakKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 {
			return fmt.Sprintf("a %d-bit RSA key", bits)
		}
	case *ecdsa.PublicKey:
		if bits := k.Curve.Params().BitSize; bits < 256 {
			return fmt.Sprintf("an EC key on %s", k.Curve.Params().Name)
		}
	case *dsa.PublicKey:
		return "a DSA key"
	}
	return ""
}

func keyKind(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PublicKey:
		return "Ed25519"
	case *dsa.PublicKey:
		return "DSA"
	}
	return fmt.Sprintf("%T", pub)
}

var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "contentCommitment"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageNames(ku x509.KeyUsage, sep string) string {
	var names []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	return strings.Join(names, sep)
}

var extKeyUsageLabels = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageClientAuth:      "clientAuth",
	x509.ExtKeyUsageCodeSigning:     "codeSigning",
	x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping:    "timeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}

func extKeyUsageNames(c *x509.Certificate) string {
	var names []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageLabels[u]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("usage %d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	if len(names) > maxURLs {
		names = append(names[:maxURLs], "…")
	}
	return strings.Join(names, ", ")
}

// coverage lists the names a leaf covers, capped.
func coverage(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	switch {
	case len(names) == 0:
		return "no names"
	case len(names) > maxURLs:
		return clip(strings.Join(names[:maxURLs], ", ")) + fmt.Sprintf(" and %d more", len(names)-maxURLs)
	}
	return clip(strings.Join(names, ", "))
}

// capURLs de-duplicates a certificate's URL list for display, clipping
// each URL and keeping at most maxURLs. --online does not use it: the probe
// picks the URLs it queries with its own, stricter rules.
func capURLs(urls []string) []string {
	out := []string{}
	for _, u := range urls {
		if len(out) == maxURLs {
			break
		}
		if u = clip(u); !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func crlNote(crls []string) string {
	if len(crls) > 0 {
		return " (it has a CRL URL)"
	}
	return ""
}

func ocspNote(ocsp []string) string {
	if len(ocsp) > 0 {
		return " (it has an OCSP URL)"
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

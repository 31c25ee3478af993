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
// leaf's issuer: what an OCSP request needs.
func Leaf(b *Bundle) (leaf, issuer *x509.Certificate) {
	ch := analyzeChain(b.Certs)
	return ch.leaf, ch.issuer
}

// Run lints one bundle.
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
		OCSPURLs:      ResponderURLs(leaf),
		CRLURLs:       capURLs(leaf.CRLDistributionPoints),
		CAIssuersURLs: capURLs(leaf.IssuingCertificateURL),
		KeysChecked:   len(b.Keys),
		Skipped:       map[Check]string{},
	}
	add := func(id ID, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{ID: id, Message: fmt.Sprintf(format, args...)})
	}
	r.Findings = append(r.Findings, ch.findings...)

	// names
	if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		add(LeafNoSAN, "%s has no subject alternative names", ch.label(leaf))
	}
	for _, host := range opts.Hosts {
		if leaf.VerifyHostname(host) != nil {
			add(LeafHostMismatch, "%s does not cover %s; it covers %s", ch.label(leaf), clip(host), coverage(leaf))
		}
	}

	// usage
	if leaf.BasicConstraintsValid && leaf.IsCA {
		add(LeafIsCA, "%s has basicConstraints CA:TRUE", ch.label(leaf))
	}
	if need, ok := keyUsageFor(leaf.PublicKey); ok && leaf.KeyUsage != 0 && leaf.KeyUsage&need == 0 {
		add(LeafKeyUsage, "%s allows only %s; its %s key needs %s", ch.label(leaf), keyUsageNames(leaf.KeyUsage, ", "), keyKind(leaf.PublicKey), keyUsageNames(need, " or "))
	}
	switch {
	case len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0:
		add(LeafEKUAbsent, "%s has no extended key usage", ch.label(leaf))
	case !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		add(LeafNoServerAuth, "%s has extended key usage %s", ch.label(leaf), extKeyUsageNames(leaf))
	}

	// signature and key strength, for every certificate
	for _, c := range ch.certs {
		if weakSignature(c.SignatureAlgorithm) && !ch.selfSigned[c] {
			add(WeakSignature, "%s is signed with %s", ch.label(c), c.SignatureAlgorithm)
		}
	}
	for _, c := range ch.certs {
		if weak := weakKey(c.PublicKey); weak != "" {
			add(WeakKey, "%s has %s", ch.label(c), weak)
		}
	}

	// validity, for every certificate
	for _, c := range ch.certs {
		warn, crit := thresholds(opts.Warn, opts.Crit, c.NotAfter.Sub(c.NotBefore))
		left := c.NotAfter.Sub(opts.Now)
		switch {
		case opts.Now.Before(c.NotBefore):
			add(NotYetValid, "%s is valid from %s (%s)", ch.label(c), stamp(c.NotBefore), human.Until(c.NotBefore, opts.Now))
		case opts.Now.After(c.NotAfter):
			add(Expired, "%s expired at %s (%s)", ch.label(c), stamp(c.NotAfter), human.Expiry(c.NotAfter, opts.Now))
		case left <= crit:
			add(ExpiresVerySoon, "%s %s, within the critical threshold of %s", ch.label(c), human.Expiry(c.NotAfter, opts.Now), human.Duration(crit))
		case left <= warn:
			add(ExpiresSoon, "%s %s, within the warning threshold of %s", ch.label(c), human.Expiry(c.NotAfter, opts.Now), human.Duration(warn))
		}
	}

	// must-staple and revocation
	if r.MustStaple && len(r.OCSPURLs) == 0 {
		add(MustStapleNoOCSP, "%s carries the TLS Feature status_request and no AIA OCSP URL", ch.label(leaf))
	}
	switch {
	case opts.Require == RequireOCSP && len(r.OCSPURLs) == 0:
		add(NoOCSPURL, "%s has no AIA OCSP URL%s", ch.label(leaf), crlNote(r.CRLURLs))
	case opts.Require == RequireCRL && len(r.CRLURLs) == 0:
		add(NoCRLURL, "%s has no CRL distribution point%s", ch.label(leaf), ocspNote(r.OCSPURLs))
	case opts.Require == RequireAny && len(r.OCSPURLs) == 0 && len(r.CRLURLs) == 0 && !r.ShortLived:
		add(NoRevocationURL, "%s is valid for %s with no OCSP or CRL URL; only certificates valid for %s or less may omit both",
			ch.label(leaf), human.Duration(leaf.NotAfter.Sub(leaf.NotBefore)), human.Duration(probe.ShortLivedValidity))
	}
	if len(r.CAIssuersURLs) == 0 && !ch.selfSigned[leaf] {
		add(NoCAIssuersURL, "%s has no AIA caIssuers URL", ch.label(leaf))
	}

	// key match
	if len(b.Keys) == 0 {
		r.Skipped[CheckKeyMatch] = "no private key in the bundle or given with --key"
	}
	for _, k := range b.Keys {
		if samePublicKey(k.Public, leaf.PublicKey) {
			continue
		}
		belongs := ""
		for _, c := range ch.certs {
			if samePublicKey(k.Public, c.PublicKey) {
				belongs = "; it belongs to " + ch.label(c)
			}
		}
		add(KeyMismatch, "the %s key from %s is not the key of %s%s", keyKind(k.Public), clip(k.Source), ch.label(leaf), belongs)
	}

	// online
	switch {
	case !opts.OnlineWanted:
		r.Skipped[CheckOnline] = "not asked for (--online)"
	case len(r.OCSPURLs) == 0:
		r.Skipped[CheckOnline] = "the leaf names no OCSP responder"
	case ch.issuer == nil:
		r.Skipped[CheckOnline] = "the bundle does not hold the leaf's issuer, which the OCSP request needs"
	case opts.Online == nil:
		r.Skipped[CheckOnline] = "no responder report was given"
	default:
		r.Online = opts.Online
		r.Findings = append(r.Findings, onlineFindings(opts.Online)...)
	}
	return r
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

// ResponderURLs is the leaf's AIA OCSP URLs, de-duplicated and capped:
// what --online queries, however many URLs the certificate lists.
func ResponderURLs(leaf *x509.Certificate) []string { return capURLs(leaf.OCSPServer) }

// capURLs de-duplicates a certificate's URL list and caps it.
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

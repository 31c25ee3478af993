// Package testpki is an in-process PKI for tests and for the demo fleet:
// root and intermediate CAs, delegated OCSP responders, leaves, hand-built
// OCSP responses (including the malformed and hostile ones that a real CA
// would never sign), an OCSP responder over HTTP and TLS servers on
// loopback that staple whatever they are handed.
//
// Everything is built with the standard library so that the verifier under
// test, which uses golang.org/x/crypto/ocsp, is checked against an
// independent encoder.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// KeyType selects the key algorithm of a new certificate.
type KeyType int

// Supported key types.
const (
	ECDSAP256 KeyType = iota
	RSA2048
	// RSA1024 and ECDSAP224 are too weak for the Web PKI, for tests of
	// linters that must reject them.
	RSA1024
	ECDSAP224
)

func newKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA1024:
		return rsa.GenerateKey(rand.Reader, 1024)
	case ECDSAP224:
		return ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

var serialCounter atomic.Int64

func nextSerial() *big.Int {
	// Distinct, positive and not sequential-looking across a process.
	return big.NewInt(time.Now().UnixNano()&0xffffffffff<<16 | serialCounter.Add(1)&0xffff)
}

// Epoch is the fixed time every certificate is valid around, so tests can
// freeze a clock and still hold valid certificates.
var Epoch = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Parent is the issuing CA; nil for a root.
	Parent *Cert
}

// PEM returns the certificate in PEM form.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM returns the private key in PKCS #8 PEM form.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(fmt.Sprintf("testpki: marshal key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func issue(template *x509.Certificate, parent *Cert, kt KeyType) (*Cert, error) {
	key, err := newKey(kt)
	if err != nil {
		return nil, err
	}
	template.SerialNumber = nextSerial()
	if template.NotBefore.IsZero() {
		template.NotBefore = Epoch.Add(-365 * 24 * time.Hour)
	}
	if template.NotAfter.IsZero() {
		template.NotAfter = Epoch.Add(3 * 365 * 24 * time.Hour)
	}
	parentCert, parentKey := template, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parentCert, key.Public(), parentKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key, Parent: parent}, nil
}

// NewRoot makes a self-signed root CA.
func NewRoot(name string, kt KeyType) (*Cert, error) {
	return issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ocspwatch test"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}, nil, kt)
}

// NewIntermediate makes a CA issued by ca.
func (ca *Cert) NewIntermediate(name string, kt KeyType) (*Cert, error) {
	return ca.NewIntermediateWith(name, IntermediateOptions{KeyType: kt})
}

// IntermediateOptions shape a CA certificate.
type IntermediateOptions struct {
	KeyType     KeyType
	OCSPServers []string
	CRLServers  []string
}

// NewIntermediateWith makes a CA issued by ca that may name its own
// revocation URLs, as public intermediates do.
func (ca *Cert) NewIntermediateWith(name string, opts IntermediateOptions) (*Cert, error) {
	return issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ocspwatch test"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		OCSPServer:            opts.OCSPServers,
		CRLDistributionPoints: opts.CRLServers,
	}, ca, opts.KeyType)
}

// ResponderOptions shape a delegated OCSP signing certificate.
type ResponderOptions struct {
	// NoEKU leaves out id-kp-OCSPSigning, making the signer unauthorised.
	NoEKU bool
	// NoCheck adds id-pkix-ocsp-nocheck.
	NoCheck             bool
	NotBefore, NotAfter time.Time
	KeyType             KeyType
}

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// NewResponder makes a delegated OCSP responder certificate issued by ca.
func (ca *Cert) NewResponder(name string, opts ResponderOptions) (*Cert, error) {
	t := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
	}
	if !opts.NoEKU {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	if opts.NoCheck {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidOCSPNoCheck, Value: asn1.NullBytes})
	}
	return issue(t, ca, opts.KeyType)
}

// LeafOptions shape an end-entity certificate.
type LeafOptions struct {
	DNSNames    []string
	IPs         []net.IP
	OCSPServers []string
	CRLServers  []string
	MustStaple  bool
	NotBefore   time.Time
	NotAfter    time.Time
	KeyType     KeyType

	// The fields below build leaves wrong on purpose, for linter tests.

	// CAIssuers sets the AIA caIssuers URLs.
	CAIssuers []string
	// KeyUsage replaces digitalSignature|keyEncipherment when non-zero.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage replaces serverAuth when non-nil; NoExtKeyUsage leaves
	// the extension out.
	ExtKeyUsage   []x509.ExtKeyUsage
	NoExtKeyUsage bool
	// NoSAN keeps the name in the subject CN only, with no SAN extension.
	NoSAN bool
	// SignatureAlgorithm overrides the issuer's default, e.g. SHA1WithRSA
	// under an RSA issuer.
	SignatureAlgorithm x509.SignatureAlgorithm
	// SelfSigned signs the leaf with its own key instead of ca's.
	SelfSigned bool
}

var oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}

// NewLeaf makes a TLS server certificate issued by ca. With no names it is
// valid for localhost and 127.0.0.1.
func (ca *Cert) NewLeaf(opts LeafOptions) (*Cert, error) {
	if len(opts.DNSNames) == 0 && len(opts.IPs) == 0 {
		opts.DNSNames = []string{"localhost"}
		opts.IPs = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	t := &x509.Certificate{
		Subject:               pkix.Name{CommonName: firstName(opts)},
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPs,
		OCSPServer:            opts.OCSPServers,
		CRLDistributionPoints: opts.CRLServers,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		IssuingCertificateURL: opts.CAIssuers,
		SignatureAlgorithm:    opts.SignatureAlgorithm,
	}
	if opts.KeyUsage != 0 {
		t.KeyUsage = opts.KeyUsage
	}
	if opts.ExtKeyUsage != nil {
		t.ExtKeyUsage = opts.ExtKeyUsage
	}
	if opts.NoExtKeyUsage {
		t.ExtKeyUsage = nil
	}
	if opts.NoSAN {
		t.DNSNames, t.IPAddresses = nil, nil
	}
	if opts.NotBefore.IsZero() {
		t.NotBefore = Epoch.Add(-30 * 24 * time.Hour)
	}
	if opts.NotAfter.IsZero() {
		t.NotAfter = Epoch.Add(60 * 24 * time.Hour)
	}
	if opts.MustStaple {
		// TLSFeatures ::= SEQUENCE OF INTEGER, with status_request (5).
		value, err := asn1.Marshal([]int{5})
		if err != nil {
			return nil, err
		}
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidTLSFeature, Value: value})
	}
	if opts.SelfSigned {
		return issue(t, nil, opts.KeyType)
	}
	return issue(t, ca, opts.KeyType)
}

func firstName(opts LeafOptions) string {
	if len(opts.DNSNames) > 0 {
		return opts.DNSNames[0]
	}
	return opts.IPs[0].String()
}

// ChainDER returns the certificate and its issuers up to, not including,
// the root: what a well-configured server sends.
func (c *Cert) ChainDER() [][]byte {
	var chain [][]byte
	for n := c; n != nil && n.Parent != nil; n = n.Parent {
		chain = append(chain, n.Cert.Raw)
	}
	return chain
}

// Root returns the root at the top of c's chain.
func (c *Cert) Root() *Cert {
	n := c
	for n.Parent != nil {
		n = n.Parent
	}
	return n
}

// Pool returns a pool holding only c.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// Clock is a settable clock for tests that move time on.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

package probe

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"slices"
	"time"
)

// Posture is how a certificate lets clients learn it was revoked.
type Posture string

// Public CAs have been dropping OCSP (CA/B Forum ballot SC-063), so a
// certificate without an OCSP URL is a state to report, not an error.
const (
	PostureOCSP       Posture = "ocsp"
	PostureCRLOnly    Posture = "crl_only"
	PostureNone       Posture = "none"
	PostureShortLived Posture = "short_lived"
)

// ShortLivedValidity is the longest validity the Baseline Requirements let
// a certificate have and still be exempt from revocation information.
const ShortLivedValidity = 10 * 24 * time.Hour

var (
	oidTLSFeature           = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}
	oidOCSPNoCheck          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	tlsFeatureStatusRequest = 5 // RFC 6066 status_request extension number
)

// Caps on what one certificate can make the agent do. A certificate is
// remote input: listing a thousand OCSP URLs must not make one run send a
// thousand requests and export thousands of series.
const (
	MaxURLsPerCert = 4
	MaxURLLength   = 1024
)

// CertInfo is what a probe reads from a leaf certificate.
type CertInfo struct {
	Subject      string
	Issuer       string
	SerialNumber string
	// FingerprintSHA256 is the hex SHA-256 of the certificate's DER, worked
	// out once here rather than at every scrape.
	FingerprintSHA256 string
	NotBefore         time.Time
	NotAfter          time.Time
	// OCSPServers and CRLServers are the certificate's URLs after
	// usableURLs: de-duplicated, length-capped and at most MaxURLsPerCert.
	OCSPServers []string
	CRLServers  []string
	// IgnoredURLs counts the URLs usableURLs left out.
	IgnoredURLs int
	MustStaple  bool
	Posture     Posture
}

// InspectCert reads a leaf's revocation-relevant facts.
func InspectCert(leaf *x509.Certificate) *CertInfo {
	info := &CertInfo{
		Subject:           leaf.Subject.String(),
		Issuer:            leaf.Issuer.String(),
		SerialNumber:      leaf.SerialNumber.Text(16),
		FingerprintSHA256: fingerprintSHA256(leaf),
		NotBefore:         leaf.NotBefore,
		NotAfter:          leaf.NotAfter,
		MustStaple:        IsMustStaple(leaf),
	}
	var ignoredOCSP, ignoredCRL int
	info.OCSPServers, ignoredOCSP = usableURLs(leaf.OCSPServer)
	info.CRLServers, ignoredCRL = usableURLs(leaf.CRLDistributionPoints)
	info.IgnoredURLs = ignoredOCSP + ignoredCRL
	switch {
	case len(info.OCSPServers) > 0:
		info.Posture = PostureOCSP
	case leaf.NotAfter.Sub(leaf.NotBefore) <= ShortLivedValidity:
		info.Posture = PostureShortLived
	case len(info.CRLServers) > 0:
		info.Posture = PostureCRLOnly
	default:
		info.Posture = PostureNone
	}
	return info
}

// IsMustStaple reports whether the certificate carries the RFC 7633 TLS
// Feature extension listing status_request.
func IsMustStaple(cert *x509.Certificate) bool {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidTLSFeature) {
			continue
		}
		var features []int
		if _, err := asn1.Unmarshal(ext.Value, &features); err != nil {
			return false
		}
		for _, f := range features {
			if f == tlsFeatureStatusRequest {
				return true
			}
		}
	}
	return false
}

func hasOCSPNoCheck(cert *x509.Certificate) bool {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidOCSPNoCheck) {
			return true
		}
	}
	return false
}

func hasOCSPSigningEKU(cert *x509.Certificate) bool {
	for _, eku := range cert.ExtKeyUsage {
		if eku == x509.ExtKeyUsageOCSPSigning {
			return true
		}
	}
	return false
}

// usableURLs keeps the first MaxURLsPerCert distinct URLs of at most
// MaxURLLength bytes, in the certificate's order, and counts the rest.
func usableURLs(urls []string) (kept []string, ignored int) {
	kept = []string{}
	for _, u := range urls {
		if len(u) > MaxURLLength || slices.Contains(kept, u) || len(kept) == MaxURLsPerCert {
			ignored++
			continue
		}
		kept = append(kept, u)
	}
	return kept, ignored
}

func fingerprintSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

package crl

import (
	"crypto/x509"
	"slices"
)

// MaxDistributionPoints caps the CRL URLs taken from one certificate.
// Public CAs put one; a certificate naming dozens would multiply fetches.
const MaxDistributionPoints = 4

// DistributionPoints returns cert's CRL distribution point URLs, without
// duplicates and at most MaxDistributionPoints of them, in the
// certificate's order. Non-HTTP URLs are kept: Fetch reports them as
// ReasonUnsupported rather than letting them vanish.
func DistributionPoints(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	var out []string
	for _, u := range cert.CRLDistributionPoints {
		if len(out) == MaxDistributionPoints {
			break
		}
		if u != "" && len(u) <= maxURLBytes && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

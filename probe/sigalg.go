package probe

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
)

// signatureAlgorithms maps the AlgorithmIdentifiers OCSP responders sign
// with to crypto/x509's names, so the signature over the raw
// ResponseData can be checked with Certificate.CheckSignature. RSA-PSS
// is left out: its parameters would need checking too, and responders
// do not use it.
var signatureAlgorithms = []struct {
	oid asn1.ObjectIdentifier
	alg x509.SignatureAlgorithm
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, x509.SHA1WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, x509.SHA256WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, x509.SHA384WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, x509.SHA512WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, x509.ECDSAWithSHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, x509.ECDSAWithSHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, x509.ECDSAWithSHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, x509.ECDSAWithSHA512},
	{asn1.ObjectIdentifier{1, 3, 101, 112}, x509.PureEd25519},
}

func signatureAlgorithm(id pkix.AlgorithmIdentifier) (x509.SignatureAlgorithm, bool) {
	for _, a := range signatureAlgorithms {
		if id.Algorithm.Equal(a.oid) {
			return a.alg, true
		}
	}
	return x509.UnknownSignatureAlgorithm, false
}

// Package crl checks a certificate against its issuer's certificate
// revocation list (RFC 5280 §5): it fetches a CRL Distribution Point over
// plain HTTP, verifies the list against the issuer, reduces it to a compact
// set of revoked serials, and answers whether a certificate is listed.
//
// Like the rest of probe/, it is a library: context in, typed and immutable
// results out, every failure one value of the closed Reason enum, time
// passed in. Pool shares one download of each CRL between every target that
// names it, which is what makes watching thousands of endpoints of one CA
// cost one fetch per refresh.
//
// Real CRLs reach tens of megabytes, so Parse does not keep (or build) an
// x509.RevocationList with one object per entry. It reads the list's header
// with x509.ParseRevocationList, walks the revokedCertificates SEQUENCE
// itself with cryptobyte, copies each serial into one byte arena, and checks
// the signature over the raw TBS bytes with x509's own CheckSignatureFrom.
package crl

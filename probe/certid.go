package probe

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	// CertIDs are hashed with SHA-1 by default (RFC 5019) and SHA-256 on request.
	_ "crypto/sha1"
	_ "crypto/sha256"
)

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// certID mirrors the RFC 6960 CertID. x/crypto/ocsp keeps its own copy
// unexported, and we need the issuer hashes to match a SingleResponse to
// the right issuer, not only to the right serial.
type certID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	switch h {
	case crypto.SHA1:
		return oidSHA1, nil
	case crypto.SHA256:
		return oidSHA256, nil
	case crypto.SHA384:
		return oidSHA384, nil
	case crypto.SHA512:
		return oidSHA512, nil
	}
	return nil, fmt.Errorf("unsupported CertID hash %v", h)
}

func hashFromOID(oid asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1
	case oid.Equal(oidSHA256):
		return crypto.SHA256
	case oid.Equal(oidSHA384):
		return crypto.SHA384
	case oid.Equal(oidSHA512):
		return crypto.SHA512
	}
	return 0
}

func issuerKeyBits(issuer *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("issuer public key: %w", err)
	}
	return spki.PublicKey.RightAlign(), nil
}

func newCertID(h crypto.Hash, serial *big.Int, issuer *x509.Certificate) (certID, error) {
	if h == 0 {
		h = crypto.SHA1
	}
	oid, err := hashOID(h)
	if err != nil {
		return certID{}, err
	}
	key, err := issuerKeyBits(issuer)
	if err != nil {
		return certID{}, err
	}
	nameHash := h.New()
	nameHash.Write(issuer.RawSubject)
	keyHash := h.New()
	keyHash.Write(key)
	return certID{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue},
		NameHash:      nameHash.Sum(nil),
		IssuerKeyHash: keyHash.Sum(nil),
		SerialNumber:  serial,
	}, nil
}

// matches reports whether id names the certificate with this serial issued
// by issuer, whatever hash algorithm the responder chose.
func (id certID) matches(serial *big.Int, issuer *x509.Certificate) bool {
	if id.SerialNumber == nil || id.SerialNumber.Cmp(serial) != 0 {
		return false
	}
	h := hashFromOID(id.HashAlgorithm.Algorithm)
	if h == 0 {
		return false
	}
	want, err := newCertID(h, serial, issuer)
	if err != nil {
		return false
	}
	return bytes.Equal(want.NameHash, id.NameHash) && bytes.Equal(want.IssuerKeyHash, id.IssuerKeyHash)
}

// key identifies the queried certificate for caching and deduplication.
func (id certID) key() string {
	return fmt.Sprintf("%s/%x/%x/%x", id.HashAlgorithm.Algorithm, id.NameHash, id.IssuerKeyHash, id.SerialNumber.Bytes())
}

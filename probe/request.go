package probe

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// NonceSize is the RFC 8954 recommendation for a request nonce.
const NonceSize = 32

// The RFC 6960 OCSPRequest, unsigned. x/crypto/ocsp.CreateRequest cannot
// carry extensions, so requests with a nonce are encoded here.
type ocspRequestASN1 struct {
	TBS tbsRequestASN1
}

type tbsRequestASN1 struct {
	RequestList []singleRequestASN1
	Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type singleRequestASN1 struct {
	CertID certID
}

// Request is an encoded OCSP request and what it asks about.
type Request struct {
	DER   []byte
	Nonce []byte
	id    certID
}

// NewRequest encodes a request about leaf, issued by issuer, with a CertID
// hashed by h (SHA-1 when zero). With withNonce it carries a fresh
// 32-byte RFC 8954 nonce.
func NewRequest(leaf, issuer *x509.Certificate, h crypto.Hash, withNonce bool) (*Request, error) {
	id, err := newCertID(h, leaf.SerialNumber, issuer)
	if err != nil {
		return nil, err
	}
	req := &Request{id: id}
	tbs := tbsRequestASN1{RequestList: []singleRequestASN1{{CertID: id}}}
	if withNonce {
		req.Nonce = make([]byte, NonceSize)
		if _, err := rand.Read(req.Nonce); err != nil {
			return nil, fmt.Errorf("nonce: %w", err)
		}
		// extnValue holds the DER of Nonce ::= OCTET STRING (RFC 8954 §2.1).
		value, err := asn1.Marshal(req.Nonce)
		if err != nil {
			return nil, err
		}
		tbs.Extensions = []pkix.Extension{{Id: oidOCSPNonce, Value: value}}
	}
	req.DER, err = asn1.Marshal(ocspRequestASN1{TBS: tbs})
	if err != nil {
		return nil, err
	}
	return req, nil
}

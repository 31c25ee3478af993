package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Certificate statuses, as x/crypto/ocsp numbers them.
const (
	Good    = ocsp.Good
	Revoked = ocsp.Revoked
	Unknown = ocsp.Unknown
)

// Entry is one SingleResponse.
type Entry struct {
	Serial *big.Int
	// Issuer supplies the CertID's name and key hashes.
	Issuer           *x509.Certificate
	Status           int
	RevokedAt        time.Time
	RevocationReason int
	ThisUpdate       time.Time
	// NextUpdate is left out of the response when zero.
	NextUpdate time.Time
	// Hash is the CertID hash; SHA-1 when zero.
	Hash crypto.Hash
}

// EntryFor makes an Entry about leaf, naming its real issuer.
func EntryFor(leaf *Cert, status int, thisUpdate, nextUpdate time.Time) Entry {
	return Entry{Serial: leaf.Cert.SerialNumber, Issuer: leaf.Parent.Cert, Status: status,
		ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedAt: thisUpdate.Add(-time.Hour)}
}

// Response describes a BasicOCSPResponse to build and sign.
type Response struct {
	Entries    []Entry
	ProducedAt time.Time
	// Signer names the responder and, when Embed is set, is sent in certs.
	Signer *Cert
	Embed  bool
	// SignWith signs instead of Signer.Key, to forge a bad signature.
	SignWith crypto.Signer
	// Nonce, when set, is echoed as the RFC 8954 response extension.
	Nonce []byte
	// ResponderID names this certificate instead of Signer, to forge a
	// mismatched ResponderID.
	ResponderID *Cert
	// ByKey identifies the responder by key hash instead of by name.
	ByKey bool
	// Extensions are added to the ResponseData, after the nonce;
	// SingleExtensions to every SingleResponse.
	Extensions       []pkix.Extension
	SingleExtensions []pkix.Extension
	// ExtraCerts are embedded before the signer, to check that a verifier
	// finds the signer by its ResponderID rather than by position.
	ExtraCerts []*Cert
}

type certIDASN1 struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type revokedInfoASN1 struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

type singleResponseASN1 struct {
	CertID     certIDASN1
	Good       asn1.Flag        `asn1:"tag:0,optional"`
	Revoked    revokedInfoASN1  `asn1:"tag:1,optional"`
	Unknown    asn1.Flag        `asn1:"tag:2,optional"`
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type responseDataASN1 struct {
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []singleResponseASN1
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type basicResponseASN1 struct {
	TBSResponseData    asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseBytesASN1 struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type ocspResponseASN1 struct {
	Status asn1.Enumerated
	Bytes  responseBytesASN1 `asn1:"explicit,tag:0,optional"`
}

var (
	oidSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidOCSPBasic       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

func certIDFor(e Entry) (certIDASN1, error) {
	h, oid := crypto.SHA1, oidSHA1
	if e.Hash == crypto.SHA256 {
		h, oid = crypto.SHA256, oidSHA256
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(e.Issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return certIDASN1{}, err
	}
	name, key := h.New(), h.New()
	name.Write(e.Issuer.RawSubject)
	key.Write(spki.PublicKey.RightAlign())
	return certIDASN1{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue},
		NameHash:      name.Sum(nil), IssuerKeyHash: key.Sum(nil), SerialNumber: e.Serial,
	}, nil
}

// DER builds and signs the response.
func (r Response) DER() ([]byte, error) {
	if r.Signer == nil {
		return nil, errors.New("testpki: response needs a signer")
	}
	named := r.Signer
	if r.ResponderID != nil {
		named = r.ResponderID
	}
	responderID := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: named.Cert.RawSubject}
	if r.ByKey {
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if _, err := asn1.Unmarshal(named.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
			return nil, err
		}
		sum := sha1.Sum(spki.PublicKey.RightAlign())
		keyHash, err := asn1.Marshal(sum[:])
		if err != nil {
			return nil, err
		}
		responderID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: keyHash}
	}
	data := responseDataASN1{ResponderID: responderID, ProducedAt: r.ProducedAt.UTC()}
	for _, e := range r.Entries {
		id, err := certIDFor(e)
		if err != nil {
			return nil, err
		}
		s := singleResponseASN1{CertID: id, ThisUpdate: e.ThisUpdate.UTC(), NextUpdate: e.NextUpdate.UTC(), Extensions: r.SingleExtensions}
		if e.NextUpdate.IsZero() {
			s.NextUpdate = time.Time{}
		}
		switch e.Status {
		case Good:
			s.Good = true
		case Revoked:
			s.Revoked = revokedInfoASN1{RevocationTime: e.RevokedAt.UTC(), Reason: asn1.Enumerated(e.RevocationReason)}
		default:
			s.Unknown = true
		}
		data.Responses = append(data.Responses, s)
	}
	if r.Nonce != nil {
		value, err := asn1.Marshal(r.Nonce)
		if err != nil {
			return nil, err
		}
		data.Extensions = []pkix.Extension{{Id: oidOCSPNonce, Value: value}}
	}
	data.Extensions = append(data.Extensions, r.Extensions...)
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, err
	}
	key := r.Signer.Key
	if r.SignWith != nil {
		key = r.SignWith
	}
	sig, alg, err := sign(key, tbs)
	if err != nil {
		return nil, err
	}
	basic := basicResponseASN1{TBSResponseData: asn1.RawValue{FullBytes: tbs}, SignatureAlgorithm: alg, Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}}
	for _, c := range r.ExtraCerts {
		basic.Certificates = append(basic.Certificates, asn1.RawValue{FullBytes: c.Cert.Raw})
	}
	if r.Embed {
		basic.Certificates = append(basic.Certificates, asn1.RawValue{FullBytes: r.Signer.Cert.Raw})
	}
	basicDER, err := asn1.Marshal(basic)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(ocspResponseASN1{Bytes: responseBytesASN1{ResponseType: oidOCSPBasic, Response: basicDER}})
}

// MustDER is DER for tests and the demo, where a failure is a bug.
func (r Response) MustDER() []byte {
	der, err := r.DER()
	if err != nil {
		panic(fmt.Sprintf("testpki: build response: %v", err))
	}
	return der
}

func sign(key crypto.Signer, tbs []byte) ([]byte, pkix.AlgorithmIdentifier, error) {
	digest := crypto.SHA256.New()
	digest.Write(tbs)
	var alg pkix.AlgorithmIdentifier
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	case *rsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	default:
		return nil, alg, fmt.Errorf("testpki: unsupported key %T", key.Public())
	}
	sig, err := key.Sign(rand.Reader, digest.Sum(nil), crypto.SHA256)
	return sig, alg, err
}

// StatusOnly is an OCSPResponse carrying only a non-successful status,
// such as ocsp.TryLater.
func StatusOnly(status ocsp.ResponseStatus) []byte {
	der, err := asn1.Marshal(ocspResponseASN1{Status: asn1.Enumerated(status)})
	if err != nil {
		panic(err)
	}
	return der
}

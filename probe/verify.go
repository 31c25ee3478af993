package probe

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // RFC 6960 defines the ResponderID key hash as SHA-1
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ResponseStatus is the OCSPResponseStatus of RFC 6960 §4.2.1, by name.
type ResponseStatus string

// The closed set of OCSP response statuses.
const (
	StatusSuccessful       ResponseStatus = "successful"
	StatusMalformedRequest ResponseStatus = "malformedRequest"
	StatusInternalError    ResponseStatus = "internalError"
	StatusTryLater         ResponseStatus = "tryLater"
	StatusSigRequired      ResponseStatus = "sigRequired"
	StatusUnauthorized     ResponseStatus = "unauthorized"
)

var responseStatusByCode = map[int]ResponseStatus{
	0: StatusSuccessful, 1: StatusMalformedRequest, 2: StatusInternalError,
	3: StatusTryLater, 5: StatusSigRequired, 6: StatusUnauthorized,
}

// CertStatus is what an OCSP response says about the certificate.
type CertStatus string

// The closed set of certificate statuses.
const (
	CertGood    CertStatus = "good"
	CertRevoked CertStatus = "revoked"
	CertUnknown CertStatus = "unknown"
)

// revocationReasons are RFC 5280 §5.3.1's CRLReason names by code; OCSP
// (RFC 6960 §4.2.1) and CRLs share the codes.
var revocationReasons = map[int]string{
	ocsp.Unspecified: "unspecified", ocsp.KeyCompromise: "keyCompromise",
	ocsp.CACompromise: "cACompromise", ocsp.AffiliationChanged: "affiliationChanged",
	ocsp.Superseded: "superseded", ocsp.CessationOfOperation: "cessationOfOperation",
	ocsp.CertificateHold: "certificateHold", ocsp.RemoveFromCRL: "removeFromCRL",
	ocsp.PrivilegeWithdrawn: "privilegeWithdrawn", ocsp.AACompromise: "aACompromise",
}

// RevocationReasonName names a CRLReason code, or returns "" for a code
// RFC 5280 does not define, so each caller picks its own fallback.
func RevocationReasonName(code int) string { return revocationReasons[code] }

// SignerKind says who signed an OCSP response.
type SignerKind string

// The signers RFC 6960 §4.2.2.2 allows: the issuer, a delegated responder
// the issuer authorised, or a signer the operator trusts locally.
const (
	SignerIssuer    SignerKind = "issuer"
	SignerDelegated SignerKind = "delegated"
	SignerPinned    SignerKind = "pinned"
)

// Signer describes the certificate that signed a response.
type Signer struct {
	Kind      SignerKind
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
	// NoCheck is the id-pkix-ocsp-nocheck extension: clients are told not
	// to check this delegated signer's own revocation status.
	NoCheck bool
}

// failure is a verifier outcome before it is named for a staple or for a
// responder's answer; one verifier serves both, with its own Reason sets.
type failure string

const (
	failNone                failure = ""
	failMalformed           failure = "malformed"
	failStatus              failure = "status"
	failWrongCert           failure = "wrong_cert"
	failIssuerMissing       failure = "issuer_missing"
	failBadSignature        failure = "bad_signature"
	failUnauthorizedSigner  failure = "unauthorized_signer"
	failCriticalExtension   failure = "critical_extension"
	failExpired             failure = "expired"
	failNotYetValid         failure = "not_yet_valid"
	failNoNextUpdate        failure = "no_next_update"
	failTooLongLived        failure = "too_long_lived"
	failSignerExpired       failure = "signer_expired"
	maxEmbeddedCertificates         = 8
)

// VerifyPolicy is what a caller decides about trusting responses.
type VerifyPolicy struct {
	// Skew is the clock-skew tolerance; zero means no tolerance.
	Skew time.Duration
	// MaxResponseAge bounds how long after its ThisUpdate a response may
	// be relied on: a response whose NextUpdate lies further out is
	// too long-lived. Zero means DefaultMaxResponseAge.
	MaxResponseAge time.Duration
	// Pinned are locally trusted signers (RFC 6960 §4.2.2.2, option 1),
	// accepted for this target whoever issued them.
	Pinned []*x509.Certificate
}

// DefaultMaxResponseAge is generous on purpose: the Baseline Requirements
// cap public responses at 10 days, and private responders often answer
// for longer; anything past a month is a misconfiguration.
const DefaultMaxResponseAge = 30 * 24 * time.Hour

func (p VerifyPolicy) maxAge() time.Duration {
	if p.MaxResponseAge <= 0 {
		return DefaultMaxResponseAge
	}
	return p.MaxResponseAge
}

// Verification is the verdict on one DER OCSP response for one certificate.
// Fields are filled as far as parsing got, so an expired response still
// reports its times. A Verification is never changed once returned; a
// verdict at a later time comes from At: the same value while it holds,
// a new one once it changes.
type Verification struct {
	ResponseStatus   ResponseStatus
	CertStatus       CertStatus
	RevokedAt        *time.Time
	RevocationReason string
	ThisUpdate       time.Time
	NextUpdate       *time.Time
	ProducedAt       time.Time
	Signer           *Signer
	CertIDHash       string
	SingleResponses  int
	// NextUpdateAfterCertExpiry flags a response that claims validity past
	// the certificate's NotAfter, which RFC 6960 gives no meaning to.
	NextUpdateAfterCertExpiry bool
	// NextUpdateAfterSignerExpiry flags a delegated or pinned signer that
	// expires before the response it signed does.
	NextUpdateAfterSignerExpiry bool
	Valid                       bool

	failure failure
	detail  string
	// base and baseDetail are the verdict before the time checks: it
	// does not change as time passes, so At can judge again from it.
	base       failure
	baseDetail string
	policy     VerifyPolicy
	nonce      []byte // the response's nonce extension value, if any
	// wellFormed: a successful BasicOCSPResponse, whatever it says.
	wellFormed bool
}

// The shape of an OCSPResponse (RFC 6960 §4.2.1), decoded here rather
// than by x/crypto/ocsp: the verifier needs every SingleResponse's CertID,
// the response and single extensions, every embedded certificate and the
// raw signed bytes, and must tell a bad embedded signature from a
// malformed response without reading error text.
type rawOCSPResponse struct {
	Status asn1.Enumerated
	Bytes  rawResponseBytes `asn1:"explicit,tag:0,optional"`
}

type rawResponseBytes struct {
	Type     asn1.ObjectIdentifier
	Response []byte
}

type rawBasicResponse struct {
	TBS          rawResponseData
	SigAlgorithm pkix.AlgorithmIdentifier
	Signature    asn1.BitString
	Certificates []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type rawResponseData struct {
	Raw         asn1.RawContent
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []rawSingleResponse
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

// rawSingleResponse decodes CertStatus's CHOICE as three optional
// implicitly tagged fields, of which exactly one must be present.
type rawSingleResponse struct {
	CertID     certID
	Good       asn1.Flag        `asn1:"tag:0,optional"`
	Revoked    rawRevokedInfo   `asn1:"tag:1,optional"`
	Unknown    asn1.Flag        `asn1:"tag:2,optional"`
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type rawRevokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional,default:-1"`
}

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// verifyResponse checks der as an OCSP response for leaf, issued by issuer,
// in the order a client would: parse, status, matching SingleResponse,
// signature and signer authority, critical extensions, then the time
// checks. issuer may be nil, in which case the response is parsed but
// cannot be trusted.
func verifyResponse(der []byte, leaf, issuer *x509.Certificate, now time.Time, policy VerifyPolicy) *Verification {
	v := &Verification{policy: policy}
	v.check(der, leaf, issuer)
	return v.At(now)
}

func (v *Verification) check(der []byte, leaf, issuer *x509.Certificate) {
	var outer rawOCSPResponse
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil || len(rest) > 0 {
		v.fail(failMalformed, "not DER: %v", errOrTrailing(err))
		return
	}
	status, known := responseStatusByCode[int(outer.Status)]
	if !known {
		v.fail(failMalformed, "undefined response status %d", outer.Status)
		return
	}
	v.ResponseStatus = status
	if status != StatusSuccessful {
		v.fail(failStatus, "response status %s", status)
		return
	}
	if !outer.Bytes.Type.Equal(oidOCSPBasic) {
		v.fail(failMalformed, "response type %v is not id-pkix-ocsp-basic", outer.Bytes.Type)
		return
	}
	var basic rawBasicResponse
	if rest, err := asn1.Unmarshal(outer.Bytes.Response, &basic); err != nil || len(rest) > 0 {
		v.fail(failMalformed, "BasicOCSPResponse: %v", errOrTrailing(err))
		return
	}
	v.wellFormed = true
	v.SingleResponses = len(basic.TBS.Responses)
	v.ProducedAt = basic.TBS.ProducedAt
	for _, ext := range basic.TBS.Extensions {
		if ext.Id.Equal(oidOCSPNonce) {
			// A copy: the value points into der, which the cache and a
			// compact report must not keep alive for a few bytes.
			v.nonce = bytes.Clone(ext.Value)
		}
	}

	match, issuerMatched := findSingleResponse(basic.TBS.Responses, leaf.SerialNumber, issuer)
	if match == nil {
		v.fail(failWrongCert, "no SingleResponse for serial %x among %d", leaf.SerialNumber, v.SingleResponses)
		return
	}
	if issuer != nil && !issuerMatched {
		v.fail(failWrongCert, "SingleResponse for serial %x names another issuer", leaf.SerialNumber)
		return
	}
	certStatus, ok := match.status()
	if !ok {
		v.fail(failMalformed, "SingleResponse for serial %x has no single CertStatus", leaf.SerialNumber)
		return
	}
	v.CertIDHash = strings.ToLower(hashFromOID(match.CertID.HashAlgorithm.Algorithm).String())
	v.ThisUpdate = match.ThisUpdate
	if !match.NextUpdate.IsZero() {
		next := match.NextUpdate
		v.NextUpdate = &next
		v.NextUpdateAfterCertExpiry = next.After(leaf.NotAfter)
	}
	if issuer == nil {
		v.fail(failIssuerMissing, "no issuer certificate to check the signature against")
		return
	}
	embedded, err := parseEmbedded(basic.Certificates)
	if err != nil {
		v.fail(failMalformed, "%v", err)
		return
	}
	if f, detail := v.checkSigner(&basic, embedded, issuer); f != failNone {
		v.fail(f, "%s", detail)
		return
	}
	if oid, found := unknownCriticalExtension(basic.TBS.Extensions, match.Extensions); found {
		v.fail(failCriticalExtension, "critical extension %v is not understood", oid)
		return
	}
	// The status is only worth reporting once the signature is trusted.
	v.CertStatus = certStatus
	if certStatus == CertRevoked {
		at := match.Revoked.RevocationTime
		v.RevokedAt = &at
		// RFC 5280 §5.3.1: an absent reason code means unspecified.
		v.RevocationReason = revocationReasons[max(int(match.Revoked.Reason), ocsp.Unspecified)]
	}
}

// findSingleResponse finds the SingleResponse about serial from issuer;
// failing that, the first about serial at all, which the caller then
// reports as naming another issuer. issuerMatched says which it found,
// so the caller need not hash the issuer's name and key a second time.
func findSingleResponse(responses []rawSingleResponse, serial *big.Int, issuer *x509.Certificate) (match *rawSingleResponse, issuerMatched bool) {
	if issuer != nil {
		for i := range responses {
			if responses[i].CertID.matches(serial, issuer) {
				return &responses[i], true
			}
		}
	}
	for i := range responses {
		if responses[i].CertID.SerialNumber != nil && responses[i].CertID.SerialNumber.Cmp(serial) == 0 {
			return &responses[i], false
		}
	}
	return nil, false
}

func (r *rawSingleResponse) status() (CertStatus, bool) {
	revoked := !r.Revoked.RevocationTime.IsZero()
	switch {
	case bool(r.Good) && !revoked && !bool(r.Unknown):
		return CertGood, true
	case revoked && !bool(r.Good) && !bool(r.Unknown):
		return CertRevoked, true
	case bool(r.Unknown) && !revoked && !bool(r.Good):
		return CertUnknown, true
	}
	return "", false
}

func parseEmbedded(raws []asn1.RawValue) ([]*x509.Certificate, error) {
	if len(raws) > maxEmbeddedCertificates {
		return nil, fmt.Errorf("%d embedded certificates, more than the %d a responder needs", len(raws), maxEmbeddedCertificates)
	}
	certs := make([]*x509.Certificate, 0, len(raws))
	for i, raw := range raws {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("embedded certificate %d: %v", i+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// checkSigner applies RFC 6960 §4.2.2.2. The signer is the certificate
// the ResponderID names: a locally pinned signer, the issuer itself, or an
// embedded delegated responder that the issuer issued, that carries
// id-kp-OCSPSigning and that was valid when it signed. Its signature is
// checked over the raw ResponseData, once.
func (v *Verification) checkSigner(basic *rawBasicResponse, embedded []*x509.Certificate, issuer *x509.Certificate) (failure, string) {
	id := basic.TBS.ResponderID
	var signer *x509.Certificate
	kind := SignerDelegated
	for _, c := range v.policy.Pinned {
		if responderIDNames(id, c) {
			signer, kind = c, SignerPinned
			break
		}
	}
	if signer == nil && responderIDNames(id, issuer) {
		signer, kind = issuer, SignerIssuer
	}
	if signer == nil {
		for _, c := range embedded {
			if responderIDNames(id, c) {
				signer = c
				break
			}
		}
	}
	if signer == nil {
		if len(embedded) == 0 {
			return failUnauthorizedSigner, "the ResponderID names neither the issuer nor a pinned signer, and no signer certificate is embedded"
		}
		return failUnauthorizedSigner, fmt.Sprintf("the ResponderID names none of the %d embedded certificates, nor the issuer %q", len(embedded), issuer.Subject)
	}
	v.Signer = &Signer{Kind: kind, Subject: signer.Subject.String(), NotBefore: signer.NotBefore, NotAfter: signer.NotAfter, NoCheck: hasOCSPNoCheck(signer)}
	alg, ok := signatureAlgorithm(basic.SigAlgorithm)
	if !ok {
		return failBadSignature, fmt.Sprintf("unsupported signature algorithm %v", basic.SigAlgorithm.Algorithm)
	}
	if err := signer.CheckSignature(alg, basic.TBS.Raw, basic.Signature.RightAlign()); err != nil {
		return failBadSignature, fmt.Sprintf("not signed by %s %q: %v", kind, signer.Subject, err)
	}
	if v.NextUpdate != nil && kind != SignerIssuer {
		v.NextUpdateAfterSignerExpiry = v.NextUpdate.After(signer.NotAfter)
	}
	switch kind {
	case SignerIssuer, SignerPinned:
		return failNone, ""
	}
	if err := signer.CheckSignatureFrom(issuer); err != nil {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q was not issued by the issuer %q", signer.Subject, issuer.Subject)
	}
	if !hasOCSPSigningEKU(signer) {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q lacks the id-kp-OCSPSigning extended key usage", signer.Subject)
	}
	if v.ProducedAt.Before(signer.NotBefore) || v.ProducedAt.After(signer.NotAfter) {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q was not valid at ProducedAt %s", signer.Subject, stamp(v.ProducedAt))
	}
	return failNone, ""
}

// responderIDNames reports whether a ResponderID (RFC 6960 §4.2.2.3), by
// name or by SHA-1 key hash, identifies cert. Clients such as OpenSSL find
// the signer by this ID and reject a response whose ID names someone else.
func responderIDNames(id asn1.RawValue, cert *x509.Certificate) bool {
	if id.Class != asn1.ClassContextSpecific {
		return false
	}
	switch id.Tag {
	case 1: // byName [1] EXPLICIT Name
		return bytes.Equal(id.Bytes, cert.RawSubject)
	case 2: // byKey [2] EXPLICIT KeyHash (OCTET STRING)
		var keyHash []byte
		if rest, err := asn1.Unmarshal(id.Bytes, &keyHash); err != nil || len(rest) > 0 {
			return false
		}
		key, err := issuerKeyBits(cert)
		if err != nil {
			return false
		}
		sum := sha1.Sum(key)
		return bytes.Equal(keyHash, sum[:])
	}
	return false
}

// unknownCriticalExtension finds a critical extension the verifier does
// not understand; RFC 5280 §4.2 semantics: such a response is not to be
// trusted. The nonce is the only response extension acted on.
func unknownCriticalExtension(response, single []pkix.Extension) (asn1.ObjectIdentifier, bool) {
	for _, ext := range response {
		if ext.Critical && !ext.Id.Equal(oidOCSPNonce) {
			return ext.Id, true
		}
	}
	for _, ext := range single {
		if ext.Critical {
			return ext.Id, true
		}
	}
	return nil, false
}

// At judges the verification's time checks as of now and returns the
// verdict: v itself when v already holds that verdict, else a new value.
// v never changes, so a cached result is shared safely and judged again
// on each use; and every holder of an unchanged verdict shares one value
// instead of keeping a copy each.
func (v *Verification) At(now time.Time) *Verification {
	f, detail := v.judge(now)
	valid := f == failNone && v.CertStatus != ""
	if f == v.failure && detail == v.detail && valid == v.Valid {
		return v
	}
	c := *v
	c.failure, c.detail, c.Valid = f, detail, valid
	return &c
}

// judge is the failure as of now: the one found before the time checks,
// else the first time check that fails.
func (v *Verification) judge(now time.Time) (failure, string) {
	if v.base != failNone || v.CertStatus == "" {
		return v.base, v.baseDetail
	}
	skew := v.policy.Skew
	shifted := now.Add(skew)
	switch {
	case v.ThisUpdate.After(shifted):
		return failNotYetValid, fmt.Sprintf("ThisUpdate %s is %s ahead of now", stamp(v.ThisUpdate), v.ThisUpdate.Sub(now).Round(time.Second))
	case v.NextUpdate == nil:
		return failNoNextUpdate, fmt.Sprintf("no NextUpdate, ThisUpdate %s; RFC 5019 clients must reject it", stamp(v.ThisUpdate))
	case v.NextUpdate.Sub(v.ThisUpdate) > v.policy.maxAge():
		return failTooLongLived, fmt.Sprintf("valid for %s from ThisUpdate, more than max_response_age %s", v.NextUpdate.Sub(v.ThisUpdate).Round(time.Second), v.policy.maxAge())
	case !shifted.Before(*v.NextUpdate):
		return failExpired, fmt.Sprintf("NextUpdate %s was %s ago (skew allowance %s)", stamp(*v.NextUpdate), now.Sub(*v.NextUpdate).Round(time.Second), skew)
	case v.Signer != nil && v.Signer.Kind != SignerIssuer && (now.After(v.Signer.NotAfter) || v.Signer.NotBefore.After(shifted)):
		return failSignerExpired, fmt.Sprintf("%s signer %q is valid only %s to %s", v.Signer.Kind, v.Signer.Subject, stamp(v.Signer.NotBefore), stamp(v.Signer.NotAfter))
	}
	return failNone, ""
}

// fail records a failure found before the time checks.
func (v *Verification) fail(f failure, format string, args ...any) {
	v.base, v.baseDetail = f, fmt.Sprintf(format, args...)
}

// Detail explains a failed verification in words, empty when valid.
func (v *Verification) Detail() string { return v.detail }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func errOrTrailing(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("trailing data")
}

var stapleReasons = map[failure]Reason{
	failMalformed:          ReasonStapleMalformed,
	failStatus:             ReasonStapleMalformed,
	failWrongCert:          ReasonStapleWrongCert,
	failIssuerMissing:      ReasonIssuerMissing,
	failBadSignature:       ReasonStapleBadSignature,
	failUnauthorizedSigner: ReasonStapleUnauthorizedSigner,
	failCriticalExtension:  ReasonStapleCriticalExtension,
	failExpired:            ReasonStapleExpired,
	failNotYetValid:        ReasonStapleNotYetValid,
	failNoNextUpdate:       ReasonStapleNoNextUpdate,
	failTooLongLived:       ReasonStapleTooLongLived,
	failSignerExpired:      ReasonStapleUnauthorizedSigner,
}

var responseReasons = map[failure]Reason{
	failMalformed:          ReasonResponseMalformed,
	failStatus:             ReasonResponseStatus,
	failWrongCert:          ReasonResponseWrongCert,
	failIssuerMissing:      ReasonIssuerMissing,
	failBadSignature:       ReasonResponseBadSignature,
	failUnauthorizedSigner: ReasonResponseUnauthorizedSigner,
	failCriticalExtension:  ReasonResponseCriticalExtension,
	failExpired:            ReasonResponseExpired,
	failNotYetValid:        ReasonResponseNotYetValid,
	failNoNextUpdate:       ReasonResponseNoNextUpdate,
	failTooLongLived:       ReasonResponseTooLongLived,
	failSignerExpired:      ReasonResponseUnauthorizedSigner,
}

// problems names the verification's failure and the certificate status in
// the given Reason set.
func (v *Verification) problems(reasons map[failure]Reason, revoked, unknown Reason) []Problem {
	var out []Problem
	if v.failure != failNone {
		out = append(out, Problem{Reason: reasons[v.failure], Detail: v.detail})
	}
	if !v.Valid {
		return out
	}
	switch v.CertStatus {
	case CertRevoked:
		d := "revoked at " + stamp(*v.RevokedAt)
		if v.RevocationReason != "" {
			d += " (" + v.RevocationReason + ")"
		}
		out = append(out, Problem{Reason: revoked, Detail: d})
	case CertUnknown:
		out = append(out, Problem{Reason: unknown})
	}
	return out
}

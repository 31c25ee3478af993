package probe

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // RFC 6960 defines the ResponderID key hash as SHA-1
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
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

// AllResponseStatuses lists every ResponseStatus, for enum-style metrics.
func AllResponseStatuses() []ResponseStatus {
	return []ResponseStatus{StatusSuccessful, StatusMalformedRequest, StatusInternalError,
		StatusTryLater, StatusSigRequired, StatusUnauthorized}
}

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

// AllCertStatuses lists every CertStatus, for enum-style metrics.
func AllCertStatuses() []CertStatus { return []CertStatus{CertGood, CertRevoked, CertUnknown} }

var revocationReasons = map[int]string{
	ocsp.Unspecified: "unspecified", ocsp.KeyCompromise: "keyCompromise",
	ocsp.CACompromise: "cACompromise", ocsp.AffiliationChanged: "affiliationChanged",
	ocsp.Superseded: "superseded", ocsp.CessationOfOperation: "cessationOfOperation",
	ocsp.CertificateHold: "certificateHold", ocsp.RemoveFromCRL: "removeFromCRL",
	ocsp.PrivilegeWithdrawn: "privilegeWithdrawn", ocsp.AACompromise: "aACompromise",
}

// SignerKind says who signed an OCSP response.
type SignerKind string

// Signers RFC 6960 §4.2.2.2 allows, short of a locally trusted responder.
const (
	SignerIssuer    SignerKind = "issuer"
	SignerDelegated SignerKind = "delegated"
)

// Signer describes the certificate that signed a response.
type Signer struct {
	Kind     SignerKind
	Subject  string
	NotAfter time.Time
	// NoCheck is the id-pkix-ocsp-nocheck extension: clients are told not
	// to check this delegated signer's own revocation status.
	NoCheck bool
}

// failure is a verifier outcome before it is named for a staple or for a
// responder's answer; one verifier serves both, with its own Reason sets.
type failure string

const (
	failNone               failure = ""
	failMalformed          failure = "malformed"
	failStatus             failure = "status"
	failWrongCert          failure = "wrong_cert"
	failIssuerMissing      failure = "issuer_missing"
	failBadSignature       failure = "bad_signature"
	failUnauthorizedSigner failure = "unauthorized_signer"
	failExpired            failure = "expired"
	failNotYetValid        failure = "not_yet_valid"
)

// Verification is the verdict on one DER OCSP response for one certificate.
// Fields are filled as far as parsing got, so an expired response still
// reports its times.
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
	Valid                     bool

	failure failure
	detail  string
	nonce   []byte // the response's nonce extension value, if any
	// wellFormed: a successful BasicOCSPResponse, whatever it says.
	wellFormed bool
	// parsed: x/crypto/ocsp read it for this certificate.
	parsed bool
}

// The shape of a BasicOCSPResponse, walked only for what x/crypto/ocsp does
// not expose: every SingleResponse's CertID and the response extensions.
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
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []rawSingleResponse
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type rawSingleResponse struct {
	CertID     certID
	Status     asn1.RawValue
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// verifyResponse checks der as an OCSP response for leaf, issued by issuer,
// in the order a client would: parse, status, matching SingleResponse,
// signature and signer authority, then time window. issuer may be nil, in
// which case the response is parsed but cannot be trusted.
func verifyResponse(der []byte, leaf, issuer *x509.Certificate, now time.Time, skew time.Duration) *Verification {
	v := &Verification{}
	var outer rawOCSPResponse
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil || len(rest) > 0 {
		return v.fail(failMalformed, "not DER: %v", errOrTrailing(err))
	}
	status, known := responseStatusByCode[int(outer.Status)]
	if !known {
		return v.fail(failMalformed, "undefined response status %d", outer.Status)
	}
	v.ResponseStatus = status
	if status != StatusSuccessful {
		return v.fail(failStatus, "response status %s", status)
	}
	if !outer.Bytes.Type.Equal(oidOCSPBasic) {
		return v.fail(failMalformed, "response type %v is not id-pkix-ocsp-basic", outer.Bytes.Type)
	}
	var basic rawBasicResponse
	if rest, err := asn1.Unmarshal(outer.Bytes.Response, &basic); err != nil || len(rest) > 0 {
		return v.fail(failMalformed, "BasicOCSPResponse: %v", errOrTrailing(err))
	}
	v.wellFormed = true
	v.SingleResponses = len(basic.TBS.Responses)
	for _, ext := range basic.TBS.Extensions {
		if ext.Id.Equal(oidOCSPNonce) {
			v.nonce = ext.Value
		}
	}

	// x/crypto/ocsp picks the first SingleResponse whose serial matches, so
	// the issuer hashes are checked on that same entry.
	var match *rawSingleResponse
	for i := range basic.TBS.Responses {
		if basic.TBS.Responses[i].CertID.SerialNumber != nil && basic.TBS.Responses[i].CertID.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			match = &basic.TBS.Responses[i]
			break
		}
	}
	if match == nil {
		return v.fail(failWrongCert, "no SingleResponse for serial %x among %d", leaf.SerialNumber, v.SingleResponses)
	}
	if issuer != nil && !match.CertID.matches(leaf.SerialNumber, issuer) {
		return v.fail(failWrongCert, "SingleResponse for serial %x names another issuer", leaf.SerialNumber)
	}

	resp, err := ocsp.ParseResponseForCert(der, leaf, nil)
	if err != nil {
		if strings.Contains(err.Error(), "bad signature on embedded certificate") {
			return v.fail(failBadSignature, "%v", err)
		}
		return v.fail(failMalformed, "%v", err)
	}
	v.parsed = true
	v.CertIDHash = strings.ToLower(resp.IssuerHash.String())
	v.ThisUpdate = resp.ThisUpdate
	v.ProducedAt = resp.ProducedAt
	if !resp.NextUpdate.IsZero() {
		next := resp.NextUpdate
		v.NextUpdate = &next
		v.NextUpdateAfterCertExpiry = next.After(leaf.NotAfter)
	}
	if issuer == nil {
		return v.fail(failIssuerMissing, "no issuer certificate to check the signature against")
	}
	if f, detail := checkSigner(resp, issuer, v); f != failNone {
		return v.fail(f, "%s", detail)
	}
	// The status is only worth reporting once the signature is trusted.
	switch resp.Status {
	case ocsp.Good:
		v.CertStatus = CertGood
	case ocsp.Revoked:
		v.CertStatus = CertRevoked
		at := resp.RevokedAt
		v.RevokedAt = &at
		v.RevocationReason = revocationReasons[resp.RevocationReason]
	default:
		v.CertStatus = CertUnknown
	}

	v.checkWindow(now, skew)
	return v
}

// checkSigner applies RFC 6960 §4.2.2.2: the issuer itself, or a delegated
// responder that the issuer issued, that carries id-kp-OCSPSigning and that
// was valid when it signed. x/crypto/ocsp checks none of the last two.
func checkSigner(resp *ocsp.Response, issuer *x509.Certificate, v *Verification) (failure, string) {
	signer := resp.Certificate
	if signer == nil || bytes.Equal(signer.Raw, issuer.Raw) {
		v.Signer = &Signer{Kind: SignerIssuer, Subject: issuer.Subject.String(), NotAfter: issuer.NotAfter}
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return failBadSignature, fmt.Sprintf("not signed by the issuer %q: %v", issuer.Subject, err)
		}
		if !responderIDNames(resp, issuer) {
			return failUnauthorizedSigner, fmt.Sprintf("the ResponderID does not name the issuer %q that signed it", issuer.Subject)
		}
		return failNone, ""
	}
	v.Signer = &Signer{Kind: SignerDelegated, Subject: signer.Subject.String(), NotAfter: signer.NotAfter, NoCheck: hasOCSPNoCheck(signer)}
	if err := resp.CheckSignatureFrom(signer); err != nil {
		return failBadSignature, fmt.Sprintf("not signed by the embedded certificate %q: %v", signer.Subject, err)
	}
	if err := signer.CheckSignatureFrom(issuer); err != nil {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q was not issued by the issuer %q", signer.Subject, issuer.Subject)
	}
	if !hasOCSPSigningEKU(signer) {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q lacks the id-kp-OCSPSigning extended key usage", signer.Subject)
	}
	if resp.ProducedAt.Before(signer.NotBefore) || resp.ProducedAt.After(signer.NotAfter) {
		return failUnauthorizedSigner, fmt.Sprintf("signer %q was not valid at ProducedAt %s", signer.Subject, resp.ProducedAt.UTC().Format(time.RFC3339))
	}
	if !responderIDNames(resp, signer) {
		return failUnauthorizedSigner, fmt.Sprintf("the ResponderID does not name the signer %q", signer.Subject)
	}
	return failNone, ""
}

// responderIDNames reports whether the response's ResponderID (RFC 6960
// §4.2.2.3), by name or by SHA-1 key hash, identifies cert. Clients such
// as OpenSSL find the signer by this ID and reject a response whose ID
// names someone else.
func responderIDNames(resp *ocsp.Response, cert *x509.Certificate) bool {
	if resp.RawResponderName != nil {
		return bytes.Equal(resp.RawResponderName, cert.RawSubject)
	}
	key, err := issuerKeyBits(cert)
	if err != nil {
		return false
	}
	sum := sha1.Sum(key)
	return bytes.Equal(resp.ResponderKeyHash, sum[:])
}

// checkWindow applies ThisUpdate ≤ now+skew < NextUpdate. The skew widens
// the start (responders' clocks run ahead) and narrows the end: a client
// whose clock is ahead by the skew already rejects the response.
func (v *Verification) checkWindow(now time.Time, skew time.Duration) {
	if !v.parsed || (v.failure != failNone && v.failure != failExpired && v.failure != failNotYetValid) {
		return
	}
	v.failure, v.detail, v.Valid = failNone, "", true
	switch shifted := now.Add(skew); {
	case v.ThisUpdate.After(shifted):
		v.fail(failNotYetValid, "ThisUpdate %s is %s ahead of now", stamp(v.ThisUpdate), v.ThisUpdate.Sub(now).Round(time.Second))
	case v.NextUpdate != nil && !shifted.Before(*v.NextUpdate):
		v.fail(failExpired, "NextUpdate %s was %s ago (skew allowance %s)", stamp(*v.NextUpdate), now.Sub(*v.NextUpdate).Round(time.Second), skew)
	}
}

func (v *Verification) fail(f failure, format string, args ...any) *Verification {
	v.failure = f
	v.detail = fmt.Sprintf(format, args...)
	v.Valid = false
	return v
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
	failExpired:            ReasonStapleExpired,
	failNotYetValid:        ReasonStapleNotYetValid,
}

var responseReasons = map[failure]Reason{
	failMalformed:          ReasonResponseMalformed,
	failStatus:             ReasonResponseStatus,
	failWrongCert:          ReasonResponseWrongCert,
	failIssuerMissing:      ReasonIssuerMissing,
	failBadSignature:       ReasonResponseBadSignature,
	failUnauthorizedSigner: ReasonResponseUnauthorizedSigner,
	failExpired:            ReasonResponseExpired,
	failNotYetValid:        ReasonResponseNotYetValid,
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

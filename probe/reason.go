package probe

import (
	"slices"

	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// Reason is the closed set of ways a probe can fail. Every value is a
// bounded Prometheus label value, so free-form error text never becomes a
// label; the details go into Problem.Detail instead.
type Reason string

// Reasons found while reaching and handshaking with a TLS endpoint, and
// while checking the staple it served.
const (
	ReasonDNS          Reason = "dns"
	ReasonConnect      Reason = "connect"
	ReasonTimeout      Reason = "timeout"
	ReasonTLSHandshake Reason = "tls_handshake"
	// ReasonStartTLSRefused means the server does not offer STARTTLS or
	// refused it; ReasonStartTLSFailed that the dialogue broke down.
	ReasonStartTLSRefused Reason = "starttls_refused"
	ReasonStartTLSFailed  Reason = "starttls_failed"
	// ReasonAddressDenied means the network policy refused an address
	// before any connection was made, for an endpoint or a responder.
	ReasonAddressDenied Reason = "address_denied"
	// ReasonIssuerMissing means the staple could not be verified because
	// the issuer was neither served, in the trust roots, nor configured.
	ReasonIssuerMissing            Reason = "issuer_missing"
	ReasonStapleMissing            Reason = "staple_missing"
	ReasonStapleMalformed          Reason = "staple_malformed"
	ReasonStapleWrongCert          Reason = "staple_wrong_cert"
	ReasonStapleBadSignature       Reason = "staple_bad_signature"
	ReasonStapleUnauthorizedSigner Reason = "staple_unauthorized_signer"
	ReasonStapleExpired            Reason = "staple_expired"
	ReasonStapleNotYetValid        Reason = "staple_not_yet_valid"
	ReasonStapleRevoked            Reason = "staple_revoked"
	ReasonStapleUnknown            Reason = "staple_unknown"
	ReasonStapleCriticalExtension  Reason = "staple_critical_extension"
	ReasonStapleNoNextUpdate       Reason = "staple_no_next_update"
	ReasonStapleTooLongLived       Reason = "staple_too_long_lived"
	ReasonMustStapleViolated       Reason = "must_staple_violated"
)

// Reasons found while querying an OCSP responder directly.
const (
	ReasonResponderURLInvalid        Reason = "responder_url_invalid"
	ReasonResponderDNS               Reason = "responder_dns"
	ReasonResponderConnect           Reason = "responder_connect"
	ReasonResponderTimeout           Reason = "responder_timeout"
	ReasonResponderTLS               Reason = "responder_tls"
	ReasonResponderRedirects         Reason = "responder_redirects"
	ReasonResponderHTTPStatus        Reason = "responder_http_status"
	ReasonResponderContentType       Reason = "responder_content_type"
	ReasonResponderBodyTooLarge      Reason = "responder_body_too_large"
	ReasonResponseMalformed          Reason = "response_malformed"
	ReasonResponseStatus             Reason = "response_status"
	ReasonResponseWrongCert          Reason = "response_wrong_cert"
	ReasonResponseBadSignature       Reason = "response_bad_signature"
	ReasonResponseUnauthorizedSigner Reason = "response_unauthorized_signer"
	ReasonResponseExpired            Reason = "response_expired"
	ReasonResponseNotYetValid        Reason = "response_not_yet_valid"
	ReasonResponseRevoked            Reason = "response_revoked"
	ReasonResponseUnknown            Reason = "response_unknown"
	ReasonResponseCriticalExtension  Reason = "response_critical_extension"
	ReasonResponseNoNextUpdate       Reason = "response_no_next_update"
	ReasonResponseTooLongLived       Reason = "response_too_long_lived"
	ReasonNonceMissing               Reason = "nonce_missing"
	ReasonNonceMismatch              Reason = "nonce_mismatch"
	ReasonStapleResponderDisagree    Reason = "staple_responder_disagree"
)

// reasonDescriptions is the single source for the plain-words text shown
// by `ocspwatch check` and for the documentation test that keeps the README
// in step with the enum.
var reasonDescriptions = map[Reason]string{
	ReasonDNS:                        "the endpoint's name did not resolve",
	ReasonConnect:                    "the TCP connection to the endpoint failed",
	ReasonTimeout:                    "the endpoint did not finish the handshake before the timeout",
	ReasonTLSHandshake:               "the TLS handshake failed",
	ReasonStartTLSRefused:            "the server does not offer STARTTLS or refused it",
	ReasonStartTLSFailed:             "the STARTTLS dialogue before the TLS handshake failed",
	ReasonAddressDenied:              "the network policy denies the address; no connection was made",
	ReasonIssuerMissing:              "the issuer certificate was not served, not in the trust roots and not configured, so the staple cannot be verified",
	ReasonStapleMissing:              "the server sent no OCSP staple",
	ReasonStapleMalformed:            "the staple is not a parseable, successful OCSP response",
	ReasonStapleWrongCert:            "the staple is for a different certificate",
	ReasonStapleBadSignature:         "the staple's signature does not verify",
	ReasonStapleUnauthorizedSigner:   "the staple was signed by a certificate that may not sign for this issuer",
	ReasonStapleExpired:              "the staple is past its NextUpdate",
	ReasonStapleNotYetValid:          "the staple's ThisUpdate is in the future",
	ReasonStapleRevoked:              "the staple says the certificate is revoked",
	ReasonStapleUnknown:              "the staple says the certificate is unknown to the responder",
	ReasonMustStapleViolated:         "the certificate is must-staple but the server sent no staple",
	ReasonStapleCriticalExtension:    "the staple carries a critical extension the verifier does not understand",
	ReasonStapleNoNextUpdate:         "the staple has no NextUpdate, which RFC 5019 clients must reject",
	ReasonStapleTooLongLived:         "the staple's NextUpdate lies further after its ThisUpdate than max_response_age allows",
	ReasonResponderURLInvalid:        "the responder URL is not a usable http:// or https:// URL",
	ReasonResponderDNS:               "the responder's name did not resolve",
	ReasonResponderConnect:           "the connection to the responder failed",
	ReasonResponderTimeout:           "the responder did not answer before the timeout",
	ReasonResponderTLS:               "the TLS handshake with an https responder failed",
	ReasonResponderRedirects:         "the responder redirected too many times",
	ReasonResponderHTTPStatus:        "the responder answered with an HTTP status other than 200",
	ReasonResponderContentType:       "the responder's Content-Type is not application/ocsp-response",
	ReasonResponderBodyTooLarge:      "the responder's body is larger than the limit",
	ReasonResponseMalformed:          "the responder's body is not a parseable OCSP response",
	ReasonResponseStatus:             "the responder returned a non-successful OCSP response status",
	ReasonResponseWrongCert:          "the response is for a different certificate",
	ReasonResponseBadSignature:       "the response's signature does not verify",
	ReasonResponseUnauthorizedSigner: "the response was signed by a certificate that may not sign for this issuer",
	ReasonResponseExpired:            "the response is past its NextUpdate",
	ReasonResponseNotYetValid:        "the response's ThisUpdate is in the future",
	ReasonResponseRevoked:            "the responder says the certificate is revoked",
	ReasonResponseUnknown:            "the responder says the certificate is unknown",
	ReasonResponseCriticalExtension:  "the response carries a critical extension the verifier does not understand",
	ReasonResponseNoNextUpdate:       "the response has no NextUpdate, which RFC 5019 clients must reject",
	ReasonResponseTooLongLived:       "the response's NextUpdate lies further after its ThisUpdate than max_response_age allows",
	ReasonNonceMissing:               "a nonce was sent and required but the response did not echo it",
	ReasonNonceMismatch:              "the response echoed a different nonce",
	ReasonStapleResponderDisagree:    "the staple and the responder give different certificate statuses",
	ReasonChainRevoked:               "a certificate above the leaf in the chain is revoked, by its CRL or OCSP",
	ReasonCRLOCSPDisagree:            "the CRL and OCSP give different statuses for the leaf",
	ReasonNoRevocationInfo:           "the certificate names neither an OCSP responder nor a CRL, and is not short-lived",
}

func init() {
	// The CRL reasons are described once, in package crl.
	for _, r := range crl.AllReasons() {
		reasonDescriptions[Reason(r)] = r.Describe()
	}
}

// AllReasons lists every Reason in a stable order, for documentation and
// for pre-creating counter series.
func AllReasons() []Reason {
	return []Reason{
		ReasonDNS, ReasonConnect, ReasonTimeout, ReasonTLSHandshake, ReasonStartTLSRefused, ReasonStartTLSFailed, ReasonAddressDenied, ReasonIssuerMissing,
		ReasonStapleMissing, ReasonStapleMalformed, ReasonStapleWrongCert, ReasonStapleBadSignature,
		ReasonStapleUnauthorizedSigner, ReasonStapleExpired, ReasonStapleNotYetValid,
		ReasonStapleRevoked, ReasonStapleUnknown, ReasonMustStapleViolated,
		ReasonStapleCriticalExtension, ReasonStapleNoNextUpdate, ReasonStapleTooLongLived,
		ReasonResponderURLInvalid, ReasonResponderDNS, ReasonResponderConnect, ReasonResponderTimeout, ReasonResponderTLS,
		ReasonResponderRedirects, ReasonResponderHTTPStatus, ReasonResponderContentType,
		ReasonResponderBodyTooLarge, ReasonResponseMalformed, ReasonResponseStatus,
		ReasonResponseWrongCert, ReasonResponseBadSignature, ReasonResponseUnauthorizedSigner,
		ReasonResponseExpired, ReasonResponseNotYetValid, ReasonResponseRevoked, ReasonResponseUnknown,
		ReasonResponseCriticalExtension, ReasonResponseNoNextUpdate, ReasonResponseTooLongLived,
		ReasonNonceMissing, ReasonNonceMismatch, ReasonStapleResponderDisagree,
		ReasonCRLUnreachable, ReasonCRLTimeout, ReasonCRLHTTPStatus, ReasonCRLTooLarge,
		ReasonCRLMalformed, ReasonCRLBadSignature, ReasonCRLStale, ReasonCRLNoNextUpdate,
		ReasonCRLUnsupported, ReasonCRLRevoked, ReasonChainRevoked, ReasonCRLOCSPDisagree,
		ReasonNoRevocationInfo,
	}
}

// Describe returns the reason in plain words.
func (r Reason) Describe() string {
	if d, ok := reasonDescriptions[r]; ok {
		return d
	}
	return string(r)
}

// Problem is one thing wrong, with the closed Reason for metrics and a
// free-form Detail for people and logs.
type Problem struct {
	Reason Reason
	Detail string
}

func (p Problem) String() string {
	if p.Detail == "" {
		return p.Reason.Describe()
	}
	return p.Reason.Describe() + ": " + p.Detail
}

// UniqueReasons lists the reasons of problems once each, in first-seen
// order: one run counts a reason once, however many addresses or URLs
// showed it.
func UniqueReasons(problems []Problem) []Reason {
	var out []Reason
	for _, p := range problems {
		if !slices.Contains(out, p.Reason) {
			out = append(out, p.Reason)
		}
	}
	return out
}

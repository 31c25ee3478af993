package crl

// Reason is the closed set of ways a CRL check can fail. Values are
// bounded Prometheus label values; details go into Problem.Detail.
type Reason string

// Reasons. They use the crl_ prefix so they can share a failure counter
// with the OCSP reasons of package probe.
const (
	ReasonUnreachable  Reason = "crl_unreachable"
	ReasonTimeout      Reason = "crl_timeout"
	ReasonHTTPStatus   Reason = "crl_http_status"
	ReasonTooLarge     Reason = "crl_too_large"
	ReasonMalformed    Reason = "crl_malformed"
	ReasonBadSignature Reason = "crl_bad_signature"
	ReasonStale        Reason = "crl_stale"
	ReasonNoNextUpdate Reason = "crl_no_next_update"
	ReasonUnsupported  Reason = "crl_unsupported"
	ReasonRevoked      Reason = "crl_revoked"
)

var reasonDescriptions = map[Reason]string{
	ReasonUnreachable:  "the CRL distribution point could not be reached",
	ReasonTimeout:      "the CRL download did not finish before the timeout",
	ReasonHTTPStatus:   "the CRL distribution point answered with an HTTP status other than 200 (or 304 to a conditional request)",
	ReasonTooLarge:     "the CRL is larger than the configured limit",
	ReasonMalformed:    "the body is not a parseable CRL",
	ReasonBadSignature: "the CRL is not signed by the certificate's issuer, or names another issuer",
	ReasonStale:        "the CRL is outside its validity window: past its NextUpdate, or its ThisUpdate is in the future",
	ReasonNoNextUpdate: "the CRL has no NextUpdate, so its freshness cannot be judged",
	ReasonUnsupported:  "the CRL uses something this checker does not support (a non-HTTP URL, a delta or indirect CRL, a partial scope or an unknown critical extension), so it is not trusted",
	ReasonRevoked:      "the CRL lists the certificate as revoked",
}

// AllReasons lists every Reason in a stable order, for documentation and
// for pre-creating counter series.
func AllReasons() []Reason {
	return []Reason{
		ReasonUnreachable, ReasonTimeout, ReasonHTTPStatus, ReasonTooLarge,
		ReasonMalformed, ReasonBadSignature, ReasonStale, ReasonNoNextUpdate,
		ReasonUnsupported, ReasonRevoked,
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

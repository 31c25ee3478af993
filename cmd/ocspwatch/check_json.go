package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/httpphase"
	"github.com/ocspwatch/ocspwatch/probe"
)

// The JSON output of `ocspwatch check` is a documented contract
// (README, "check --output json"); these types pin it apart from the probe
// library's Go types, so refactoring the library cannot change it.
// Durations are seconds, instants RFC 3339, and values that do not exist
// are left out rather than zeroed.
type checkJSON struct {
	SchemaVersion  int             `json:"schema_version"`
	Target         string          `json:"target"`
	CheckedAt      time.Time       `json:"checked_at"`
	Success        bool            `json:"success"`
	ExitCode       int             `json:"exit_code"`
	Duration       float64         `json:"duration_seconds"`
	Certificate    *certJSON       `json:"certificate,omitempty"`
	NoResponderURL bool            `json:"no_responder_url"`
	Endpoints      []endpointJSON  `json:"endpoints"`
	Responders     []responderJSON `json:"responders"`
	Chain          []chainJSON     `json:"chain"`
	Failures       []problemJSON   `json:"failures"`
	// Added in schema version 1 without a bump: new fields only.
	Verdict  string               `json:"verdict"`
	Findings []verdictFindingJSON `json:"findings"`
	Notes    []verdictFindingJSON `json:"notes"`
	Error    string               `json:"error,omitempty"`
}

// verdictFindingJSON is one graded line of the verdict, or a note (no severity).
type verdictFindingJSON struct {
	Severity    string `json:"severity,omitempty"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
	Detail      string `json:"detail,omitempty"`
}

// manyJSON is the document for more than one endpoint: the worst verdict
// and one checkJSON per endpoint, in the order named.
type manyJSON struct {
	SchemaVersion int            `json:"schema_version"`
	Verdict       string         `json:"verdict"`
	ExitCode      int            `json:"exit_code"`
	Summary       map[string]int `json:"summary"`
	Results       []checkJSON    `json:"results"`
}

type certJSON struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	Serial     string    `json:"serial"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	OCSPURLs   []string  `json:"ocsp_urls"`
	CRLURLs    []string  `json:"crl_urls"`
	MustStaple bool      `json:"must_staple"`
	Posture    string    `json:"posture"`
}

type endpointJSON struct {
	Address         string             `json:"address,omitempty"`
	ServerName      string             `json:"server_name,omitempty"`
	HandshakeOK     bool               `json:"handshake_ok"`
	TLSVersion      string             `json:"tls_version,omitempty"`
	ALPN            string             `json:"alpn,omitempty"`
	Timings         map[string]float64 `json:"timings_seconds"`
	ChainVerified   bool               `json:"chain_verified"`
	ChainError      string             `json:"chain_error,omitempty"`
	ChainIncomplete bool               `json:"chain_incomplete"`
	IssuerSource    string             `json:"issuer_source,omitempty"`
	StaplePresent   bool               `json:"staple_present"`
	Staple          *responseJSON      `json:"staple,omitempty"`
	ResponderAgrees *bool              `json:"responder_agrees,omitempty"`
	Problems        []problemJSON      `json:"problems"`
}

type responseJSON struct {
	ResponseStatus            string     `json:"response_status,omitempty"`
	Valid                     bool       `json:"valid"`
	CertStatus                string     `json:"cert_status,omitempty"`
	RevokedAt                 *time.Time `json:"revoked_at,omitempty"`
	RevocationReason          string     `json:"revocation_reason,omitempty"`
	ThisUpdate                *time.Time `json:"this_update,omitempty"`
	NextUpdate                *time.Time `json:"next_update,omitempty"`
	ProducedAt                *time.Time `json:"produced_at,omitempty"`
	SecondsToNextUpdate       *float64   `json:"seconds_to_next_update,omitempty"`
	NextUpdateAfterCertExpiry bool       `json:"next_update_after_cert_expiry"`
	// Added in schema version 1 without a bump: new fields only.
	NextUpdateAfterSignerExpiry bool        `json:"next_update_after_signer_expiry"`
	Signer                      *signerJSON `json:"signer,omitempty"`
	SingleResponses             int         `json:"single_responses"`
	Detail                      string      `json:"detail,omitempty"`
}

type signerJSON struct {
	Kind     string    `json:"kind"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
	NoCheck  bool      `json:"ocsp_nocheck"`
}

type responderJSON struct {
	URL            string             `json:"url"`
	Method         string             `json:"method,omitempty"`
	Up             bool               `json:"up"`
	HTTPStatus     int                `json:"http_status,omitempty"`
	ContentType    string             `json:"content_type,omitempty"`
	ContentTypeOK  bool               `json:"content_type_ok"`
	Timings        map[string]float64 `json:"timings_seconds"`
	Cache          cacheJSON          `json:"cache"`
	ResponseStatus string             `json:"response_status,omitempty"`
	Response       *responseJSON      `json:"response,omitempty"`
	Nonce          string             `json:"nonce"`
	Problems       []problemJSON      `json:"problems"`
}

type cacheJSON struct {
	MaxAge               *float64   `json:"max_age_seconds,omitempty"`
	Expires              *time.Time `json:"expires,omitempty"`
	ETag                 string     `json:"etag,omitempty"`
	LastModified         *time.Time `json:"last_modified,omitempty"`
	MaxAgePastNextUpdate bool       `json:"max_age_past_next_update"`
}

type problemJSON struct {
	Reason      string `json:"reason"`
	Description string `json:"description"`
	Detail      string `json:"detail,omitempty"`
}

// writeJSONRuns prints one checkJSON document for one endpoint, and a
// manyJSON document for several.
func writeJSONRuns(w io.Writer, runs []checkRun, worst severity) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(runs) == 1 {
		return enc.Encode(checkDoc(runs[0]))
	}
	out := manyJSON{SchemaVersion: 1, Verdict: worst.String(), ExitCode: worst.exitCode(), Summary: map[string]int{}, Results: []checkJSON{}}
	for _, s := range []severity{sevOK, sevWarning, sevCritical, sevUnknown} {
		out.Summary[s.String()] = 0
	}
	for _, r := range runs {
		out.Summary[r.verdict.Status.String()]++
		out.Results = append(out.Results, checkDoc(r))
	}
	return enc.Encode(out)
}

func checkDoc(run checkRun) checkJSON {
	rep, v, now := run.rep, run.verdict, run.now
	out := checkJSON{
		SchemaVersion: 1, Target: run.label, CheckedAt: rep.Started.UTC(), Success: v.Status == sevOK,
		ExitCode: v.Status.exitCode(), Duration: rep.Duration.Seconds(), NoResponderURL: rep.NoResponderURL,
		Endpoints: []endpointJSON{}, Responders: []responderJSON{}, Chain: chainToJSON(rep), Failures: problemsJSON(rep.Failures),
		Verdict: v.Status.String(), Findings: []verdictFindingJSON{}, Notes: []verdictFindingJSON{}, Error: v.Cause,
	}
	for _, f := range v.Findings {
		out.Findings = append(out.Findings, verdictFindingJSON{Severity: f.Severity.String(), Reason: f.Reason, Description: f.Text, Detail: f.Detail})
	}
	for _, n := range v.Notes {
		out.Notes = append(out.Notes, verdictFindingJSON{Reason: n.Reason, Description: n.Text, Detail: n.Detail})
	}
	if c := rep.Cert; c != nil {
		out.Certificate = &certJSON{Subject: c.Subject, Issuer: c.Issuer, Serial: c.SerialNumber, NotBefore: c.NotBefore.UTC(),
			NotAfter: c.NotAfter.UTC(), OCSPURLs: nonNil(c.OCSPServers), CRLURLs: nonNil(c.CRLServers), MustStaple: c.MustStaple, Posture: string(c.Posture)}
	}
	for _, e := range rep.Endpoints {
		ej := endpointJSON{Address: e.Address, ServerName: e.ServerName, HandshakeOK: e.HandshakeOK, TLSVersion: e.TLSVersion, ALPN: e.ALPN,
			Timings:       phases(e.Timings.Phases(), 0),
			ChainVerified: e.ChainVerified, ChainError: e.ChainError, ChainIncomplete: e.ChainIncomplete, IssuerSource: e.IssuerSource,
			StaplePresent: e.StaplePresent, ResponderAgrees: e.ResponderAgrees, Problems: problemsJSON(e.Problems)}
		if e.Staple != nil {
			ej.Staple = verificationJSON(e.Staple, now)
		}
		out.Endpoints = append(out.Endpoints, ej)
	}
	for _, r := range rep.Responders {
		t := r.Timings
		rj := responderJSON{URL: r.URL, Method: r.Method, Up: r.Up, HTTPStatus: r.HTTPStatus, ContentType: r.ContentType,
			ContentTypeOK: r.ContentTypeOK, ResponseStatus: string(r.ResponseStatus), Nonce: string(r.Nonce), Problems: problemsJSON(r.Problems),
			Timings: phases(t.Phases(), t.Total),
			Cache:   cacheJSON{Expires: r.Cache.Expires, ETag: r.Cache.ETag, LastModified: r.Cache.LastModified, MaxAgePastNextUpdate: r.Cache.MaxAgePastNextUpdate}}
		if r.Cache.MaxAge != nil {
			s := r.Cache.MaxAge.Seconds()
			rj.Cache.MaxAge = &s
		}
		if r.Response != nil {
			rj.Response = verificationJSON(r.Response, now)
		}
		out.Responders = append(out.Responders, rj)
	}
	return out
}

func verificationJSON(v *probe.Verification, now time.Time) *responseJSON {
	rj := &responseJSON{ResponseStatus: string(v.ResponseStatus), Valid: v.Valid, CertStatus: string(v.CertStatus),
		RevokedAt: v.RevokedAt, RevocationReason: v.RevocationReason, NextUpdate: v.NextUpdate,
		NextUpdateAfterCertExpiry: v.NextUpdateAfterCertExpiry, NextUpdateAfterSignerExpiry: v.NextUpdateAfterSignerExpiry,
		SingleResponses: v.SingleResponses, Detail: v.Detail()}
	if !v.ThisUpdate.IsZero() {
		rj.ThisUpdate, rj.ProducedAt = &v.ThisUpdate, &v.ProducedAt
	}
	if v.NextUpdate != nil {
		s := v.NextUpdate.Sub(now).Seconds()
		rj.SecondsToNextUpdate = &s
	}
	if v.Signer != nil {
		rj.Signer = &signerJSON{Kind: string(v.Signer.Kind), Subject: v.Signer.Subject, NotAfter: v.Signer.NotAfter, NoCheck: v.Signer.NoCheck}
	}
	return rj
}

// phases keeps only the phases that happened.
// phases keys each phase that happened by its name, with the total when
// there is one.
func phases(list []httpphase.Phase, total time.Duration) map[string]float64 {
	out := map[string]float64{}
	for _, p := range list {
		out[p.Name] = p.Duration.Seconds()
	}
	if total > 0 {
		out["total"] = total.Seconds()
	}
	return out
}

func problemsJSON(ps []probe.Problem) []problemJSON {
	out := []problemJSON{}
	for _, p := range ps {
		out = append(out, problemJSON{Reason: string(p.Reason), Description: p.Reason.Describe(), Detail: p.Detail})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
)

// severity is the verdict of `check`, in the monitoring-plugins order:
// each value is its Nagios exit code.
type severity int

const (
	sevOK severity = iota
	sevWarning
	sevCritical
	sevUnknown
)

func (s severity) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// exitCode maps a verdict to the exit code of the text and JSON outputs:
// 0 OK, 1 WARNING or CRITICAL, 2 UNKNOWN (nothing could be probed).
func (s severity) exitCode() int {
	switch s {
	case sevOK:
		return exitOK
	case sevWarning, sevCritical:
		return exitProblem
	}
	return exitError
}

// worse orders verdicts as Nagios ranks states when it aggregates them:
// CRITICAL > UNKNOWN > WARNING > OK, so an endpoint that could not be
// probed never hides another one's CRITICAL.
func worse(a, b severity) severity {
	rank := func(s severity) int { return [...]int{0, 1, 3, 2}[s] }
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// reasonSeverity is the one table that grades every problem that fails a
// check: CRITICAL when clients break or the certificate is revoked,
// WARNING when the setup is degraded but clients still get an answer they
// accept. A problem the policy does not count as a failure (a staple that
// is not required, a responder that is down while the staple is fine) is
// printed as a note and does not change the verdict.
var reasonSeverity = map[probe.Reason]severity{
	probe.ReasonDNS:                        sevCritical,
	probe.ReasonConnect:                    sevCritical,
	probe.ReasonTimeout:                    sevCritical,
	probe.ReasonTLSHandshake:               sevCritical,
	probe.ReasonAddressDenied:              sevCritical,
	probe.ReasonStartTLSRefused:            sevCritical,
	probe.ReasonStartTLSFailed:             sevCritical,
	probe.ReasonIssuerMissing:              sevWarning,
	probe.ReasonStapleMissing:              sevCritical,
	probe.ReasonStapleMalformed:            sevCritical,
	probe.ReasonStapleWrongCert:            sevCritical,
	probe.ReasonStapleBadSignature:         sevCritical,
	probe.ReasonStapleUnauthorizedSigner:   sevCritical,
	probe.ReasonStapleExpired:              sevCritical,
	probe.ReasonStapleNotYetValid:          sevCritical,
	probe.ReasonStapleRevoked:              sevCritical,
	probe.ReasonStapleUnknown:              sevCritical,
	probe.ReasonMustStapleViolated:         sevCritical,
	probe.ReasonStapleCriticalExtension:    sevCritical,
	probe.ReasonStapleNoNextUpdate:         sevCritical,
	probe.ReasonStapleTooLongLived:         sevWarning,
	probe.ReasonResponderURLInvalid:        sevCritical,
	probe.ReasonResponderDNS:               sevCritical,
	probe.ReasonResponderConnect:           sevCritical,
	probe.ReasonResponderTimeout:           sevCritical,
	probe.ReasonResponderTLS:               sevCritical,
	probe.ReasonResponderRedirects:         sevCritical,
	probe.ReasonResponderHTTPStatus:        sevCritical,
	probe.ReasonResponderContentType:       sevWarning,
	probe.ReasonResponderBodyTooLarge:      sevCritical,
	probe.ReasonResponseMalformed:          sevCritical,
	probe.ReasonResponseStatus:             sevCritical,
	probe.ReasonResponseWrongCert:          sevCritical,
	probe.ReasonResponseBadSignature:       sevCritical,
	probe.ReasonResponseUnauthorizedSigner: sevCritical,
	probe.ReasonResponseExpired:            sevCritical,
	probe.ReasonResponseNotYetValid:        sevCritical,
	probe.ReasonResponseRevoked:            sevCritical,
	probe.ReasonResponseUnknown:            sevCritical,
	probe.ReasonResponseCriticalExtension:  sevCritical,
	probe.ReasonResponseNoNextUpdate:       sevCritical,
	probe.ReasonResponseTooLongLived:       sevWarning,
	probe.ReasonNonceMissing:               sevWarning,
	probe.ReasonNonceMismatch:              sevCritical,
	probe.ReasonStapleResponderDisagree:    sevCritical,
	probe.ReasonCRLUnreachable:             sevWarning,
	probe.ReasonCRLTimeout:                 sevWarning,
	probe.ReasonCRLHTTPStatus:              sevWarning,
	probe.ReasonCRLTooLarge:                sevWarning,
	probe.ReasonCRLMalformed:               sevWarning,
	probe.ReasonCRLBadSignature:            sevCritical,
	probe.ReasonCRLStale:                   sevCritical,
	probe.ReasonCRLNoNextUpdate:            sevWarning,
	probe.ReasonCRLUnsupported:             sevWarning,
	probe.ReasonCRLRevoked:                 sevCritical,
	probe.ReasonChainRevoked:               sevCritical,
	probe.ReasonCRLOCSPDisagree:            sevCritical,
	probe.ReasonNoRevocationInfo:           sevWarning,
}

// gradeOf returns a reason's severity; a reason missing from the table
// (a test keeps it complete) is CRITICAL rather than silently fine.
func gradeOf(r probe.Reason) severity {
	if s, ok := reasonSeverity[r]; ok {
		return s
	}
	return sevCritical
}

// Reasons of check's own threshold findings, in the probe's naming style.
const (
	findingStapleExpiring   = "staple_expiring"
	findingResponseExpiring = "response_expiring"
	findingCRLExpiring      = "crl_expiring"
)

// finding is one graded line of a verdict.
type finding struct {
	Severity severity
	Reason   string
	Text     string // the plain-words description
	Detail   string
}

func (f finding) String() string {
	if f.Detail == "" {
		return f.Text
	}
	return f.Text + ": " + f.Detail
}

// thresholds are the --warn and --crit times to NextUpdate.
type thresholds struct {
	warn, crit time.Duration
}

// verdict is what check concludes from one report.
type verdict struct {
	Status severity
	// Findings are WARNING or CRITICAL, each; Notes change nothing.
	Findings []finding
	Notes    []finding
	// Unreachable is set when nothing could be probed; Cause then says
	// why in one line, naming the address only when it differs from the
	// endpoint.
	Unreachable bool
	Cause       string
}

// judge is the verdict as a pure function of a report, the thresholds and
// the time: the policy's failures graded by reasonSeverity, the times to
// NextUpdate graded by the thresholds, and every other problem a note.
func judge(rep *probe.Report, label string, th thresholds, now time.Time) verdict {
	var v verdict
	if unreachable(rep) {
		v.Unreachable, v.Status, v.Cause = true, sevUnknown, unreachableCause(rep, label)
		return v
	}
	located := locatedProblems(rep)
	for _, p := range rep.Failures {
		// A failure the lists do not hold (a report built by hand) is
		// graded all the same: a failure never goes unseen.
		if !slices.ContainsFunc(located, func(l locatedProblem) bool { return l.Problem == p }) {
			located = append(located, locatedProblem{Problem: p})
		}
	}
	for _, l := range located {
		f := finding{Reason: string(l.Reason), Text: l.Reason.Describe(), Detail: l.Detail}
		switch {
		case l.where != "" && l.Detail != "":
			f.Detail = l.where + ": " + l.Detail
		case l.where != "":
			f.Detail = l.where
		}
		switch {
		case slices.Contains(rep.Failures, l.Problem):
			f.Severity = gradeOf(l.Reason)
			if !slices.Contains(v.Findings, f) {
				v.Findings = append(v.Findings, f)
			}
		case !slices.Contains(v.Notes, f):
			v.Notes = append(v.Notes, f)
		}
	}
	for _, f := range expiryFindings(rep, th, now) {
		// As in probe.Evaluate: for an endpoint, the responder's answers
		// are the responder's health, not the endpoint's verdict.
		if f.Reason == findingResponseExpiring && len(rep.Endpoints) > 0 {
			f.Severity = sevOK
			v.Notes = append(v.Notes, f)
			continue
		}
		v.Findings = append(v.Findings, f)
	}
	for _, f := range v.Findings {
		v.Status = worse(v.Status, f.Severity)
	}
	return v
}

// expiryFindings grades the time left to NextUpdate of every valid staple,
// every valid responder answer and every CRL the report holds. Answers
// that are already invalid have their own reason.
func expiryFindings(rep *probe.Report, th thresholds, now time.Time) []finding {
	var out []finding
	grade := func(reason, what string, next time.Time) {
		left := next.Sub(now)
		var s severity
		var limit, flag string
		switch {
		case left < th.crit:
			s, limit, flag = sevCritical, human.Duration(th.crit), "--crit"
		case left < th.warn:
			s, limit, flag = sevWarning, human.Duration(th.warn), "--warn"
		default:
			return
		}
		out = append(out, finding{Severity: s, Reason: reason, Text: what + " expires soon",
			Detail: fmt.Sprintf("NextUpdate %s (%s), under %s %s", stamp(next), human.Expiry(next, now), flag, limit)})
	}
	for _, e := range rep.Endpoints {
		if e.Staple != nil && e.Staple.Valid && e.Staple.NextUpdate != nil {
			grade(findingStapleExpiring, "the staple of "+e.Address, *e.Staple.NextUpdate)
		}
	}
	for _, r := range rep.Responders {
		if r.Response != nil && r.Response.Valid && r.Response.NextUpdate != nil {
			grade(findingResponseExpiring, "the answer of "+r.URL, *r.Response.NextUpdate)
		}
	}
	for _, c := range rep.Chain {
		for _, cr := range c.CRLs {
			if cr.Snapshot == nil || cr.Snapshot.CRL == nil {
				continue
			}
			if next := cr.Snapshot.CRL.Info().NextUpdate; !next.IsZero() && next.After(now) {
				grade(findingCRLExpiring, "the CRL "+cr.URL, next)
			}
		}
	}
	return out
}

// locatedProblem is a problem and, when the report has several
// addresses or responders, which one showed it.
type locatedProblem struct {
	probe.Problem
	where string
}

// locatedProblems lists every problem of a report. The probe's failures
// are drawn from these same lists, so membership in rep.Failures tells a
// failure from a note; the location keeps two addresses that fail alike
// apart.
func locatedProblems(rep *probe.Report) []locatedProblem {
	var out []locatedProblem
	for _, e := range rep.Endpoints {
		where := ""
		if len(rep.Endpoints) > 1 {
			where = e.Address
		}
		for _, p := range e.Problems {
			out = append(out, locatedProblem{p, where})
		}
	}
	for _, r := range rep.Responders {
		where := ""
		if len(rep.Responders) > 1 {
			where = r.URL
		}
		for _, p := range r.Problems {
			out = append(out, locatedProblem{p, where})
		}
	}
	for _, c := range rep.Chain {
		for _, p := range c.Problems {
			out = append(out, locatedProblem{Problem: p})
		}
	}
	return out
}

// unreachableCause is the one-line cause of an unreachable report: the
// reason, the address when it is not the endpoint itself, and the
// probe's detail.
func unreachableCause(rep *probe.Report, label string) string {
	for _, e := range rep.Endpoints {
		for _, p := range e.Problems {
			where := ""
			if e.Address != "" && e.Address != label {
				where = " " + e.Address
			}
			return oneLine(string(p.Reason) + where + ": " + p.Detail)
		}
	}
	for _, r := range rep.Responders {
		for _, p := range r.Problems {
			return oneLine(string(p.Reason) + " " + r.URL + ": " + p.Detail)
		}
	}
	return "nothing answered"
}

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
)

// writeText prints an interpreted report: what an SRE would otherwise
// piece together from `openssl s_client -status` and `openssl ocsp`.
func writeText(out io.Writer, rep *probe.Report, target string, v verdict, now time.Time) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	// Every value passes human.Safe: subjects, URLs and error details come
	// from certificates and servers, and must not move the cursor or
	// print a line of their own.
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %s\t%s\n", label, human.Safe(fmt.Sprintf(format, args...)))
	}
	fmt.Fprintf(w, "ocspwatch check %s\n", human.Safe(target))
	if c := rep.Cert; c != nil {
		line("certificate", "%s (serial %s)", c.Subject, c.SerialNumber)
		line("", "issued by %s", c.Issuer)
		line("", "valid until %s (%s)", stamp(c.NotAfter), human.Expiry(c.NotAfter, now))
		line("must-staple", "%s", yesNo(c.MustStaple))
		line("revocation", "%s", posture(c))
		if c.IgnoredURLs > 0 {
			line("", "%d more URL(s) ignored: repeated, over %d bytes, or past the first %d of a list", c.IgnoredURLs, probe.MaxURLLength, probe.MaxURLsPerCert)
		}
	}
	for _, e := range rep.Endpoints {
		fmt.Fprintln(w)
		if e.Address == "" {
			line("endpoint", "not resolved")
			writeProblems(line, e.Problems, rep.Failures)
			continue
		}
		line("address", "%s%s", e.Address, sni(e.ServerName))
		if !e.HandshakeOK {
			line("handshake", "FAILED")
			writeProblems(line, e.Problems, rep.Failures)
			continue
		}
		line("handshake", "%s%s in %s (connect %s, tls %s)", e.TLSVersion, alpnNote(e.ALPN), human.Duration(e.Timings.Total()), human.Duration(e.Timings.Connect), human.Duration(e.Timings.TLS))
		switch {
		case e.ChainVerified:
			line("chain", "verified against the trust roots")
		default:
			line("chain", "NOT verified: %s", e.ChainError)
		}
		if e.ChainIncomplete {
			line("", "incomplete: the server did not send the issuer (%s)", issuerNote(e.IssuerSource))
		}
		if !e.StaplePresent {
			line("staple", "none sent")
		} else {
			line("staple", "present, %s", validity(e.Staple))
			writeVerification(line, e.Staple, now)
		}
		if e.ResponderAgrees != nil {
			if *e.ResponderAgrees {
				line("agreement", "the responders give the same status as the staple")
			} else {
				line("agreement", "DISAGREE: the responders give a different status than the staple")
			}
		}
		writeProblems(line, e.Problems, rep.Failures)
	}
	if len(rep.Responders) == 0 && rep.NoResponderURL {
		fmt.Fprintln(w)
		line("responders", "none: the certificate names no OCSP responder")
	}
	for _, r := range rep.Responders {
		fmt.Fprintln(w)
		line("responder", "%s", r.URL)
		switch {
		case r.HTTPStatus == 0:
			line("request", "%s failed after %s", r.Method, human.Duration(r.Timings.Total))
		default:
			t := r.Timings
			line("request", "%s, HTTP %d in %s (connect %s, processing %s, transfer %s)%s", r.Method, r.HTTPStatus,
				human.Duration(t.Total), human.Duration(t.Connect), human.Duration(t.Processing), human.Duration(t.Transfer), cachedNote(r))
		}
		if r.ResponseStatus != "" {
			line("response", "%s, %s", r.ResponseStatus, validity(r.Response))
		}
		if r.Response != nil && r.ResponseStatus == probe.StatusSuccessful {
			writeVerification(line, r.Response, now)
		}
		if r.Nonce != probe.NonceNotSent {
			line("nonce", "%s", r.Nonce)
		}
		if c := cacheSummary(r.Cache); c != "" {
			line("caching", "%s", c)
		}
		writeProblems(line, r.Problems, rep.Failures)
	}
	if len(rep.Chain) > 0 {
		fmt.Fprintln(w)
		writeChainText(line, rep, now)
	}
	fmt.Fprintln(w)
	if v.Unreachable {
		fmt.Fprintf(w, "verdict: %s, %s\n", v.Status, human.Safe(v.Cause))
		return
	}
	// Only graded findings sit under the verdict; notes follow apart, so
	// nothing that reads as a problem is printed beside OK.
	fmt.Fprintf(w, "verdict: %s\n", v.Status)
	for _, f := range v.Findings {
		fmt.Fprintf(w, "  - %s\t%s\n", f.Severity, human.Safe(f.String()))
	}
	if len(v.Notes) > 0 {
		fmt.Fprintln(w, "notes:")
		for _, n := range v.Notes {
			fmt.Fprintf(w, "  - %s\n", human.Safe(n.String()))
		}
	}
}

func writeVerification(line func(string, string, ...any), v *probe.Verification, now time.Time) {
	if v.CertStatus != "" {
		status := string(v.CertStatus)
		if v.RevokedAt != nil {
			status += fmt.Sprintf(" at %s (%s)", stamp(*v.RevokedAt), v.RevocationReason)
		}
		line("status", "%s", status)
	}
	if s := v.Signer; s != nil {
		note := ""
		if s.NoCheck {
			note = ", ocsp-nocheck"
		}
		line("signer", "%s %s%s", s.Kind, s.Subject, note)
	}
	if v.ThisUpdate.IsZero() {
		return
	}
	line("this update", "%s (%s)", stamp(v.ThisUpdate), human.Until(v.ThisUpdate, now))
	if v.NextUpdate != nil {
		line("next update", "%s (%s)", stamp(*v.NextUpdate), human.Expiry(*v.NextUpdate, now))
	} else {
		line("next update", "none: RFC 5019 clients reject such a response")
	}
	line("produced at", "%s", stamp(v.ProducedAt))
	if v.NextUpdateAfterCertExpiry {
		line("", "note: NextUpdate is after the certificate expires")
	}
	if v.NextUpdateAfterSignerExpiry {
		line("", "note: NextUpdate is after the signer's certificate expires")
	}
}

// writeProblems labels a problem that fails the check "problem" and one
// the policy lets pass (a staple that is not required, a responder that
// is down while the staple is fine) "note".
func writeProblems(line func(string, string, ...any), ps, failures []probe.Problem) {
	for _, p := range ps {
		label := "note"
		if slices.Contains(failures, p) {
			label = "problem"
		}
		line(label, "%s", p)
	}
}

func validity(v *probe.Verification) string {
	switch {
	case v == nil:
		return "not checked"
	case v.Valid:
		return "valid"
	case v.Detail() != "":
		return "INVALID"
	}
	return "not checked"
}

func posture(c *probe.CertInfo) string {
	switch c.Posture {
	case probe.PostureOCSP:
		return "OCSP " + strings.Join(c.OCSPServers, ", ")
	case probe.PostureCRLOnly:
		return "CRL only (" + strings.Join(c.CRLServers, ", ") + "), no OCSP URL"
	case probe.PostureShortLived:
		return "short-lived certificate, no OCSP URL"
	}
	return "none: neither OCSP nor CRL URLs"
}

func cacheSummary(c probe.CacheInfo) string {
	var parts []string
	if c.MaxAge != nil {
		parts = append(parts, "max-age "+human.Duration(*c.MaxAge))
	}
	if c.ETag != "" {
		parts = append(parts, "ETag "+c.ETag)
	}
	if c.LastModified != nil {
		parts = append(parts, "Last-Modified "+stamp(*c.LastModified))
	}
	if c.Expires != nil {
		parts = append(parts, "Expires "+stamp(*c.Expires))
	}
	if c.MaxAgePastNextUpdate {
		parts = append(parts, "WARNING: max-age runs past NextUpdate")
	}
	return strings.Join(parts, ", ")
}

func cachedNote(r *probe.ResponderResult) string {
	if r.Cached {
		return " [cached answer]"
	}
	return ""
}

func issuerNote(source string) string {
	if source == "" {
		return "no issuer available, so the staple cannot be verified; pass --issuer-file"
	}
	return "checked with the " + source + " issuer"
}

func sni(name string) string {
	if name == "" {
		return ""
	}
	return " (SNI " + name + ")"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

func alpnNote(proto string) string {
	if proto == "" {
		return ""
	}
	return ", ALPN " + proto
}

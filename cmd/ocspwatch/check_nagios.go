package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
)

// writeNagios prints the output the monitoring-plugins guidelines
// (https://www.monitoring-plugins.org/doc/guidelines.html) ask of a
// plugin: one status line "OCSP STATUS - text | perfdata", then the long
// text, one line per finding (and per endpoint when there are several).
// The exit code is the status itself: 0 OK, 1 WARNING, 2 CRITICAL,
// 3 UNKNOWN.
func writeNagios(w io.Writer, runs []checkRun, th thresholds, worst severity) {
	var perf []string
	for _, r := range runs {
		prefix := ""
		if len(runs) > 1 {
			prefix = r.label + " "
		}
		perf = append(perf, perfData(r, prefix, th)...)
	}
	head := ""
	if len(runs) == 1 {
		head = runs[0].label + ": " + nagiosSummary(runs[0])
	} else {
		head = manySummary(runs)
	}
	line := "OCSP " + worst.String() + " - " + nagiosText(head)
	if len(perf) > 0 {
		line += " | " + strings.Join(perf, " ")
	}
	fmt.Fprintln(w, line)
	for _, r := range runs {
		indent := ""
		if len(runs) > 1 {
			fmt.Fprintf(w, "%s: %s - %s\n", nagiosText(r.label), r.verdict.Status, nagiosText(nagiosSummary(r)))
			indent = "  "
		}
		for _, f := range r.verdict.Findings {
			fmt.Fprintf(w, "%s%s: %s\n", indent, f.Severity, nagiosText(f.String()))
		}
		for _, n := range r.verdict.Notes {
			fmt.Fprintf(w, "%snote: %s\n", indent, nagiosText(n.String()))
		}
	}
}

// nagiosSummary is one endpoint's status text: the cause when it was
// unreachable, the first of the worst findings, or what was found good.
func nagiosSummary(r checkRun) string {
	v := r.verdict
	if v.Unreachable {
		return v.Cause
	}
	var top *finding
	for i, f := range v.Findings {
		if f.Severity == v.Status {
			top = &v.Findings[i]
			break
		}
	}
	if top != nil {
		text := top.String()
		if more := len(v.Findings) - 1; more > 0 {
			text += fmt.Sprintf(" (and %d more)", more)
		}
		return text
	}
	var parts []string
	for _, e := range r.rep.Endpoints {
		if e.Staple != nil && e.Staple.Valid {
			parts = append(parts, "staple "+string(e.Staple.CertStatus)+nextUpdateNote(e.Staple, r.now))
			break
		}
	}
	for _, res := range r.rep.Responders {
		if res.Response != nil && res.Response.Valid {
			parts = append(parts, "responder says "+string(res.Response.CertStatus)+nextUpdateNote(res.Response, r.now))
			break
		}
	}
	if len(parts) == 0 {
		return "no problem found"
	}
	return strings.Join(parts, ", ")
}

func nextUpdateNote(v *probe.Verification, now time.Time) string {
	if v.NextUpdate == nil {
		return ""
	}
	return ", " + human.Duration(v.NextUpdate.Sub(now)) + " to NextUpdate"
}

func manySummary(runs []checkRun) string {
	var bad []string
	for _, r := range runs {
		if r.verdict.Status != sevOK {
			bad = append(bad, r.label+" "+r.verdict.Status.String())
		}
	}
	text := verdictCounts(runs)
	if len(bad) > 0 {
		text += " (" + strings.Join(bad, ", ") + ")"
	}
	return text
}

// perfData is one endpoint's performance data. Times to NextUpdate are
// the shortest of their kind, in whole seconds, negative once past, with
// the thresholds as "alert below" ranges (guidelines §2.5: "N:" alerts
// when the value is under N). Durations are seconds with a floor of 0.
func perfData(r checkRun, prefix string, th thresholds) []string {
	var out []string
	ttl := func(name string, next *time.Time) {
		if next != nil {
			out = append(out, perfItem(prefix+name, strconv.FormatInt(int64(next.Sub(r.now)/time.Second), 10)+"s",
				thresholdBelow(th.warn), thresholdBelow(th.crit), ""))
		}
	}
	ttl("staple_ttl", shortestNextUpdate(stapleVerifications(r.rep)))
	ttl("response_ttl", shortestNextUpdate(responseVerifications(r.rep)))
	var crlNext *time.Time
	for _, c := range r.rep.Chain {
		for _, cr := range c.CRLs {
			if cr.Snapshot == nil || cr.Snapshot.CRL == nil {
				continue
			}
			if n := cr.Snapshot.CRL.Info().NextUpdate; !n.IsZero() && (crlNext == nil || n.Before(*crlNext)) {
				crlNext = &n
			}
		}
	}
	ttl("crl_ttl", crlNext)
	for _, e := range r.rep.Endpoints {
		if e.HandshakeOK {
			t := e.Timings
			out = append(out, perfItem(prefix+"handshake_time", seconds(t.Total()), "", "", "0"))
			break
		}
	}
	var slowest time.Duration
	answered := false
	for _, res := range r.rep.Responders {
		if res.HTTPStatus != 0 {
			answered, slowest = true, max(slowest, res.Timings.Total)
		}
	}
	if answered {
		out = append(out, perfItem(prefix+"responder_time", seconds(slowest), "", "", "0"))
	}
	return out
}

func stapleVerifications(rep *probe.Report) []*probe.Verification {
	var out []*probe.Verification
	for _, e := range rep.Endpoints {
		out = append(out, e.Staple)
	}
	return out
}

func responseVerifications(rep *probe.Report) []*probe.Verification {
	var out []*probe.Verification
	for _, r := range rep.Responders {
		out = append(out, r.Response)
	}
	return out
}

func shortestNextUpdate(vs []*probe.Verification) *time.Time {
	var next *time.Time
	for _, v := range vs {
		if v != nil && v.NextUpdate != nil && (next == nil || v.NextUpdate.Before(*next)) {
			next = v.NextUpdate
		}
	}
	return next
}

// perfItem formats 'label'=value;warn;crit;min with the label quoted and
// any quote in it doubled, as the guidelines say; trailing empty fields
// are dropped.
func perfItem(label, value, warn, crit, minimum string) string {
	label = strings.ReplaceAll(human.Safe(label), "'", "''")
	fields := []string{value, warn, crit, minimum}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return "'" + label + "'=" + strings.Join(fields, ";")
}

func thresholdBelow(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + ":"
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// nagiosText keeps remote text on its line and out of the perfdata: a
// '|' would start performance data, a newline a line of long text.
func nagiosText(s string) string {
	return strings.ReplaceAll(human.Safe(oneLine(s)), "|", "/")
}

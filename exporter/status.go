package exporter

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
)

// statusRow is one target on the status page.
type statusRow struct {
	Name, Verdict, Staple, NextUpdate, Latency, LastError, LastRun string
	// Responders sums up the target's responders, whose trouble does not
	// fail an endpoint target (ocsp_probe_success) but is shown here.
	Responders string
	Class      string
	urgency    int
	ttl        float64
}

// serveStatus renders every target's last verdict, most urgent first:
// failing targets, then the ones whose staple expires soonest.
func (a *Agent) serveStatus(w http.ResponseWriter, _ *http.Request) {
	now := a.opts.Now()
	cfg, _ := a.configAndHealth()
	var rows []statusRow
	snaps := a.store.snapshot()
	for _, s := range snaps {
		rows = append(rows, statusFor(s, now))
	}
	var responders []responderRow
	for _, r := range sharedResponders(reportsOf(snaps)) {
		responders = append(responders, responderStatus(r))
	}
	slices.SortStableFunc(responders, func(x, y responderRow) int { return y.urgency - x.urgency })
	slices.SortStableFunc(rows, func(x, y statusRow) int {
		if x.urgency != y.urgency {
			return y.urgency - x.urgency
		}
		if x.ttl != y.ttl {
			if x.ttl < y.ttl {
				return -1
			}
			return 1
		}
		return 0
	})
	region := ""
	if cfg != nil {
		region = cfg.Region
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = statusPage.Execute(w, struct {
		Region     string
		Now        string
		Rows       []statusRow
		Responders []responderRow
	}{region, now.UTC().Format(time.RFC3339), rows, responders})
}

// responderRow is one responder URL on the status page, as
// ocsp_responder_success reports it.
type responderRow struct {
	URL, Verdict, Problems, Latency, Class string
	Targets                                int
	urgency                                int
}

func responderStatus(r sharedResponder) responderRow {
	row := responderRow{URL: r.result.URL, Verdict: "OK", Class: "ok", Latency: "-", Targets: r.targets}
	reasons := responderReasons(r.result)
	if !r.result.Up || len(reasons) > 0 {
		row.Verdict, row.Class, row.urgency = "FAIL", "fail", 1
	}
	var names []string
	for _, reason := range reasons {
		names = append(names, string(reason))
	}
	row.Problems = strings.Join(names, ", ")
	if r.result.Timings.Total > 0 {
		row.Latency = human.Duration(r.result.Timings.Total)
	}
	return row
}

func statusFor(s snapshot, now time.Time) statusRow {
	row := statusRow{Name: s.name, Verdict: "pending", Staple: "-", NextUpdate: "-", Latency: "-", LastRun: "never", Class: "pending", ttl: math.Inf(1)}
	rep := s.last
	if rep == nil {
		return row
	}
	row.LastRun = human.Until(s.finished, now)
	if rep.Success {
		row.Verdict, row.Class = "OK", "ok"
	} else {
		row.Verdict, row.Class, row.urgency = "FAIL", "fail", 2
		row.LastError = rep.Failures[0].String()
	}
	for _, e := range rep.Endpoints {
		switch {
		case !e.HandshakeOK:
			row.Staple = "unreachable"
		case e.Staple == nil:
			row.Staple = "none"
		case e.Staple.Valid && e.Staple.CertStatus != "":
			row.Staple = "valid, " + string(e.Staple.CertStatus)
		default:
			row.Staple = "invalid"
		}
		if e.Staple != nil && e.Staple.NextUpdate != nil {
			if ttl := e.Staple.NextUpdate.Sub(now).Seconds(); ttl < row.ttl {
				row.ttl = ttl
				row.NextUpdate = human.Expiry(*e.Staple.NextUpdate, now)
			}
		}
	}
	if len(rep.Endpoints) == 0 {
		row.Staple = "(responder only)"
	}
	var slowest time.Duration
	for _, r := range rep.Responders {
		slowest = max(slowest, r.Timings.Total)
	}
	if len(rep.Responders) > 0 {
		row.Latency = human.Duration(slowest)
	} else if rep.NoResponderURL {
		row.Latency = "no OCSP URL"
	}
	row.Responders = "-"
	if len(rep.Responders) > 0 {
		failing := 0
		for _, r := range rep.Responders {
			if !r.Up || len(responderReasons(r)) > 0 {
				failing++
			}
		}
		row.Responders = "OK"
		if failing > 0 {
			row.Responders = fmt.Sprintf("%d of %d failing", failing, len(rep.Responders))
		}
	}
	if row.urgency == 0 && row.ttl < 2*3600 {
		row.urgency, row.Class = 1, "warn"
	}
	return row
}

var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>ocspwatch</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
tr.fail td:first-child{border-left:4px solid #c62828}
tr.warn td:first-child{border-left:4px solid #ef6c00}
tr.ok td:first-child{border-left:4px solid #2e7d32}
tr.pending td:first-child{border-left:4px solid #9e9e9e}
.muted{color:#666}
</style></head><body>
<h1>ocspwatch</h1>
<p class="muted">{{if .Region}}Region {{.Region}} · {{end}}{{len .Rows}} targets · rendered {{.Now}} ·
<a href="metrics">metrics</a></p>
<h2>Targets</h2>
<p class="muted">Verdict is ocsp_probe_success: is the endpoint's revocation state served correctly. A responder outage alone does not fail it; see Responders.</p>
<table>
<thead><tr><th>Target</th><th>Verdict</th><th>Staple</th><th>Time to NextUpdate</th><th>Responders</th><th>Responder latency</th><th>Last run</th><th>Last error</th><th>Probe</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.Class}}"><td>{{.Name}}</td><td>{{.Verdict}}</td><td>{{.Staple}}</td><td>{{.NextUpdate}}</td><td>{{.Responders}}</td><td>{{.Latency}}</td><td>{{.LastRun}}</td><td>{{.LastError}}</td><td><a href="probe?target={{.Name}}&amp;debug=true">debug</a></td></tr>
{{end}}</tbody></table>
<h2>Responders</h2>
<p class="muted">Verdict is ocsp_responder_success, from the most recent query of each URL.</p>
<table>
<thead><tr><th>Responder</th><th>Verdict</th><th>Problems</th><th>Latency</th><th>Targets</th></tr></thead>
<tbody>
{{range .Responders}}<tr class="{{.Class}}"><td>{{.URL}}</td><td>{{.Verdict}}</td><td>{{.Problems}}</td><td>{{.Latency}}</td><td>{{.Targets}}</td></tr>
{{end}}</tbody></table>
</body></html>
`))

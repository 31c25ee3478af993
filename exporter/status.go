package exporter

import (
	"html/template"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
)

// statusRow is one target on the status page.
type statusRow struct {
	Name, Verdict, Staple, NextUpdate, Latency, LastError, LastRun string
	Class                                                          string
	urgency                                                        int
	ttl                                                            float64
}

// serveStatus renders every target's last verdict, most urgent first:
// failing targets, then the ones whose staple expires soonest.
func (a *Agent) serveStatus(w http.ResponseWriter, _ *http.Request) {
	now := a.opts.Now()
	cfg, _ := a.configAndHealth()
	var rows []statusRow
	for _, s := range a.store.snapshot() {
		rows = append(rows, statusFor(s, now))
	}
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
		Region string
		Now    string
		Rows   []statusRow
	}{region, now.UTC().Format(time.RFC3339), rows})
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
<table>
<thead><tr><th>Target</th><th>Verdict</th><th>Staple</th><th>Time to NextUpdate</th><th>Responder latency</th><th>Last run</th><th>Last error</th><th>Probe</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.Class}}"><td>{{.Name}}</td><td>{{.Verdict}}</td><td>{{.Staple}}</td><td>{{.NextUpdate}}</td><td>{{.Latency}}</td><td>{{.LastRun}}</td><td>{{.LastError}}</td><td><a href="probe?target={{.Name}}&amp;debug=true">debug</a></td></tr>
{{end}}</tbody></table>
</body></html>
`))

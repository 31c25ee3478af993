package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ocspwatch/ocspwatch/alerts"
)

// The dashboard is generated, like the rules, from the mixin's knobs
// (alerts.MixinConfig), so its thresholds, selector and links follow
// the same settings. Render(alerts.DefaultMixinConfig()) is the
// committed ocspwatch.json.

type obj = map[string]any

var datasource = obj{"type": "prometheus", "uid": "${datasource}"}

// builder lays panels out on Grafana's 24-column grid.
type builder struct {
	cfg    alerts.MixinConfig
	panels []obj
	x, y   int
	rowH   int
}

func (b *builder) row(title string) {
	b.newLine()
	b.panels = append(b.panels, obj{"id": len(b.panels) + 1, "type": "row", "title": title, "collapsed": false,
		"gridPos": obj{"x": 0, "y": b.y, "w": 24, "h": 1}, "panels": []any{}})
	b.y++
}

func (b *builder) newLine() {
	if b.x > 0 {
		b.y += b.rowH
		b.x, b.rowH = 0, 0
	}
}

// query is one panel query; table queries are instant.
type query struct {
	expr, legend string
}

type panel struct {
	kind, title, description string
	w, h                     int
	queries                  []query
	unit                     string
	// thresholds are colour steps: the first colour applies below the
	// first value.
	colours    []string
	thresholds []float64
	links      []obj
	sortAsc    bool
	extra      obj
}

func (b *builder) add(p panel) {
	if b.x+p.w > 24 {
		b.newLine()
	}
	table := p.kind == "table"
	var targets []any
	for i, q := range p.queries {
		t := obj{"datasource": datasource, "expr": q.expr, "refId": string(rune('A' + i)), "legendFormat": q.legend}
		if table || p.kind == "stat" || p.kind == "piechart" {
			t["instant"], t["range"] = true, false
			t["format"] = "time_series"
			if table {
				t["format"] = "table"
			}
		} else {
			t["instant"], t["range"] = false, true
			t["format"] = "time_series"
		}
		targets = append(targets, t)
	}
	defaults := obj{}
	if p.unit != "" {
		defaults["unit"] = p.unit
	}
	if len(p.colours) > 0 {
		steps := []any{obj{"color": p.colours[0], "value": nil}}
		for i, v := range p.thresholds {
			steps = append(steps, obj{"color": p.colours[i+1], "value": v})
		}
		defaults["thresholds"] = obj{"mode": "absolute", "steps": steps}
		if table {
			defaults["custom"] = obj{"cellOptions": obj{"type": "color-background"}}
		}
	}
	if len(p.links) > 0 {
		defaults["links"] = p.links
	}
	out := obj{"id": len(b.panels) + 1, "type": p.kind, "title": p.title, "description": p.description, "datasource": datasource,
		"gridPos": obj{"x": b.x, "y": b.y, "w": p.w, "h": p.h}, "targets": targets,
		"fieldConfig": obj{"defaults": defaults, "overrides": []any{}}, "options": obj{}}
	switch p.kind {
	case "stat":
		out["options"] = obj{"reduceOptions": obj{"calcs": []any{"lastNotNull"}, "fields": "", "values": false},
			"colorMode": "background", "graphMode": "none", "textMode": "value"}
	case "table":
		out["options"] = obj{"showHeader": true, "cellHeight": "sm"}
		transformations := []any{obj{"id": "organize", "options": obj{"excludeByName": obj{"Time": true}}}}
		if len(p.queries) > 1 {
			transformations = append([]any{obj{"id": "merge", "options": obj{}}}, transformations...)
		}
		transformations = append(transformations, obj{"id": "sortBy", "options": obj{"sort": []any{obj{"field": "Value", "desc": !p.sortAsc}}}})
		out["transformations"] = transformations
	}
	for k, v := range p.extra {
		out[k] = v
	}
	b.panels = append(b.panels, out)
	b.x += p.w
	b.rowH = max(b.rowH, p.h)
}

// Render builds the dashboard JSON.
func Render(cfg alerts.MixinConfig) ([]byte, error) {
	b := &builder{cfg: cfg}
	sel := func(metric, matchers string) string {
		return cfg.Selector(metric + "{" + matchers + "}")
	}
	tgt := func(metric string) string { return sel(metric, `region=~"$region", target=~"$target"`) }
	tgtM := func(metric, m string) string { return sel(metric, m+`, region=~"$region", target=~"$target"`) }
	rsp := func(metric string) string { return sel(metric, `region=~"$region", responder=~"$responder"`) }
	reg := func(metric string) string { return sel(metric, `region=~"$region"`) }

	runbook := strings.TrimSuffix(cfg.RunbookURLBase, "#")
	scheme := cfg.AgentURLScheme
	targetLinks := []obj{
		{"title": "Probe ${__data.fields.target} now (debug)", "url": scheme + "://${__data.fields.instance}/probe?target=${__data.fields.target}&debug=true", "targetBlank": true},
		{"title": "Agent status page", "url": scheme + "://${__data.fields.instance}/", "targetBlank": true},
		{"title": "Runbook", "url": runbook, "targetBlank": true},
	}
	runbookLink := func(alert string) []obj {
		return []obj{{"title": "Runbook: " + alert, "url": cfg.RunbookURLBase + strings.ToLower(alert), "targetBlank": true}}
	}
	limit := func(expr string) string { return "topk($limit, " + expr + ")" }
	soonest := func(expr string) string { return "bottomk($limit, " + expr + ")" }

	b.row("Fleet overview")
	countTargets := func(expr string) string { return "count(count by (target) (" + expr + ")) or vector(0)" }
	b.add(panel{kind: "stat", title: "Targets OK", unit: "short", w: 5, h: 4, colours: []string{"blue"},
		description: "Targets whose endpoint serves its revocation state correctly (ocsp_probe_success == 1), counted once each however many regions probe them.",
		queries:     []query{{countTargets(tgt("ocsp_probe_success") + " == 1"), "__auto"}}})
	b.add(panel{kind: "stat", title: "Targets failing", unit: "short", w: 5, h: 4, colours: []string{"green", "red"}, thresholds: []float64{1},
		description: "Targets whose last run failed their policy in at least one region. A responder outage alone does not count: see Responders failing.",
		queries:     []query{{countTargets(tgt("ocsp_probe_success") + " == 0"), "__auto"}}, links: runbookLink("OCSPStapleMissing")})
	b.add(panel{kind: "stat", title: "Staple missing", unit: "short", w: 5, h: 4, colours: []string{"green", "red"}, thresholds: []float64{1},
		description: "Targets that must staple (must-staple, or require_staple = true) and serve no staple.",
		queries: []query{{countTargets(tgt("ocsp_staple_present") + " == 0 and on (region, instance, target, address) " +
			tgtM("ocsp_cert_info", `staple_required="true"`)), "__auto"}}, links: runbookLink("OCSPStapleMissing")})
	b.add(panel{kind: "stat", title: "Revoked", unit: "short", w: 4, h: 4, colours: []string{"green", "red"}, thresholds: []float64{1},
		description: "Targets whose certificate, or a certificate above it in the chain, is revoked by staple, responder or CRL, counted once each.",
		queries:     []query{{countTargets(tgtM("ocsp_staple_cert_status", `status="revoked"`) + " or " + tgtM("ocsp_response_cert_status", `status="revoked"`) + " or " + tgt("ocsp_cert_revoked") + " == 1"), "__auto"}},
		links:       runbookLink("OCSPCertificateRevoked")})
	b.add(panel{kind: "stat", title: "Responders failing", unit: "short", w: 5, h: 4, colours: []string{"green", "red"}, thresholds: []float64{1},
		description: "Responder URLs whose last query failed (ocsp_responder_success == 0) in at least one region.",
		queries:     []query{{"count(count by (responder) (" + rsp("ocsp_responder_success") + " == 0)) or vector(0)", "__auto"}},
		links:       runbookLink("OCSPResponderDownInRegion")})

	b.row("Staples")
	b.add(panel{kind: "table", title: "Time to NextUpdate", w: 12, h: 9, unit: "s", sortAsc: true,
		colours: []string{"red", "green"}, thresholds: []float64{float64(cfg.StapleExpiringSeconds)},
		description: fmt.Sprintf("Seconds until each staple's NextUpdate, the $limit soonest. Red under %ds (alert OCSPStapleExpiring); a staple past half of its own window raises OCSPStapleStale.", cfg.StapleExpiringSeconds),
		queries:     []query{{soonest("min by (region, instance, target, address) (" + tgt("ocsp_staple_next_update_timestamp_seconds") + " - time())"), ""}},
		links:       targetLinks})
	b.add(panel{kind: "timeseries", title: "Staple age", w: 12, h: 9, unit: "s",
		description: "How old each served staple is (now minus its ThisUpdate), for the $limit oldest: a saw-tooth that stops falling means the server stopped refreshing.",
		queries:     []query{{limit("max by (region, target) (time() - " + tgt("ocsp_staple_this_update_timestamp_seconds") + ")"), "{{target}} {{region}}"}}})
	b.add(panel{kind: "table", title: "Staple validity by region", w: 12, h: 8, sortAsc: true,
		colours: []string{"red", "green"}, thresholds: []float64{1},
		description: "1 if every served staple of the target verifies in the region; the $limit worst first.",
		queries:     []query{{soonest("min by (region, instance, target) (" + tgt("ocsp_staple_valid") + ")"), ""}}, links: targetLinks})
	b.add(panel{kind: "table", title: "Staple and responder agreement", w: 12, h: 8, sortAsc: true,
		colours: []string{"red", "green"}, thresholds: []float64{1},
		description: "0 where the staple's status differs from the responder's; the $limit worst first.",
		queries:     []query{{soonest("min by (region, instance, target, address) (" + tgt("ocsp_staple_responder_agree") + ")"), ""}}, links: runbookLink("OCSPStapleResponderDisagree")})

	b.row("Certificates")
	b.add(panel{kind: "table", title: "Certificates", w: 24, h: 9,
		description: "The certificate each address serves (ocsp_cert_info): serial, subject, issuer, expiry, responder; a renewal changes the serial. Bounded to $limit rows.",
		queries:     []query{{limit(tgt("ocsp_cert_info")), ""}}, links: targetLinks})
	b.add(panel{kind: "table", title: "Certificate status", w: 12, h: 8,
		description: "Each target's certificate status, by staple or responder; the $limit shown.",
		queries:     []query{{limit("max by (region, instance, target, status) (" + tgt("ocsp_staple_cert_status") + " or " + tgt("ocsp_response_cert_status") + ")"), ""}},
		links:       targetLinks})
	b.add(panel{kind: "table", title: "Revocations", w: 12, h: 8, unit: "dateTimeAsIso",
		description: "When each certificate that OCSP calls revoked was revoked, and the RFC 5280 reason when the CA gave one; the CRL row shows what CRLs list.",
		queries:     []query{{limit("1000 * max by (region, target, revocation_reason) (" + tgt("ocsp_staple_revocation_timestamp_seconds") + " or " + tgt("ocsp_response_revocation_timestamp_seconds") + ")"), ""}},
		links:       runbookLink("OCSPCertificateRevoked")})
	b.add(panel{kind: "piechart", title: "Revocation posture", w: 8, h: 8,
		description: "How the fleet's certificates can be revoked: ocsp, crl_only, none or short_lived; each target counted once.",
		queries:     []query{{"count by (posture) (count by (target, posture) (" + tgt("ocsp_cert_info") + "))", "{{posture}}"}}})

	b.row("Responders")
	b.add(panel{kind: "timeseries", title: "Responder latency by phase", w: 12, h: 8, unit: "s",
		description: "Each phase of the last query to each responder, by region: resolve, connect, tls, processing (until the first byte) and transfer.",
		queries:     []query{{"max by (responder, region, phase) (" + rsp("ocsp_responder_duration_seconds") + ")", "{{responder}} {{region}} {{phase}}"}},
		extra:       obj{"fieldConfig": obj{"defaults": obj{"unit": "s", "custom": obj{"stacking": obj{"mode": "normal", "group": "A"}, "drawStyle": "line", "fillOpacity": 20}}, "overrides": []any{}}}})
	b.add(panel{kind: "timeseries", title: "Responder p95 over 15m", w: 12, h: 8, unit: "s",
		colours: []string{"green", "red"}, thresholds: []float64{cfg.ResponderSlowSeconds},
		description: fmt.Sprintf("95th percentile of the total query time over 15 minutes. Red above %gs (alert OCSPResponderSlow).", cfg.ResponderSlowSeconds),
		queries:     []query{{"max by (responder, region) (quantile_over_time(0.95, " + rsp("ocsp_responder_request_duration_seconds") + "[15m]))", "{{responder}} {{region}}"}},
		links:       runbookLink("OCSPResponderSlow")})
	b.add(panel{kind: "state-timeline", title: "Responder success by region", w: 12, h: 8,
		colours: []string{"red", "green"}, thresholds: []float64{1},
		description: "1 while the responder's last query from the region succeeded (ocsp_responder_success): up, verified, nonce as required.",
		queries:     []query{{"max by (responder, region) (" + rsp("ocsp_responder_success") + ")", "{{responder}} {{region}}"}},
		links:       runbookLink("OCSPResponderDownInRegion")})
	b.add(panel{kind: "table", title: "Responder HTTP and OCSP status", w: 12, h: 8,
		description: "The last HTTP status and OCSP response status of each responder, and the targets that use it.",
		queries: []query{
			{"max by (responder, region) (" + rsp("ocsp_responder_http_status_code") + ")", ""},
			{"max by (responder, region, status) (" + rsp("ocsp_responder_response_status") + ")", ""},
			{"max by (responder, region) (" + rsp("ocsp_responder_targets") + ")", ""},
		}, links: runbookLink("OCSPResponderErrors")})
	b.add(panel{kind: "table", title: "Responder time to NextUpdate", w: 12, h: 8, unit: "s", sortAsc: true,
		colours: []string{"orange", "green"}, thresholds: []float64{float64(cfg.ResponderStaleSeconds)},
		description: fmt.Sprintf("Time left on the responder's freshest answers. Orange under %ds (alert OCSPResponderResponseNearlyStale, for windows of %ds or more).", cfg.ResponderStaleSeconds, cfg.ResponderLongWindowSeconds),
		queries:     []query{{"min by (responder, region) (" + rsp("ocsp_response_next_update_timestamp_seconds") + " - time())", ""}},
		links:       runbookLink("OCSPResponderResponseNearlyStale")})
	b.add(panel{kind: "table", title: "Responder failures", w: 12, h: 8,
		description: "What is wrong with each failing responder (ocsp_responder_failure_reason).",
		queries:     []query{{limit("max by (responder, region, reason) (" + rsp("ocsp_responder_failure_reason") + ") or max by (responder, region) (" + rsp("ocsp_responder_success") + " == 0)"), ""}},
		links:       runbookLink("OCSPResponderErrors")})

	b.row("CRLs")
	crl := func(metric string) string { return sel(metric, `region=~"$region"`) }
	usable := crl("ocsp_crl_up") + " * " + crl("ocsp_crl_valid")
	b.add(panel{kind: "table", title: "CRL time to NextUpdate", w: 12, h: 8, unit: "s", sortAsc: true,
		colours: []string{"orange", "green"}, thresholds: []float64{float64(cfg.CRLNextUpdateSeconds)},
		description: fmt.Sprintf("Time left on the newest copy of each CRL that the region holds, the $limit soonest; negative once past NextUpdate (then it is untrusted: OCSPCRLFailing*). Orange under %ds (alert OCSPCRLNextUpdateNear, on the newest copy of any region).", cfg.CRLNextUpdateSeconds),
		queries:     []query{{soonest("max by (url, region) (" + crl("ocsp_crl_next_update_timestamp_seconds") + " - time())"), ""}},
		links:       runbookLink("OCSPCRLNextUpdateNear")})
	b.add(panel{kind: "timeseries", title: "CRL last good copy age", w: 12, h: 8, unit: "s",
		description: "How long ago the region last downloaded each CRL or had its copy confirmed by a 304, for the $limit oldest: a saw-tooth up to [crl] refresh is normal; a line that keeps rising means downloads fail and the agents live on their last good copy.",
		queries:     []query{{limit("min by (url, region) (time() - " + crl("ocsp_crl_last_good_timestamp_seconds") + ")"), "{{url}} {{region}}"}}})
	b.add(panel{kind: "state-timeline", title: "CRL usable by region", w: 12, h: 8,
		colours: []string{"red", "green"}, thresholds: []float64{1},
		description: "1 while some agent of the region got the CRL on its last download and holds a trusted copy (ocsp_crl_up * ocsp_crl_valid): what OCSPCRLFailingEverywhere and OCSPCRLFailingInRegion alert on.",
		queries:     []query{{"max by (url, region) (" + usable + ")", "{{url}} {{region}}"}},
		links:       runbookLink("OCSPCRLFailingInRegion")})
	b.add(panel{kind: "table", title: "CRL problems", w: 12, h: 8,
		colours: []string{"green", "red"}, thresholds: []float64{1},
		description: "What is wrong with each CRL (ocsp_crl_failure_reason), problems first; reason none, at 0, where the last download worked and the copy in use is trusted. $limit rows.",
		queries:     []query{{limit("max by (url, region, reason) (" + crl("ocsp_crl_failure_reason") + `) or label_replace(0 * (max by (url, region) (` + usable + `) == 1), "reason", "none", "", "")`), ""}},
		links:       runbookLink("OCSPCRLFailingEverywhere")})
	b.add(panel{kind: "timeseries", title: "CRL fetch latency by phase", w: 12, h: 8, unit: "s",
		description: "Each phase of the last download of each CRL, by region: resolve, connect, processing (until the first byte) and transfer. Large CRLs spend their time in transfer.",
		queries:     []query{{"max by (url, region, phase) (" + crl("ocsp_crl_duration_seconds") + ")", "{{url}} {{region}} {{phase}}"}},
		extra:       obj{"fieldConfig": obj{"defaults": obj{"unit": "s", "custom": obj{"stacking": obj{"mode": "normal", "group": "A"}, "drawStyle": "line", "fillOpacity": 20}}, "overrides": []any{}}}})
	b.add(panel{kind: "timeseries", title: "CRL size", w: 12, h: 8, unit: "bytes",
		description: "DER size of the copy of each CRL in use, the $limit largest; compare with [crl] max_bytes (crl_too_large above it).",
		queries:     []query{{limit("max by (url) (" + crl("ocsp_crl_bytes") + ")"), "{{url}}"}}})
	b.add(panel{kind: "table", title: "CRL distribution points", w: 12, h: 8,
		description: "Each CRL by region: the HTTP status of its last download, the entries its copy lists, and how many targets' last run checked it. $limit rows each.",
		queries: []query{
			{limit("max by (url, region) (" + crl("ocsp_crl_http_status_code") + ")"), ""},
			{limit("max by (url, region) (" + crl("ocsp_crl_entries") + ")"), ""},
			{limit("max by (url, region) (" + crl("ocsp_crl_targets") + ")"), ""},
		}, links: runbookLink("OCSPCRLFailingInRegion")})
	b.add(panel{kind: "table", title: "CRL revocations", w: 12, h: 8, unit: "dateTimeAsIso",
		description: "Certificates a CRL lists, by target and depth of the chain (0 = the leaf, 1 its issuer), when they were revoked and the RFC 5280 reason. $limit rows.",
		queries:     []query{{limit("1000 * max by (region, target, depth, url, revocation_reason) (" + tgt("ocsp_crl_cert_revocation_timestamp_seconds") + ")"), ""}},
		links:       runbookLink("OCSPIntermediateRevoked")})
	// The leaf's staple and responder answers have series of their own;
	// ocsp_cert_revoked holds the other sources. Labelled alike, they
	// count as one set.
	revokedBySource := tgt("ocsp_cert_revoked") + " == 1" +
		` or label_replace(label_replace(` + tgtM("ocsp_staple_cert_status", `status="revoked"`) + `, "source", "staple", "", ""), "depth", "0", "", "")` +
		` or label_replace(label_replace(` + tgtM("ocsp_response_cert_status", `status="revoked"`) + `, "source", "responder", "", ""), "depth", "0", "", "")`
	b.add(panel{kind: "timeseries", title: "Revoked certificates by depth", unit: "short", w: 12, h: 8,
		description: "Targets with a revoked certificate at each depth of the chain (0 = the leaf: OCSPCertificateRevoked; above: OCSPIntermediateRevoked), by staple, responder or CRL, each target counted once.",
		queries:     []query{{"count by (depth) (count by (target, depth) (" + revokedBySource + "))", "depth {{depth}}"}},
		links:       runbookLink("OCSPIntermediateRevoked")})
	b.add(panel{kind: "table", title: "Revoked certificates by source", w: 12, h: 8,
		description: "Each revoked certificate by target, depth (0 = the leaf) and the source that says so: staple, responder or crl. $limit rows.",
		queries:     []query{{limit("max by (region, instance, target, depth, source) (" + revokedBySource + ")"), ""}},
		links:       targetLinks})

	b.row("Failures")
	b.add(panel{kind: "table", title: "Failing targets", w: 12, h: 8,
		description: "Targets failing now and why (ocsp_probe_failure_reason); $limit shown. Links probe the target with debug output.",
		queries:     []query{{limit("max by (region, instance, target, reason) (" + tgt("ocsp_probe_failure_reason") + ") or max by (region, instance, target) (" + tgt("ocsp_probe_success") + " == 0)"), ""}},
		links:       targetLinks})
	b.add(panel{kind: "timeseries", title: "Failed runs by reason", unit: "short", w: 12, h: 8,
		description: "Failed runs per second, by reason, across each region's targets. Every reason exists from the start, so the first failure shows.",
		queries:     []query{{"sum by (reason) (rate(" + reg("ocsp_probe_failures_total") + "[$__rate_interval]))", "{{reason}}"}}})

	b.row("Agent health")
	b.add(panel{kind: "table", title: "Agents", w: 12, h: 6,
		description: "Every agent: version, region and whether Prometheus scrapes it. Links open its status page.",
		queries: []query{
			{"max by (instance, region, version, revision, goversion) (" + cfg.Selector("ocspwatch_build_info") + ")", ""},
			{"max by (instance) (up{" + cfg.AgentSelector + "})", ""},
		}, links: []obj{{"title": "Agent status page", "url": scheme + "://${__data.fields.instance}/", "targetBlank": true}}})
	b.add(panel{kind: "timeseries", title: "Config reloads", unit: "short", w: 6, h: 6,
		description: "Whether the last reload succeeded, and reloads by result.",
		queries: []query{
			{"min by (instance) (" + cfg.Selector("ocspwatch_config_last_reload_successful") + ")", "{{instance}} last ok"},
			{"sum by (instance, result) (increase(" + cfg.Selector("ocspwatch_config_reloads_total") + "[$__rate_interval]))", "{{instance}} {{result}}"},
		}})
	b.add(panel{kind: "timeseries", title: "Skipped runs", unit: "short", w: 6, h: 6,
		description: "Runs skipped because the previous run of the same target was still going.",
		queries:     []query{{"sum by (instance) (rate(" + reg("ocspwatch_probe_runs_skipped_total") + "[$__rate_interval]))", "{{instance}}"}}})

	variable := func(name, label, query string) obj {
		return obj{"name": name, "label": label, "type": "query", "datasource": datasource,
			"query": obj{"query": query, "refId": name}, "definition": query, "refresh": 2,
			"includeAll": true, "multi": true, "allValue": ".*",
			"current": obj{"selected": true, "text": []any{"All"}, "value": []any{"$__all"}}, "sort": 1}
	}
	links := []obj{{"title": "Runbook", "type": "link", "url": runbook, "targetBlank": true}}
	if cfg.DashboardURL != "" {
		links = append(links, obj{"title": "This dashboard", "type": "link", "url": cfg.DashboardURL})
	}
	limitOptions := []any{}
	for _, o := range []struct{ text, value string }{{fmt.Sprint(cfg.DashboardTopK), fmt.Sprint(cfg.DashboardTopK)}, {"100", "100"}, {"show all", "1000000"}} {
		limitOptions = append(limitOptions, obj{"text": o.text, "value": o.value, "selected": o.value == fmt.Sprint(cfg.DashboardTopK)})
	}
	d := obj{
		"uid": "ocspwatch", "title": "ocspwatch: OCSP stapling and responders", "tags": []any{"ocsp", "tls", "ocspwatch"},
		"description": "Staples, certificates, OCSP responders and CRLs as seen by every ocspwatch agent, by region. Generated by go run ./alerts/gen.",
		"editable":    true, "schemaVersion": 39, "version": 1, "timezone": "utc", "refresh": "1m",
		"time": obj{"from": "now-6h", "to": "now"}, "graphTooltip": 1,
		"annotations": obj{"list": []any{
			obj{"name": "Annotations & Alerts", "builtIn": 1, "datasource": obj{"type": "grafana", "uid": "-- Grafana --"},
				"enable": true, "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "type": "dashboard"},
			obj{"name": "ocspwatch alerts", "datasource": datasource, "enable": true, "iconColor": "red",
				"expr": `ALERTS{alertstate="firing", alertname=~"OCSP.*", region=~"$region"}`,
				"step": "1m", "titleFormat": "{{alertname}}", "textFormat": "{{target}}{{responder}} {{region}}",
				"tagKeys": "severity,scope", "useValueForTime": false},
		}},
		"links":  links,
		"panels": b.panels,
		"templating": obj{"list": []any{
			obj{"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "current": obj{}, "hide": 0},
			variable("region", "Region", "label_values("+cfg.Selector("ocsp_target_info")+", region)"),
			variable("target", "Target", "label_values("+sel("ocsp_target_info", `region=~"$region"`)+", target)"),
			variable("responder", "Responder", "label_values("+sel("ocsp_responder_up", `region=~"$region"`)+", responder)"),
			obj{"name": "limit", "label": "Rows per table", "type": "custom", "description": "topk bound of every table; pick show all explicitly.",
				"query":   fmt.Sprintf("%d,100,show all : 1000000", cfg.DashboardTopK),
				"current": obj{"selected": true, "text": fmt.Sprint(cfg.DashboardTopK), "value": fmt.Sprint(cfg.DashboardTopK)},
				"options": limitOptions, "hide": 0},
		}},
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

package exporter

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// metricDef is one exported metric. This table is the single source for
// the collector and for the test that keeps the README's metrics table in
// step with the code.
type metricDef struct {
	Name   string
	Help   string
	Type   prometheus.ValueType
	Labels []string
}

const cachedNote = " Cached result of the last scheduled probe."

var (
	lTarget    = []string{"target"}
	lAddress   = []string{"target", "address"}
	lTargetRsp = []string{"target", "responder"}
	lResponder = []string{"responder"}

	// Target series: one per target. With label_mode = "all" the
	// target's custom labels are appended to every metric marked perTarget.
	mTargetInfo    = metricDef{"ocsp_target_info", "The target's settings and custom labels; always 1. Join with group_left to add custom labels to other series.", prometheus.GaugeValue, []string{"target", "endpoint", "server_name"}}
	mProbeSuccess  = metricDef{"ocsp_probe_success", "1 if the endpoint's revocation state is served correctly under the target's policy, 0 if not. A responder outage alone does not fail an endpoint target (see ocsp_responder_success)." + cachedNote, prometheus.GaugeValue, lTarget}
	mProbeLastRun  = metricDef{"ocsp_probe_last_run_timestamp_seconds", "When the last run finished.", prometheus.GaugeValue, lTarget}
	mProbesTotal   = metricDef{"ocsp_probes_total", "Runs of the target, by result; both results exist from the start.", prometheus.CounterValue, []string{"target", "result"}}
	mFailureReason = metricDef{"ocsp_probe_failure_reason", "1 for each reason that failed the last run; absent while the target passes. Reasons are a closed set (README)." + cachedNote, prometheus.GaugeValue, []string{"target", "reason"}}
	mFailuresTotal = metricDef{"ocsp_probe_failures_total", "Failed runs of all targets by reason; a run counts each reason once. Every reason exists from the start.", prometheus.CounterValue, []string{"reason"}}
	mSkippedTotal  = metricDef{"ocspwatch_probe_runs_skipped_total", "Scheduled runs skipped because the previous run of the same target was still going.", prometheus.CounterValue, nil}

	// Address series: one set per address handshaken with.
	mCertInfo       = metricDef{"ocsp_cert_info", "The certificate served at the address (or read from cert_file); always 1. serial and fingerprint_sha256 change on renewal; responder is the first OCSP URL queried for it; chain_verified says whether the served chain verified against the trust roots (true, false, or skipped under insecure_skip_verify); tls_version and tls_cipher are what the handshake negotiated (crypto/tls names, a closed set; empty for cert_file); alpn is the application protocol the server chose among those offered, empty when none." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "serial", "subject", "issuer", "not_after", "fingerprint_sha256", "responder", "must_staple", "staple_required", "posture", "chain_verified", "tls_version", "tls_cipher", "alpn"}}
	mTLSUp          = metricDef{"ocsp_tls_up", "1 if the TLS handshake with the address completed." + cachedNote, prometheus.GaugeValue, lAddress}
	mTLSDuration    = metricDef{"ocsp_tls_duration_seconds", "How long resolving, connecting and the TLS handshake took together." + cachedNote, prometheus.GaugeValue, lAddress}
	mStaplePresent  = metricDef{"ocsp_staple_present", "1 if the server stapled an OCSP response." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleValid    = metricDef{"ocsp_staple_valid", "1 if the staple's signature, certificate and time window check out; absent without a staple." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleStatus   = metricDef{"ocsp_staple_cert_status", "The staple's certificate status (good, revoked or unknown) as a label; always 1." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "status"}}
	mStapleThis     = metricDef{"ocsp_staple_this_update_timestamp_seconds", "The staple's ThisUpdate." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleNext     = metricDef{"ocsp_staple_next_update_timestamp_seconds", "The staple's NextUpdate; subtract time() for the time left." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleRevoked  = metricDef{"ocsp_staple_revocation_timestamp_seconds", "When the staple says the certificate was revoked, with the RFC 5280 reason when given; absent unless revoked." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "revocation_reason"}}
	mStapleAgree    = metricDef{"ocsp_staple_responder_agree", "1 if the staple's status equals every responder's current answer, 0 if any differs." + cachedNote, prometheus.GaugeValue, lAddress}
	mRespCertStatus = metricDef{"ocsp_response_cert_status", "The responder's certificate status (good, revoked or unknown) as a label; always 1." + cachedNote, prometheus.GaugeValue, []string{"target", "responder", "status"}}
	mRespNext       = metricDef{"ocsp_response_next_update_timestamp_seconds", "NextUpdate of the responder's answer about the target's certificate." + cachedNote, prometheus.GaugeValue, lTargetRsp}
	mRespRevoked    = metricDef{"ocsp_response_revocation_timestamp_seconds", "When the responder says the certificate was revoked, with the RFC 5280 reason when given; absent unless revoked." + cachedNote, prometheus.GaugeValue, []string{"target", "responder", "revocation_reason"}}

	// Responder series: one set per responder URL, however many targets
	// share it, from the most recent query of that URL.
	mRespUp         = metricDef{"ocsp_responder_up", "1 if the URL answered with a successful, well-formed OCSP response, whether or not it verifies." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespSuccess    = metricDef{"ocsp_responder_success", "1 if the last query had no problem of the responder's own: up, verified, nonce as required. A revoked or unknown answer is the certificate's state, not a responder failure." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespFailure    = metricDef{"ocsp_responder_failure_reason", "1 for each problem of the responder's last query; absent while it succeeds." + cachedNote, prometheus.GaugeValue, []string{"responder", "reason"}}
	mRespHTTP       = metricDef{"ocsp_responder_http_status_code", "HTTP status code of the last query." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespPhase      = metricDef{"ocsp_responder_duration_seconds", "Phases of the last query: resolve, connect, tls, processing, transfer." + cachedNote, prometheus.GaugeValue, []string{"responder", "phase"}}
	mRespTotal      = metricDef{"ocsp_responder_request_duration_seconds", "Total duration of the last query." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespStatus     = metricDef{"ocsp_responder_response_status", "OCSP response status of the last query (successful, malformedRequest, internalError, tryLater, sigRequired, unauthorized) as a label; always 1." + cachedNote, prometheus.GaugeValue, []string{"responder", "status"}}
	mRespLastQuery  = metricDef{"ocsp_responder_last_query_timestamp_seconds", "When the answer these responder series describe was fetched.", prometheus.GaugeValue, lResponder}
	mRespMaxAge     = metricDef{"ocsp_response_cache_max_age_seconds", "Cache-Control max-age the responder sent, when it sent one." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespMaxAgePast = metricDef{"ocsp_response_cache_max_age_past_next_update", "1 if max-age lets caches serve the answer after its NextUpdate (RFC 5019 §6.2)." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespWindow     = metricDef{"ocsp_responder_response_validity_seconds", "NextUpdate minus ThisUpdate of the responder's last answer: the validity window it signs." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespNonce      = metricDef{"ocsp_responder_nonce_echoed", "1 if the responder echoed the nonce, 0 if not; absent when no nonce was sent." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespTargets    = metricDef{"ocsp_responder_targets", "How many targets' last run queried the URL.", prometheus.GaugeValue, lResponder}

	mBuildInfo    = metricDef{"ocspwatch_build_info", "Build information; always 1.", prometheus.GaugeValue, []string{"version", "revision", "goversion"}}
	mReloadOK     = metricDef{"ocspwatch_config_last_reload_successful", "1 if the last configuration load succeeded.", prometheus.GaugeValue, nil}
	mReloadTime   = metricDef{"ocspwatch_config_last_reload_success_timestamp_seconds", "When the configuration was last loaded successfully.", prometheus.GaugeValue, nil}
	mReloadsTotal = metricDef{"ocspwatch_config_reloads_total", "Configuration loads by result.", prometheus.CounterValue, []string{"result"}}
	mTargets      = metricDef{"ocspwatch_targets", "Configured targets this agent runs (its shard's, when sharded).", prometheus.GaugeValue, nil}
	mRunsQueued   = metricDef{"ocspwatch_probe_runs_queued", "Runs due but waiting for one of the max_concurrent_probes workers; a backlog that stays up means the agent cannot keep its targets' schedules.", prometheus.GaugeValue, nil}
	mShard        = metricDef{"ocspwatch_shard_info", "The part of the fleet this agent runs: shard i of count; always 1.", prometheus.GaugeValue, []string{"shard", "count"}}
	mDroppedTotal = metricDef{"ocspwatch_scrape_targets_dropped_total", "Times a target's or responder's series were left out of a scrape because they could not be exported consistently; the log says why.", prometheus.CounterValue, nil}
)

// allMetrics lists every metric the agent exports.
var allMetrics = []metricDef{
	mTargetInfo, mProbeSuccess, mProbeLastRun, mProbesTotal, mFailureReason, mFailuresTotal, mSkippedTotal,
	mCertInfo, mTLSUp, mTLSDuration,
	mStaplePresent, mStapleValid, mStapleStatus, mStapleThis, mStapleNext, mStapleRevoked, mStapleAgree,
	mRespCertStatus, mRespNext, mRespRevoked,
	mRespUp, mRespSuccess, mRespFailure, mRespHTTP, mRespPhase, mRespTotal, mRespStatus, mRespLastQuery,
	mRespWindow, mRespMaxAge, mRespMaxAgePast, mRespNonce, mRespTargets,
	mBuildInfo, mReloadOK, mReloadTime, mReloadsTotal, mTargets, mRunsQueued, mShard, mDroppedTotal,
}

// MetricNames lists every exported metric name, for documentation tests.
func MetricNames() []string {
	var names []string
	for _, m := range slices.Concat(allMetrics, crlMetrics) {
		names = append(names, m.Name)
	}
	return names
}

package exporter

import "github.com/prometheus/client_golang/prometheus"

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
	lTarget          = []string{"target"}
	lAddress         = []string{"target", "address"}
	lResponder       = []string{"target", "responder"}
	mProbeSuccess    = metricDef{"ocsp_probe_success", "1 if the last run met the target's policy, 0 if not." + cachedNote, prometheus.GaugeValue, lTarget}
	mProbeDuration   = metricDef{"ocsp_probe_duration_seconds", "How long the last run took: handshakes and responder queries." + cachedNote, prometheus.GaugeValue, lTarget}
	mProbeLastRun    = metricDef{"ocsp_probe_last_run_timestamp_seconds", "When the last run finished.", prometheus.GaugeValue, lTarget}
	mProbesTotal     = metricDef{"ocsp_probes_total", "Runs of the target, by result.", prometheus.CounterValue, []string{"target", "result"}}
	mFailuresTotal   = metricDef{"ocsp_probe_failures_total", "Failed runs by reason; a run counts each reason once. Reasons are a closed set (README).", prometheus.CounterValue, []string{"target", "reason"}}
	mSkippedTotal    = metricDef{"ocspwatch_probe_runs_skipped_total", "Scheduled runs skipped because the previous run of the target was still going.", prometheus.CounterValue, lTarget}
	mTLSUp           = metricDef{"ocsp_tls_up", "1 if the TLS handshake with the address completed." + cachedNote, prometheus.GaugeValue, lAddress}
	mTLSDuration     = metricDef{"ocsp_tls_duration_seconds", "Phases of the last handshake: resolve, connect, tls." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "phase"}}
	mTLSVersion      = metricDef{"ocsp_tls_version_info", "The TLS version negotiated, as a label; always 1." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "version"}}
	mChainVerified   = metricDef{"ocsp_chain_verified", "1 if the served chain verified against the trust roots." + cachedNote, prometheus.GaugeValue, lAddress}
	mChainIncomplete = metricDef{"ocsp_chain_incomplete", "1 if the server did not send the leaf's issuer." + cachedNote, prometheus.GaugeValue, lAddress}
	mCertNotAfter    = metricDef{"ocsp_cert_not_after_timestamp_seconds", "The leaf certificate's NotAfter." + cachedNote, prometheus.GaugeValue, lAddress}
	mCertMustStaple  = metricDef{"ocsp_cert_must_staple", "1 if the leaf carries the TLS Feature status_request (must-staple)." + cachedNote, prometheus.GaugeValue, lAddress}
	mCertURLs        = metricDef{"ocsp_cert_responder_urls", "How many AIA OCSP URLs the leaf names." + cachedNote, prometheus.GaugeValue, lAddress}
	mCertPosture     = metricDef{"ocsp_cert_revocation_posture", "How the leaf can be revoked: ocsp, crl_only, none or short_lived; 1 for the current posture." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "posture"}}
	mStapleRequired  = metricDef{"ocsp_staple_required", "1 if the target's policy requires a staple from this address (require_staple, or auto with a must-staple leaf)." + cachedNote, prometheus.GaugeValue, lAddress}
	mStaplePresent   = metricDef{"ocsp_staple_present", "1 if the server stapled an OCSP response." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleValid     = metricDef{"ocsp_staple_valid", "1 if the staple's signature, certificate and time window check out; absent without a staple." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleStatus    = metricDef{"ocsp_staple_cert_status", "The staple's certificate status: 1 for the current of good, revoked, unknown." + cachedNote, prometheus.GaugeValue, []string{"target", "address", "status"}}
	mStapleThis      = metricDef{"ocsp_staple_this_update_timestamp_seconds", "The staple's ThisUpdate." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleNext      = metricDef{"ocsp_staple_next_update_timestamp_seconds", "The staple's NextUpdate." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleProduced  = metricDef{"ocsp_staple_produced_at_timestamp_seconds", "The staple's ProducedAt." + cachedNote, prometheus.GaugeValue, lAddress}
	mStapleTTL       = metricDef{"ocsp_staple_time_to_next_update_seconds", "NextUpdate minus now, computed at scrape time; negative once expired.", prometheus.GaugeValue, lAddress}
	mStapleAgree     = metricDef{"ocsp_staple_responder_agree", "1 if the staple's status equals every responder's current answer, 0 if any differs." + cachedNote, prometheus.GaugeValue, lAddress}
	mRespUp          = metricDef{"ocsp_responder_up", "1 if the URL answered with a successful, well-formed OCSP response, whether or not it verifies (see ocsp_response_valid)." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespHTTP        = metricDef{"ocsp_responder_http_status_code", "HTTP status code of the last query." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespPhase       = metricDef{"ocsp_responder_duration_seconds", "Phases of the last query: resolve, connect, tls, processing, transfer." + cachedNote, prometheus.GaugeValue, []string{"target", "responder", "phase"}}
	mRespTotal       = metricDef{"ocsp_responder_request_duration_seconds", "Total duration of the last query." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespStatus      = metricDef{"ocsp_responder_response_status", "OCSP response status of the last query: 1 for the current of successful, malformedRequest, internalError, tryLater, sigRequired, unauthorized." + cachedNote, prometheus.GaugeValue, []string{"target", "responder", "status"}}
	mRespValid       = metricDef{"ocsp_response_valid", "1 if the responder's answer checks out: signature, certificate and time window." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespCertStatus  = metricDef{"ocsp_response_cert_status", "The responder's certificate status: 1 for the current of good, revoked, unknown." + cachedNote, prometheus.GaugeValue, []string{"target", "responder", "status"}}
	mRespThis        = metricDef{"ocsp_response_this_update_timestamp_seconds", "The responder's ThisUpdate." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespNext        = metricDef{"ocsp_response_next_update_timestamp_seconds", "The responder's NextUpdate." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespProduced    = metricDef{"ocsp_response_produced_at_timestamp_seconds", "The responder's ProducedAt." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespTTL         = metricDef{"ocsp_response_time_to_next_update_seconds", "The responder's NextUpdate minus now, computed at scrape time.", prometheus.GaugeValue, lResponder}
	mRespMaxAge      = metricDef{"ocsp_response_cache_max_age_seconds", "Cache-Control max-age the responder sent, when it sent one." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespMaxAgePast  = metricDef{"ocsp_response_cache_max_age_past_next_update", "1 if max-age lets caches serve the answer after its NextUpdate (RFC 5019 §6.2)." + cachedNote, prometheus.GaugeValue, lResponder}
	mRespNonce       = metricDef{"ocsp_responder_nonce_echoed", "1 if the responder echoed the nonce, 0 if not; absent when no nonce was sent." + cachedNote, prometheus.GaugeValue, lResponder}
	mBuildInfo       = metricDef{"ocspwatch_build_info", "Build information; always 1.", prometheus.GaugeValue, []string{"version", "revision", "goversion"}}
	mReloadOK        = metricDef{"ocspwatch_config_last_reload_successful", "1 if the last configuration load succeeded.", prometheus.GaugeValue, nil}
	mReloadTime      = metricDef{"ocspwatch_config_last_reload_success_timestamp_seconds", "When the configuration was last loaded successfully.", prometheus.GaugeValue, nil}
	mReloadsTotal    = metricDef{"ocspwatch_config_reloads_total", "Configuration loads by result.", prometheus.CounterValue, []string{"result"}}
	mTargets         = metricDef{"ocspwatch_targets", "Configured targets.", prometheus.GaugeValue, nil}
	mDroppedTotal    = metricDef{"ocspwatch_scrape_targets_dropped_total", "Times a target's series were left out of a scrape because they could not be exported consistently; the log says why.", prometheus.CounterValue, nil}
)

// allMetrics lists every metric the agent exports.
var allMetrics = []metricDef{
	mProbeSuccess, mProbeDuration, mProbeLastRun, mProbesTotal, mFailuresTotal, mSkippedTotal,
	mTLSUp, mTLSDuration, mTLSVersion, mChainVerified, mChainIncomplete,
	mCertNotAfter, mCertMustStaple, mCertURLs, mCertPosture,
	mStapleRequired, mStaplePresent, mStapleValid, mStapleStatus, mStapleThis, mStapleNext, mStapleProduced, mStapleTTL, mStapleAgree,
	mRespUp, mRespHTTP, mRespPhase, mRespTotal, mRespStatus, mRespValid, mRespCertStatus,
	mRespThis, mRespNext, mRespProduced, mRespTTL, mRespMaxAge, mRespMaxAgePast, mRespNonce,
	mBuildInfo, mReloadOK, mReloadTime, mReloadsTotal, mTargets, mDroppedTotal,
}

// MetricNames lists every exported metric name, for documentation tests.
func MetricNames() []string {
	names := make([]string, len(allMetrics))
	for i, m := range allMetrics {
		names[i] = m.Name
	}
	return names
}

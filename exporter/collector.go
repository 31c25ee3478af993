package exporter

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/ocspwatch/ocspwatch/probe"
)

// collector turns the stored results into metrics at scrape time, so no
// registry is rebuilt per probe and time-to-NextUpdate is exact whenever
// Prometheus looks.
//
// It is an unchecked collector (Describe sends nothing) because the
// region const label comes from the configuration and may change on reload.
type collector struct {
	store *store
	now   func() time.Time
	// agent is nil for the one-target registries that /probe builds,
	// which take their region label from region instead.
	agent  *Agent
	region string
	logger *slog.Logger
	// dropped counts targets left out of a scrape because their series
	// could not be exported consistently.
	dropped atomic.Int64
}

func (c *collector) Describe(chan<- *prometheus.Desc) {}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := &emitter{ch: ch, region: c.region, descs: map[string]*prometheus.Desc{}, live: c.agent == nil, seen: map[string]struct{}{}}
	now := c.now()
	if c.agent != nil {
		cfg, health := c.agent.configAndHealth()
		if cfg != nil {
			e.region = cfg.Region
		}
		e.group("", func() {
			if cfg != nil {
				e.emit(mTargets, float64(len(cfg.Targets)))
			}
			e.emit(mBuildInfo, 1, version.Version, version.Revision, runtime.Version())
			e.emit(mReloadOK, boolValue(health.lastOK))
			if !health.lastSuccess.IsZero() {
				e.emit(mReloadTime, unix(health.lastSuccess))
			}
			e.emit(mReloadsTotal, health.successes, "success")
			e.emit(mReloadsTotal, health.failures, "failure")
		})
	}
	for _, s := range c.store.snapshot() {
		if err := e.group(s.name, func() { e.target(s, now) }); err != nil {
			c.dropped.Add(1)
			if c.logger != nil {
				c.logger.Error("target left out of the scrape", "target", s.name, "err", err)
			}
		}
	}
	if c.agent != nil {
		e.group("", func() { e.emit(mDroppedTotal, float64(c.dropped.Load())) })
	}
}

// emitter builds one scrape. Metrics are gathered per group (the agent's
// own, then one target at a time) and sent only when the whole group came
// out consistent, so one target's bad data drops that target's series
// and never fails the scrape for every other target.
type emitter struct {
	ch     chan<- prometheus.Metric
	region string
	descs  map[string]*prometheus.Desc
	// live marks a one-off /probe run, whose values are not cached.
	live bool

	pending []prometheus.Metric
	seen    map[string]struct{}
	err     error
}

// group runs fill and sends what it emitted, or nothing when it failed,
// including by panicking.
func (e *emitter) group(name string, fill func()) (err error) {
	e.pending, e.err = e.pending[:0], nil
	clear(e.seen)
	func() {
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("collecting %q: %v", name, r)
			}
		}()
		fill()
	}()
	if e.err != nil {
		return e.err
	}
	for _, m := range e.pending {
		e.ch <- m
	}
	return nil
}

func (e *emitter) emit(m metricDef, value float64, labels ...string) {
	if e.err != nil {
		return
	}
	d, ok := e.descs[m.Name]
	if !ok {
		var constLabels prometheus.Labels
		if e.region != "" {
			constLabels = prometheus.Labels{"region": e.region}
		}
		help := m.Help
		if e.live {
			help = strings.TrimSuffix(help, cachedNote)
		}
		d = prometheus.NewDesc(m.Name, help, m.Labels, constLabels)
		e.descs[m.Name] = d
	}
	for i, v := range labels {
		labels[i] = labelValue(v)
	}
	key := m.Name + "\xff" + strings.Join(labels, "\xff")
	if _, dup := e.seen[key]; dup {
		e.err = fmt.Errorf("%s: the series %q is emitted twice", m.Name, labels)
		return
	}
	e.seen[key] = struct{}{}
	metric, err := prometheus.NewConstMetric(d, m.Type, value, labels...)
	if err != nil {
		e.err = err
		return
	}
	e.pending = append(e.pending, metric)
}

func (e *emitter) target(s snapshot, now time.Time) {
	name := s.name
	e.emit(mProbesTotal, s.success, name, "success")
	e.emit(mProbesTotal, s.failure, name, "failure")
	for reason, n := range s.reasons {
		e.emit(mFailuresTotal, n, name, string(reason))
	}
	e.emit(mSkippedTotal, s.skipped, name)
	rep := s.last
	if rep == nil {
		return
	}
	e.emit(mProbeSuccess, boolValue(rep.Success), name)
	e.emit(mProbeDuration, rep.Duration.Seconds(), name)
	e.emit(mProbeLastRun, unix(s.finished), name)
	require := probe.StapleRequirement(s.target.RequireStaple)
	for _, ep := range rep.Endpoints {
		e.endpoint(name, ep, require, now)
	}
	for _, r := range rep.Responders {
		e.responder(name, r, now)
	}
}

func (e *emitter) endpoint(name string, ep *probe.StapleResult, require probe.StapleRequirement, now time.Time) {
	if ep.Address == "" {
		return // never resolved: the failure counter says why
	}
	addr := ep.Address
	e.emit(mTLSUp, boolValue(ep.HandshakeOK), name, addr)
	for _, p := range ep.Timings.Phases() {
		e.emit(mTLSDuration, p.Duration.Seconds(), name, addr, p.Name)
	}
	if !ep.HandshakeOK || ep.Cert == nil {
		return
	}
	e.emit(mTLSVersion, 1, name, addr, ep.TLSVersion)
	e.emit(mChainVerified, boolValue(ep.ChainVerified), name, addr)
	e.emit(mChainIncomplete, boolValue(ep.ChainIncomplete), name, addr)
	e.emit(mCertNotAfter, unix(ep.Cert.NotAfter), name, addr)
	e.emit(mCertMustStaple, boolValue(ep.Cert.MustStaple), name, addr)
	e.emit(mCertURLs, float64(len(ep.Cert.OCSPServers)), name, addr)
	for _, p := range probe.AllPostures() {
		e.emit(mCertPosture, boolValue(p == ep.Cert.Posture), name, addr, string(p))
	}
	e.emit(mStapleRequired, boolValue(require.Requires(ep.Cert.MustStaple)), name, addr)
	e.emit(mStaplePresent, boolValue(ep.StaplePresent), name, addr)
	if ep.Staple == nil {
		return
	}
	e.verification(stapleMetrics, ep.Staple, now, name, addr)
	if ep.ResponderAgrees != nil {
		e.emit(mStapleAgree, boolValue(*ep.ResponderAgrees), name, addr)
	}
}

func (e *emitter) responder(name string, r *probe.ResponderResult, now time.Time) {
	url := r.URL
	e.emit(mRespUp, boolValue(r.Up), name, url)
	if r.HTTPStatus != 0 {
		e.emit(mRespHTTP, float64(r.HTTPStatus), name, url)
	}
	t := r.Timings
	for _, p := range t.Phases() {
		e.emit(mRespPhase, p.Duration.Seconds(), name, url, p.Name)
	}
	if t.Total > 0 {
		e.emit(mRespTotal, t.Total.Seconds(), name, url)
	}
	if r.ResponseStatus != "" {
		for _, st := range probe.AllResponseStatuses() {
			e.emit(mRespStatus, boolValue(st == r.ResponseStatus), name, url, string(st))
		}
	}
	if r.Cache.MaxAge != nil {
		e.emit(mRespMaxAge, r.Cache.MaxAge.Seconds(), name, url)
		if r.Response != nil && r.Response.NextUpdate != nil {
			e.emit(mRespMaxAgePast, boolValue(r.Cache.MaxAgePastNextUpdate), name, url)
		}
	}
	switch r.Nonce {
	case probe.NonceEchoed:
		e.emit(mRespNonce, 1, name, url)
	case probe.NonceMissing, probe.NonceMismatch:
		e.emit(mRespNonce, 0, name, url)
	}
	if r.Response != nil && r.ResponseStatus == probe.StatusSuccessful {
		e.verification(responseMetrics, r.Response, now, name, url)
	}
}

// verificationMetrics names the series of one verified OCSP response,
// stapled or fetched; the two sets differ only in name and labels.
type verificationMetrics struct {
	valid, status, thisUpdate, producedAt, nextUpdate, ttl metricDef
}

var (
	stapleMetrics   = verificationMetrics{mStapleValid, mStapleStatus, mStapleThis, mStapleProduced, mStapleNext, mStapleTTL}
	responseMetrics = verificationMetrics{mRespValid, mRespCertStatus, mRespThis, mRespProduced, mRespNext, mRespTTL}
)

func (e *emitter) verification(m verificationMetrics, v *probe.Verification, now time.Time, labels ...string) {
	e.emit(m.valid, boolValue(v.Valid), labels...)
	if v.CertStatus != "" {
		for _, st := range probe.AllCertStatuses() {
			e.emit(m.status, boolValue(st == v.CertStatus), append(labels[:len(labels):len(labels)], string(st))...)
		}
	}
	if !v.ThisUpdate.IsZero() {
		e.emit(m.thisUpdate, unix(v.ThisUpdate), labels...)
		e.emit(m.producedAt, unix(v.ProducedAt), labels...)
	}
	if v.NextUpdate != nil {
		e.emit(m.nextUpdate, unix(*v.NextUpdate), labels...)
		e.emit(m.ttl, v.NextUpdate.Sub(now).Seconds(), labels...)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unix goes through whole seconds: UnixNano overflows past 2262, and
// RFC 5280's "no expiry" NotAfter is 9999-12-31.
func unix(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }

package exporter

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// collector turns the stored results into client_golang metrics at
// scrape time. It serves the protobuf format and the one-target
// registries of /probe; /metrics in the text formats copies the series
// each target rendered when its run ended (exposition.go). Both go
// through the same emitter, so they export the same series. Contract v2
// exports instants only (NextUpdate, not the time left), so the values
// do not depend on when Prometheus looks and rules compute the time left
// with time().
//
// It is an unchecked collector (Describe sends nothing) because the
// region const label comes from the configuration and may change on reload.
type collector struct {
	store *store
	// agent is nil for the one-target registries that /probe builds,
	// which take their region label from region instead.
	agent  *Agent
	region string
	logger *slog.Logger
}

func (c *collector) Describe(chan<- *prometheus.Desc) {}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	region := c.region
	var (
		cfg    *config.Config
		health reloadHealth
	)
	if c.agent != nil {
		cfg, health = c.agent.configAndHealth()
		if cfg != nil {
			region = cfg.Region
		}
	}
	out := &constMetrics{ch: ch, region: region, live: c.agent == nil, descs: map[string]*prometheus.Desc{}}
	e := newEmitter(out.send)
	if c.agent != nil {
		e.group("", func() { e.agent(cfg, health, c.agent.QueuedRuns()) })
	}
	snaps := c.store.snapshot()
	for _, s := range snaps {
		if err := e.group(s.name, func() { e.target(s) }); err != nil {
			c.drop("target", s.name, err)
		}
	}
	c.shared(e, reportsOf(snaps))
	e.group("", func() { e.totals(c.store, c.dropped()) })
}

// shared emits the series of the responders and CRLs the targets'
// last reports share.
func (c *collector) shared(e *emitter, reports []*probe.Report) {
	for _, r := range sharedResponders(reports) {
		if err := e.group(r.result.URL, func() { e.responder(r) }); err != nil {
			c.drop("responder", r.result.URL, err)
		}
	}
	for _, r := range sharedCRLs(reports) {
		if err := e.group(r.result.URL, func() { e.crl(r) }); err != nil {
			c.drop("CRL", r.result.URL, err)
		}
	}
}

// dropped is the agent's count of groups left out of scrapes, or nil
// for a /probe registry, which does not export it.
func (c *collector) dropped() *atomic.Int64 {
	if c.agent == nil {
		return nil
	}
	return &c.agent.scrapeDropped
}

func (c *collector) drop(kind, name string, err error) {
	if d := c.dropped(); d != nil {
		d.Add(1)
	}
	if c.logger != nil {
		c.logger.Error(kind+" left out of the scrape", kind, name, "err", err)
	}
}

// agent emits the agent's own series.
func (e *emitter) agent(cfg *config.Config, health reloadHealth, queued int) {
	if cfg != nil {
		e.emit(mTargets, float64(len(cfg.Targets)))
		e.emit(mRunsQueued, float64(queued))
		shard := cfg.ShardOf()
		e.emit(mShard, 1, strconv.Itoa(shard.Index), strconv.Itoa(shard.Count))
	}
	e.emit(mBuildInfo, 1, version.Version, version.Revision, runtime.Version())
	e.emit(mReloadOK, boolValue(health.lastOK))
	if !health.lastSuccess.IsZero() {
		e.emit(mReloadTime, unix(health.lastSuccess))
	}
	e.emit(mReloadsTotal, health.successes, "success")
	e.emit(mReloadsTotal, health.failures, "failure")
}

// totals emits the fleet-wide counters; dropped is nil for a /probe
// registry.
func (e *emitter) totals(st *store, dropped *atomic.Int64) {
	failures, skipped := st.totals()
	for _, reason := range probe.AllReasons() {
		e.emit(mFailuresTotal, failures[reason], string(reason))
	}
	e.emit(mSkippedTotal, skipped)
	if dropped != nil {
		e.emit(mDroppedTotal, float64(dropped.Load()))
	}
}

// sample is one series as the emitter made it: the metric, by its place
// in families, its label names and values (custom labels appended,
// region not yet added) and its value.
type sample struct {
	family int
	names  []string
	values []string
	value  float64
}

func (s sample) def() *metricDef { return families[s.family] }

// emitter builds series one group at a time (the agent's own, one
// target, one responder URL, one CRL URL) and hands a group on only when
// the whole group came out consistent, so one target's bad data drops
// that target's series and never fails the scrape for every other target.
type emitter struct {
	// out receives each consistent group; an error drops the group.
	out func([]sample) error

	// custom are the current target's custom labels, appended to every
	// metric whose first label is "target" when onAll is set, and always
	// to ocsp_target_info.
	custom []config.Label
	onAll  bool

	pending []sample
	seen    map[string]struct{}
	err     error
}

func newEmitter(out func([]sample) error) *emitter {
	return &emitter{out: out, seen: map[string]struct{}{}}
}

// group runs fill and hands on what it emitted, or nothing when it
// failed, including by panicking.
func (e *emitter) group(name string, fill func()) (err error) {
	e.pending, e.err = e.pending[:0], nil
	e.custom, e.onAll = nil, false
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
	return e.out(e.pending)
}

func (e *emitter) emit(m metricDef, value float64, labels ...string) {
	if e.err != nil {
		return
	}
	if len(labels) != len(m.Labels) {
		e.err = fmt.Errorf("%s: %d label values for %d labels", m.Name, len(labels), len(m.Labels))
		return
	}
	names := m.Labels
	if len(e.custom) > 0 && len(m.Labels) > 0 && m.Labels[0] == "target" && (e.onAll || m.Name == mTargetInfo.Name) {
		names = slices.Clone(m.Labels)
		for _, l := range e.custom {
			// The configuration refuses such names; the text path would
			// otherwise write a label twice, which fails the whole scrape
			// in Prometheus, so the group is dropped instead.
			if slices.Contains(m.Labels, l.Name) || l.Name == "region" {
				e.err = fmt.Errorf("%s: custom label %q is also one of its own", m.Name, l.Name)
				return
			}
			names = append(names, l.Name)
			labels = append(labels, l.Value)
		}
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
	e.pending = append(e.pending, sample{family: familyIndex[m.Name], names: names, values: labels, value: value})
}

// constMetrics turns groups of samples into client_golang metrics.
type constMetrics struct {
	ch     chan<- prometheus.Metric
	region string
	// live marks a one-off /probe run, whose values are not cached.
	live  bool
	descs map[string]*prometheus.Desc
}

// send makes every metric of the group before sending any, so a group
// client_golang refuses is dropped whole.
func (c *constMetrics) send(group []sample) error {
	metrics := make([]prometheus.Metric, 0, len(group))
	for _, s := range group {
		def := s.def()
		key := def.Name + "\xff" + strings.Join(s.names, "\xff")
		d, ok := c.descs[key]
		if !ok {
			var constLabels prometheus.Labels
			if c.region != "" {
				constLabels = prometheus.Labels{"region": c.region}
			}
			help := def.Help
			if c.live {
				help = strings.TrimSuffix(help, cachedNote)
			}
			d = prometheus.NewDesc(def.Name, help, s.names, constLabels)
			c.descs[key] = d
		}
		m, err := prometheus.NewConstMetric(d, def.Type, s.value, s.values...)
		if err != nil {
			return err
		}
		metrics = append(metrics, m)
	}
	for _, m := range metrics {
		c.ch <- m
	}
	return nil
}

func (e *emitter) target(s snapshot) {
	name, t := s.name, s.target
	if t != nil {
		e.custom, e.onAll = t.MetricLabels(), t.LabelsOnEverySeries()
		e.emit(mTargetInfo, 1, name, t.Endpoint, serverName(t))
	}
	e.emit(mProbesTotal, s.success, name, "success")
	e.emit(mProbesTotal, s.failure, name, "failure")
	rep := s.last
	if rep == nil {
		return
	}
	e.emit(mProbeSuccess, boolValue(rep.Success), name)
	e.emit(mProbeLastRun, unix(s.finished), name)
	for _, reason := range probe.UniqueReasons(rep.Failures) {
		e.emit(mFailureReason, 1, name, string(reason))
	}
	responder := firstResponder(t, rep)
	require := probe.RequireAuto
	if t != nil {
		require = probe.StapleRequirement(t.RequireStaple)
	}
	for _, ep := range rep.Endpoints {
		e.endpoint(name, ep, require, responder)
	}
	if len(rep.Endpoints) == 0 && rep.Cert != nil {
		e.certInfo(name, "", rep.Cert, responder, "false", "", "", "", "")
	}
	for _, r := range rep.Responders {
		if r.Response != nil && r.Response.Valid {
			e.response(r.Response, name, r.URL)
		}
	}
	e.chain(name, rep)
}

// serverName is the SNI the target sends: server_name, or the
// endpoint's host.
func serverName(t *config.Target) string {
	if t.ServerName != "" || t.Endpoint == "" {
		return t.ServerName
	}
	host, _, err := net.SplitHostPort(t.Endpoint)
	if err != nil {
		return ""
	}
	return host
}

// firstResponder is the responder URL the target's alerts name, so they
// can be muted behind an alert about that responder: the first one
// configured, else the certificate's first AIA OCSP URL.
func firstResponder(t *config.Target, rep *probe.Report) string {
	if t != nil && len(t.Responders) > 0 {
		return t.Responders[0]
	}
	if rep.Cert != nil && len(rep.Cert.OCSPServers) > 0 {
		return rep.Cert.OCSPServers[0]
	}
	return ""
}

func (e *emitter) endpoint(name string, ep *probe.StapleResult, require probe.StapleRequirement, responder string) {
	if ep.Address == "" {
		return // never resolved: the failure reason says why
	}
	addr := ep.Address
	e.emit(mTLSUp, boolValue(ep.HandshakeOK), name, addr)
	if d := ep.Timings.Total(); d > 0 {
		e.emit(mTLSDuration, d.Seconds(), name, addr)
	}
	if !ep.HandshakeOK || ep.Cert == nil {
		return
	}
	chainVerified := strconv.FormatBool(ep.ChainVerified)
	if ep.ChainSkipped {
		chainVerified = "skipped"
	}
	e.certInfo(name, addr, ep.Cert, responder, strconv.FormatBool(require.Requires(ep.Cert.MustStaple)), chainVerified, ep.TLSVersion, ep.TLSCipher, ep.ALPN)
	e.emit(mStaplePresent, boolValue(ep.StaplePresent), name, addr)
	if ep.Staple == nil {
		return
	}
	e.staple(ep.Staple, name, addr)
	if ep.ResponderAgrees != nil {
		e.emit(mStapleAgree, boolValue(*ep.ResponderAgrees), name, addr)
	}
}

func (e *emitter) certInfo(name, addr string, c *probe.CertInfo, responder, stapleRequired, chainVerified, tlsVersion, tlsCipher, alpn string) {
	e.emit(mCertInfo, 1, name, addr, c.SerialNumber, c.Subject, c.Issuer, c.NotAfter.UTC().Format(time.RFC3339),
		c.FingerprintSHA256, responder, strconv.FormatBool(c.MustStaple), stapleRequired, string(c.Posture), chainVerified, tlsVersion, tlsCipher, alpn)
}

// sharedResponder is one responder URL as the scrape shows it: its most
// recent answer among the targets' last runs, and how many of those runs
// asked it.
type sharedResponder struct {
	result  *probe.ResponderResult
	targets int
}

// sharedResponders picks one result per URL, so a responder shared by
// thousands of targets is exported once. Reports come in target name
// order, so equal fetch times resolve the same way every scrape.
func sharedResponders(reports []*probe.Report) []sharedResponder {
	byURL := map[string]*sharedResponder{}
	for _, rep := range reports {
		for _, r := range rep.Responders {
			// Keyed as the label shows the URL: two URLs that differ only
			// past the label's cap are one series, not a duplicate.
			key := labelValue(r.URL)
			cur, ok := byURL[key]
			if !ok {
				byURL[key] = &sharedResponder{result: r, targets: 1}
				continue
			}
			cur.targets++
			if r.FetchedAt.After(cur.result.FetchedAt) {
				cur.result = r
			}
		}
	}
	out := make([]sharedResponder, 0, len(byURL))
	for _, url := range slices.Sorted(maps.Keys(byURL)) {
		out = append(out, *byURL[url])
	}
	return out
}

func (e *emitter) responder(shared sharedResponder) {
	r := shared.result
	url := r.URL
	e.emit(mRespTargets, float64(shared.targets), url)
	e.emit(mRespUp, boolValue(r.Up), url)
	reasons := responderReasons(r)
	e.emit(mRespSuccess, boolValue(r.Up && len(reasons) == 0), url)
	for _, reason := range reasons {
		e.emit(mRespFailure, 1, url, string(reason))
	}
	if !r.FetchedAt.IsZero() {
		e.emit(mRespLastQuery, unix(r.FetchedAt), url)
	}
	if r.HTTPStatus != 0 {
		e.emit(mRespHTTP, float64(r.HTTPStatus), url)
	}
	t := r.Timings
	for _, p := range t.Phases() {
		e.emit(mRespPhase, p.Duration.Seconds(), url, p.Name)
	}
	if t.Total > 0 {
		e.emit(mRespTotal, t.Total.Seconds(), url)
	}
	if r.ResponseStatus != "" {
		e.emit(mRespStatus, 1, url, string(r.ResponseStatus))
	}
	if v := r.Response; v != nil && v.NextUpdate != nil && !v.ThisUpdate.IsZero() {
		e.emit(mRespWindow, v.NextUpdate.Sub(v.ThisUpdate).Seconds(), url)
	}
	if r.Cache.MaxAge != nil {
		e.emit(mRespMaxAge, r.Cache.MaxAge.Seconds(), url)
		if r.Response != nil && r.Response.NextUpdate != nil {
			e.emit(mRespMaxAgePast, boolValue(r.Cache.MaxAgePastNextUpdate), url)
		}
	}
	switch r.Nonce {
	case probe.NonceEchoed:
		e.emit(mRespNonce, 1, url)
	case probe.NonceMissing, probe.NonceMismatch:
		e.emit(mRespNonce, 0, url)
	}
}

// responderReasons are the problems of a query that are the responder's
// own: a revoked or unknown answer describes the certificate.
func responderReasons(r *probe.ResponderResult) []probe.Reason {
	var out []probe.Reason
	for _, reason := range probe.UniqueReasons(r.Problems) {
		if reason != probe.ReasonResponseRevoked && reason != probe.ReasonResponseUnknown {
			out = append(out, reason)
		}
	}
	return out
}

// staple exports the staple the address served.
func (e *emitter) staple(v *probe.Verification, name, addr string) {
	e.emit(mStapleValid, boolValue(v.Valid), name, addr)
	if v.CertStatus != "" {
		e.emit(mStapleStatus, 1, name, addr, string(v.CertStatus))
	}
	if !v.ThisUpdate.IsZero() {
		e.emit(mStapleThis, unix(v.ThisUpdate), name, addr)
	}
	if v.NextUpdate != nil {
		e.emit(mStapleNext, unix(*v.NextUpdate), name, addr)
	}
	if v.CertStatus == probe.CertRevoked && v.RevokedAt != nil {
		e.emit(mStapleRevoked, unix(*v.RevokedAt), name, addr, v.RevocationReason)
	}
}

// response exports what a responder verifiably says about the target's
// certificate; an answer that does not verify is the responder's problem
// and shows on its own series.
func (e *emitter) response(v *probe.Verification, name, url string) {
	e.emit(mRespCertStatus, 1, name, url, string(v.CertStatus))
	if v.NextUpdate != nil {
		e.emit(mRespNext, unix(*v.NextUpdate), name, url)
	}
	if v.CertStatus == probe.CertRevoked && v.RevokedAt != nil {
		e.emit(mRespRevoked, unix(*v.RevokedAt), name, url, v.RevocationReason)
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

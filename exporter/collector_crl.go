package exporter

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// CRL series follow contract v2: a distribution point's health is
// exported once per URL, however many targets share the CRL; what a CRL
// says about each certificate is per target and depth.
var (
	lCRL = []string{"url"}

	mCRLUp        = metricDef{"ocsp_crl_up", "1 if the last download of the CRL (or its 304 revalidation) gave a usable copy." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLValid     = metricDef{"ocsp_crl_valid", "1 if the copy in use is trusted: signed by the issuer of the certificates it covers, inside ThisUpdate..NextUpdate with the skew, nothing unsupported in it." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLFailure   = metricDef{"ocsp_crl_failure_reason", "1 for each problem of the CRL's last download or copy; absent while it is fine." + cachedNote, prometheus.GaugeValue, []string{"url", "reason"}}
	mCRLThis      = metricDef{"ocsp_crl_this_update_timestamp_seconds", "ThisUpdate of the copy in use." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLNext      = metricDef{"ocsp_crl_next_update_timestamp_seconds", "NextUpdate of the copy in use; subtract time() for the time left." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLBytes     = metricDef{"ocsp_crl_bytes", "Size of the copy in use, in DER bytes." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLEntries   = metricDef{"ocsp_crl_entries", "Revoked certificates the copy in use lists." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLHTTP      = metricDef{"ocsp_crl_http_status_code", "HTTP status code of the last download attempt." + cachedNote, prometheus.GaugeValue, lCRL}
	mCRLPhase     = metricDef{"ocsp_crl_duration_seconds", "Phases of the last download attempt: resolve, connect, processing, transfer." + cachedNote, prometheus.GaugeValue, []string{"url", "phase"}}
	mCRLLastFetch = metricDef{"ocsp_crl_last_fetch_timestamp_seconds", "When the CRL was last downloaded or revalidated, successfully or not.", prometheus.GaugeValue, lCRL}
	mCRLLastGood  = metricDef{"ocsp_crl_last_good_timestamp_seconds", "When the copy in use was downloaded or last confirmed by a 304; an unreachable CRL keeps its last good copy, and this says how old it is.", prometheus.GaugeValue, lCRL}
	mCRLTargets   = metricDef{"ocsp_crl_targets", "How many targets' last run checked this CRL.", prometheus.GaugeValue, lCRL}

	mCRLCertRevoked = metricDef{"ocsp_crl_cert_revoked", "1 if the CRL lists the certificate at this depth of the target's chain (0 = leaf), 0 if not; absent when the CRL cannot be trusted." + cachedNote, prometheus.GaugeValue, []string{"target", "depth", "url"}}
	mCRLCertRevAt   = metricDef{"ocsp_crl_cert_revocation_timestamp_seconds", "When the CRL says the certificate was revoked, with the RFC 5280 reason; absent unless listed." + cachedNote, prometheus.GaugeValue, []string{"target", "depth", "url", "revocation_reason"}}
	mCertRevoked    = metricDef{"ocsp_cert_revoked", "1 if the certificate at this depth (0 = leaf) is revoked according to source (crl, or responder for a certificate above the leaf), 0 if that source says it is not; a source exists only when it gave a trusted answer. The leaf's staple and responder answers are ocsp_staple_cert_status and ocsp_response_cert_status." + cachedNote, prometheus.GaugeValue, []string{"target", "depth", "source"}}
)

var crlMetrics = []metricDef{
	mCRLUp, mCRLValid, mCRLFailure, mCRLThis, mCRLNext, mCRLBytes, mCRLEntries, mCRLHTTP, mCRLPhase,
	mCRLLastFetch, mCRLLastGood, mCRLTargets, mCRLCertRevoked, mCRLCertRevAt, mCertRevoked,
}

// crlReasonName is a CRL entry's reason label: an entry without a reason
// means "unspecified" (RFC 5280 §5.3.1), and a code the RFC does not
// define is "unknown", which keeps the label's values bounded.
func crlReasonName(code int) string {
	if code == crl.NoReasonCode {
		return "unspecified"
	}
	if name := probe.RevocationReasonName(code); name != "" {
		return name
	}
	return "unknown"
}

// chain emits what each certificate of the target's chain is known to
// be, by source, and what each of its CRLs says. The leaf's OCSP answers
// have series of their own (ocsp_staple_cert_status,
// ocsp_response_cert_status); repeating them here would cost every
// healthy target two series of its 20-series budget.
func (e *emitter) chain(name string, rep *probe.Report) {
	for _, c := range rep.Chain {
		depth := strconv.Itoa(c.Depth)
		if revoked, known := c.CRLRevoked(); known {
			e.emit(mCertRevoked, boolValue(revoked), name, depth, "crl")
		}
		if c.Depth > 0 {
			if revoked, known := ocspRevoked(c.OCSP); known {
				e.emit(mCertRevoked, boolValue(revoked), name, depth, "responder")
			}
		}
		for _, r := range c.CRLs {
			if !r.Status.Trusted {
				continue
			}
			e.emit(mCRLCertRevoked, boolValue(r.Status.Listed), name, depth, r.URL)
			if r.Status.Listed {
				e.emit(mCRLCertRevAt, unix(r.Status.RevokedAt), name, depth, r.URL, crlReasonName(r.Status.ReasonCode))
			}
		}
	}
}

// ocspRevoked reports what valid OCSP answers say: revoked when any does.
func ocspRevoked(results []*probe.ResponderResult) (revoked, known bool) {
	for _, r := range results {
		if r.Response != nil && r.Response.Valid && r.Response.CertStatus != probe.CertUnknown {
			known = true
			revoked = revoked || r.Response.CertStatus == probe.CertRevoked
		}
	}
	return revoked, known
}

// sharedCRL is one CRL URL as the most recent run saw it.
type sharedCRL struct {
	result  *probe.CRLResult
	targets int
}

func sharedCRLs(reports []*probe.Report) []sharedCRL {
	byURL := map[string]*sharedCRL{}
	for _, rep := range reports {
		seen := map[string]bool{}
		for _, c := range rep.Chain {
			for _, r := range c.CRLs {
				if r.URL == "file" || r.Snapshot == nil {
					continue
				}
				// Keyed as the label shows the URL (see sharedResponders).
				key := labelValue(r.URL)
				cur, ok := byURL[key]
				switch {
				case !ok:
					byURL[key] = &sharedCRL{result: r}
					cur = byURL[key]
				case fetchedAt(r).After(fetchedAt(cur.result)):
					cur.result = r
				}
				if !seen[key] {
					seen[key] = true
					cur.targets++
				}
			}
		}
	}
	out := make([]sharedCRL, 0, len(byURL))
	for _, url := range slices.Sorted(maps.Keys(byURL)) {
		out = append(out, *byURL[url])
	}
	return out
}

func fetchedAt(r *probe.CRLResult) time.Time {
	if r.Snapshot != nil && r.Snapshot.Fetch != nil {
		return r.Snapshot.Fetch.FetchedAt
	}
	return time.Time{}
}

func (e *emitter) crl(shared sharedCRL) {
	r := shared.result
	snap, url := r.Snapshot, r.URL
	e.emit(mCRLTargets, float64(shared.targets), url)
	e.emit(mCRLUp, boolValue(snap.Up()), url)
	e.emit(mCRLValid, boolValue(r.Verdict.Trusted), url)
	for _, reason := range crlReasonsOf(r) {
		e.emit(mCRLFailure, 1, url, reason)
	}
	if f := snap.Fetch; f != nil {
		if !f.FetchedAt.IsZero() {
			e.emit(mCRLLastFetch, unix(f.FetchedAt), url)
		}
		if f.HTTPStatus != 0 {
			e.emit(mCRLHTTP, float64(f.HTTPStatus), url)
		}
		for _, p := range f.Timings.Phases() {
			e.emit(mCRLPhase, p.Duration.Seconds(), url, p.Name)
		}
	}
	if snap.CRL == nil {
		return
	}
	info := snap.CRL.Info()
	e.emit(mCRLLastGood, unix(snap.LastGood), url)
	e.emit(mCRLThis, unix(info.ThisUpdate), url)
	if !info.NextUpdate.IsZero() {
		e.emit(mCRLNext, unix(info.NextUpdate), url)
	}
	e.emit(mCRLBytes, float64(info.DERBytes), url)
	e.emit(mCRLEntries, float64(info.Entries), url)
}

// crlReasonsOf are the CRL's own problems, once each, the same whichever
// target's run looked: what it says about one certificate (crl_revoked, a
// scope that does not cover it) is that target's, not the CRL's.
func crlReasonsOf(r *probe.CRLResult) []string {
	var out []string
	for _, p := range r.Verdict.Problems {
		if p.Reason == crl.ReasonRevoked || slices.Contains(out, string(p.Reason)) {
			continue
		}
		out = append(out, string(p.Reason))
	}
	return out
}

package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
)

// Handler serves every HTTP endpoint of the agent.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", a.serveMetrics)
	mux.HandleFunc("GET /probe", a.serveProbe)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	// Like Prometheus, lifecycle endpoints are off unless asked for: a
	// POST needs no credentials a browser would not send cross-site.
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if !a.opts.EnableLifecycle {
			http.Error(w, "Lifecycle API is not enabled; start with --web.enable-lifecycle, or send SIGHUP", http.StatusForbidden)
			return
		}
		if err := a.Reload(); err != nil {
			http.Error(w, "reload failed, the running configuration stays: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	})
	mux.HandleFunc("GET /{$}", a.serveStatus)
	return mux
}

// serveProbe runs one target now and returns its metrics, or with
// debug=true its log lines, metrics and resolved configuration.
func (a *Agent) serveProbe(w http.ResponseWriter, r *http.Request) {
	pq, err := parseProbeQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	release, ok := a.acquireProbeSlot()
	if !ok {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many /probe requests in flight (max_concurrent_probe_requests); try again", http.StatusServiceUnavailable)
		return
	}
	defer release()
	ctx := r.Context()
	// Finish before Prometheus gives up on the scrape.
	if budget, ok := scrapeBudget(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	var (
		rep    *probe.Report
		target *config.Target
	)
	if pq.target != "" {
		rep, target, err = a.ProbeNow(ctx, pq.target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
	} else {
		rep, target, err = a.ProbeAdhoc(ctx, pq.endpoint, pq.serverName)
		if errors.Is(err, errAdhocDisabled) {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}

	one := singleResult(target, rep, a.opts.Now())
	reg := prometheus.NewRegistry()
	cfg, _ := a.configAndHealth()
	reg.MustRegister(&collector{store: one, region: cfg.Region})
	if !pq.debug {
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Logs for the probe:\n%s\n", probeLog(rep, a.opts.Now()))
	fmt.Fprintf(w, "Metrics that would have been returned:\n%s\n", exposition(reg))
	fmt.Fprintf(w, "Target configuration (with defaults filled in):\n%s", resolvedTOML(target))
}

// maxScrapeTimeout bounds what the scrape-timeout header can ask for;
// past it the target's own timeout is in charge anyway.
const maxScrapeTimeout = time.Hour

// scrapeBudget turns Prometheus's scrape-timeout header into how long a
// /probe call may take: a little under the timeout, so the answer arrives
// before Prometheus gives up. A missing, unparsable, non-finite or
// out-of-range value leaves the target's timeout in charge.
func scrapeBudget(header string) (time.Duration, bool) {
	s, err := strconv.ParseFloat(header, 64)
	if err != nil || math.IsNaN(s) || s <= 0 || s > maxScrapeTimeout.Seconds() {
		return 0, false
	}
	d := time.Duration(s * float64(time.Second))
	return d - min(500*time.Millisecond, d/10), true
}

func exposition(g prometheus.Gatherer) string {
	families, err := g.Gather()
	if err != nil {
		return "error: " + err.Error()
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		_ = enc.Encode(f)
	}
	return b.String()
}

// resolvedTOML shows the target as it runs. A proxy_url's password is
// the one secret the configuration holds; it is blanked here.
func resolvedTOML(t *config.Target) string {
	shown := *t
	if shown.ProxyURL != "" {
		shown.ProxyURL = config.RedactProxyURL(shown.ProxyURL)
	}
	t = &shown
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(struct {
		Target *config.Target `toml:"target"`
	}{t}); err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}

// probeLog narrates a report step by step, for people debugging a target.
func probeLog(rep *probe.Report, now time.Time) string {
	var b bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("starting probe", "target", rep.Target, "started", rep.Started.UTC().Format(time.RFC3339))
	for _, e := range rep.Endpoints {
		if e.Address == "" {
			logger.Error("could not resolve the endpoint")
		} else if e.HandshakeOK {
			logger.Info("handshake completed", "address", e.Address, "tls_version", e.TLSVersion, "tls_cipher", e.TLSCipher,
				"alpn", e.ALPN, "resolve", e.Timings.Resolve, "connect", e.Timings.Connect, "tls", e.Timings.TLS,
				"chain_verified", e.ChainVerified, "chain_skipped", e.ChainSkipped, "chain_incomplete", e.ChainIncomplete, "issuer_source", e.IssuerSource)
		} else {
			logger.Error("handshake failed", "address", e.Address)
		}
		if e.Cert != nil {
			logger.Info("certificate", "subject", e.Cert.Subject, "serial", e.Cert.SerialNumber, "not_after", e.Cert.NotAfter.UTC(),
				"must_staple", e.Cert.MustStaple, "posture", e.Cert.Posture, "ocsp_urls", strings.Join(e.Cert.OCSPServers, " "))
		}
		if e.HandshakeOK {
			if v := e.Staple; v != nil {
				args := []any{"address", e.Address, "valid", v.Valid, "cert_status", v.CertStatus}
				if v.NextUpdate != nil {
					args = append(args, "next_update", v.NextUpdate.UTC(), "expiry", human.Expiry(*v.NextUpdate, now))
				}
				logger.Info("staple checked", args...)
			} else {
				logger.Info("no staple", "address", e.Address)
			}
		}
		for _, p := range e.Problems {
			logger.Warn("problem", "address", e.Address, "reason", p.Reason, "detail", p.Detail)
		}
	}
	if rep.NoResponderURL {
		logger.Info("the certificate names no OCSP responder")
	}
	for _, r := range rep.Responders {
		logger.Info("responder queried", "url", r.URL, "method", r.Method, "http_status", r.HTTPStatus, "response_status", r.ResponseStatus,
			"up", r.Up, "cached", r.Cached, "total", r.Timings.Total, "nonce", r.Nonce)
		for _, p := range r.Problems {
			logger.Warn("problem", "url", r.URL, "reason", p.Reason, "detail", p.Detail)
		}
	}
	if rep.Success {
		logger.Info("probe succeeded", "duration", rep.Duration)
	} else {
		logger.Error("probe failed", "duration", rep.Duration, "reasons", reasonList(rep.Failures))
	}
	return b.String()
}

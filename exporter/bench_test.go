package exporter

import (
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// BenchmarkScrape measures one /metrics render with 1,000, 10,000 and
// 50,000 healthy targets, each with one address, a staple and one
// responder, the targets sharing benchResponders responder URLs, two
// ways: "cached", the text written from the targets' rendered series as
// /metrics serves it, and "registry", client_golang's gather and text
// encoder over the same store, as the protobuf path and the agent before
// the cache did. It reports series (all of them), series/target (those
// carrying the target's own label) and bytes of the text exposition.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("targets=%d/cached", n), func(b *testing.B) { benchmarkScrape(b, n, true, false) })
		b.Run(fmt.Sprintf("targets=%d/cached+gzip", n), func(b *testing.B) { benchmarkScrape(b, n, true, true) })
		b.Run(fmt.Sprintf("targets=%d/http", n), func(b *testing.B) { benchmarkScrapeHTTP(b, n) })
		b.Run(fmt.Sprintf("targets=%d/registry", n), func(b *testing.B) {
			if n > 10000 && !testing.Verbose() {
				b.Skip("the registry path takes seconds per scrape at this size; run with -v")
			}
			benchmarkScrape(b, n, false, false)
		})
	}
}

// benchResponders is how many responder URLs the benchmark's targets
// share, as a fleet's certificates share a few CAs.
const benchResponders = 10

// countingWriter counts the bytes of one exposition.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// benchmarkScrapeHTTP times GET /metrics through the agent's handler on
// loopback, the body read and thrown away: the cached path plus net/http
// and the kernel's TCP.
func benchmarkScrapeHTTP(b *testing.B, targets int) {
	a := scrapeBenchAgent(b, targets)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(srv.URL + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "bytes")
}

// scrapeBenchAgent is an agent that has not run, whose store holds targets
// healthy targets, as BenchmarkScrape describes them.
func scrapeBenchAgent(b *testing.B, targets int) *Agent {
	path := b.TempDir() + "/empty.toml"
	if err := os.WriteFile(path, []byte("region = \"eu\"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	a, err := New(Options{ConfigFile: path})
	if err != nil {
		b.Fatal(err)
	}
	// The configuration Run would apply, without probing anything.
	a.sched.cfg = a.pending
	st := a.store
	now := testpki.Epoch
	next := now.Add(3 * time.Hour)
	st.setRegion("eu")
	yes := true
	for i := range targets {
		name := fmt.Sprintf("target-%05d", i)
		url := fmt.Sprintf("http://ocsp%d.example", i%benchResponders)
		staple := &probe.Verification{Valid: true, CertStatus: probe.CertGood, ThisUpdate: now.Add(-time.Hour), ProducedAt: now.Add(-time.Hour), NextUpdate: &next}
		host := fmt.Sprintf("www-%05d.example.com", i)
		// Label values as long as a public CA's: a 36-digit serial, a
		// short subject, an issuer DN with organisation and country.
		leaf := &x509.Certificate{Raw: []byte(name)}
		cert := &probe.CertInfo{Subject: "CN=" + host, Issuer: "CN=R11,O=Let's Encrypt,C=US", SerialNumber: fmt.Sprintf("%036x", i+1),
			FingerprintSHA256: fmt.Sprintf("%x", sha256.Sum256(leaf.Raw)),
			NotAfter:          now.Add(30 * 24 * time.Hour), OCSPServers: []string{url}, Posture: probe.PostureOCSP}
		rep := &probe.Report{Target: name, Success: true, Duration: 20 * time.Millisecond, Cert: cert, Leaf: leaf,
			Endpoints: []*probe.StapleResult{{Address: fmt.Sprintf("10.0.%d.%d:443", i/256, i%256), HandshakeOK: true, TLSVersion: "TLS 1.3",
				Timings: probe.Timings{Connect: time.Millisecond, TLS: 3 * time.Millisecond}, ChainVerified: true, Leaf: leaf,
				Cert: cert, StaplePresent: true, Staple: staple, ResponderAgrees: &yes}},
			Responders: []*probe.ResponderResult{{URL: url, Up: true, HTTPStatus: 200, ResponseStatus: probe.StatusSuccessful,
				Timings:  probe.ResponderTimings{Connect: time.Millisecond, Processing: 5 * time.Millisecond, Transfer: time.Millisecond, Total: 8 * time.Millisecond},
				Response: staple, Nonce: probe.NonceNotSent}},
		}
		s := &targetState{results: results{target: &config.Target{Name: name, Endpoint: host + ":443", RequireStaple: "auto"}}, name: name}
		st.states[name] = s
		st.record(s, rep, now)
	}
	runtime.GC()
	return a
}

func benchmarkScrape(b *testing.B, targets int, cached, gzipped bool) {
	a := scrapeBenchAgent(b, targets)
	st := a.store
	var series, own int
	var out countingWriter
	b.ReportAllocs()
	if cached {
		text := expfmt.NewFormat(expfmt.TypeTextPlain)
		gz := gzipWriters.Get().(*gzip.Writer)
		for b.Loop() {
			out = countingWriter{}
			var w io.Writer = &out
			if gzipped {
				gz.Reset(&out)
				w = gz
			}
			if err := a.writeMetrics(w, text); err != nil {
				b.Fatal(err)
			}
			if gzipped {
				if err := gz.Close(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(out.n), "bytes")
		kept := 0
		for _, s := range st.states {
			r := s.exposition.Load()
			kept += cap(r.text) + cap(r.segs)*int(unsafe.Sizeof(segment{}))
		}
		b.ReportMetric(float64(kept)/float64(targets), "kept-B/target")
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{store: st, region: "eu"})
	for b.Loop() {
		families, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		out = countingWriter{}
		enc := expfmt.NewEncoder(&out, expfmt.NewFormat(expfmt.TypeTextPlain))
		series, own = 0, 0
		for _, f := range families {
			series += len(f.Metric)
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if l.GetName() == "target" {
						own++
						break
					}
				}
			}
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(own)/float64(targets), "series/target")
	b.ReportMetric(float64(out.n), "bytes")
}

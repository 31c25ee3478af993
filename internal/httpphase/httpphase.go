// Package httpphase times the phases of one HTTP request (resolve,
// connect, tls, processing, transfer) from net/http/httptrace events. It
// is the one implementation behind the timings of OCSP responder queries
// and CRL fetches, and the one list of phase names that metrics and
// output use.
package httpphase

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// Timings are the phases of one request. Phases that did not happen (DNS
// for an IP, TLS for http) are zero.
type Timings struct {
	Resolve    time.Duration
	Connect    time.Duration
	TLS        time.Duration
	Processing time.Duration
	Transfer   time.Duration
	Total      time.Duration
}

// Phase is one named, non-zero phase.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Phases lists the phases that happened, in order, without Total.
func (t Timings) Phases() []Phase {
	return nonZero([]Phase{
		{"resolve", t.Resolve}, {"connect", t.Connect}, {"tls", t.TLS},
		{"processing", t.Processing}, {"transfer", t.Transfer},
	})
}

// NonZero keeps the phases that happened; handshake timings use it too.
func nonZero(all []Phase) []Phase {
	out := all[:0]
	for _, p := range all {
		if p.Duration > 0 {
			out = append(out, p)
		}
	}
	return out
}

// HandshakePhases lists a TLS handshake's phases that happened.
func HandshakePhases(resolve, connect, handshake time.Duration) []Phase {
	return nonZero([]Phase{{"resolve", resolve}, {"connect", connect}, {"tls", handshake}})
}

// Trace records httptrace events; the transport may call them from its
// own goroutines, so every field is guarded.
type Trace struct {
	mu                        sync.Mutex
	dnsStart, dnsDone         time.Time
	connectStart, connectDone time.Time
	tlsStart, tlsDone         time.Time
	wroteRequest, firstByte   time.Time
	tlsFailed                 bool
}

func (p *Trace) set(field *time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*field = time.Now()
}

// ClientTrace is the httptrace hook set to attach to the request.
func (p *Trace) ClientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { p.set(&p.dnsStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { p.set(&p.dnsDone) },
		ConnectStart:      func(string, string) { p.set(&p.connectStart) },
		ConnectDone:       func(string, string, error) { p.set(&p.connectDone) },
		TLSHandshakeStart: func() { p.set(&p.tlsStart) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			p.set(&p.tlsDone)
			p.mu.Lock()
			p.tlsFailed = err != nil
			p.mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { p.set(&p.wroteRequest) },
		GotFirstResponseByte: func() { p.set(&p.firstByte) },
	}
}

// InTLS reports whether the request failed in, or stopped during, the
// TLS handshake.
func (p *Trace) InTLS() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tlsFailed || (!p.tlsStart.IsZero() && p.tlsDone.IsZero())
}

// Timings measures the phases of a request that started at start and
// ended at end.
func (p *Trace) Timings(start, end time.Time) Timings {
	p.mu.Lock()
	defer p.mu.Unlock()
	span := func(a, b time.Time) time.Duration {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return 0
		}
		return b.Sub(a)
	}
	t := Timings{
		Resolve:    span(p.dnsStart, p.dnsDone),
		Connect:    span(p.connectStart, p.connectDone),
		TLS:        span(p.tlsStart, p.tlsDone),
		Processing: span(p.wroteRequest, p.firstByte),
		Total:      end.Sub(start),
	}
	if !p.firstByte.IsZero() {
		t.Transfer = span(p.firstByte, end)
	}
	return t
}

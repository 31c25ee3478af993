// Package hostlimit caps the requests in flight to one host, the
// politeness an agent owes a CA: OCSP responder queries and CRL downloads
// both go through it. A host is its name without the port, so a thousand
// ports on one machine are still one machine.
package hostlimit

import (
	"context"
	"net/url"
	"strings"
	"sync"
)

// Limiter hands out per-host slots. It is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	perHost int
	hosts   map[string]chan struct{}
}

// New returns a limiter allowing perHost requests at once to each host
// (at least one).
func New(perHost int) *Limiter {
	return &Limiter{perHost: max(perHost, 1), hosts: map[string]chan struct{}{}}
}

// SetPerHost changes the cap, for a configuration reload. Requests holding
// a slot finish on the old one.
func (l *Limiter) SetPerHost(perHost int) {
	perHost = max(perHost, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if perHost != l.perHost {
		l.perHost, l.hosts = perHost, map[string]chan struct{}{}
	}
}

// Acquire waits for a slot for rawURL's host, or for ctx to end, and
// returns the function that gives the slot back.
func (l *Limiter) Acquire(ctx context.Context, rawURL string) (release func(), err error) {
	host := Host(rawURL)
	l.mu.Lock()
	sem, ok := l.hosts[host]
	if !ok {
		sem = make(chan struct{}, l.perHost)
		l.hosts[host] = sem
	}
	l.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Host is the URL's host name, lower-cased, without the port.
func Host(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return rawURL
}

package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ocspwatch/ocspwatch/internal/hostlimit"
)

// Politeness defaults. Many endpoints share one CA, and a fleet of agents
// multiplies every query, so an agent asks a responder host at most
// DefaultPerHostConcurrency questions at once and asks about one
// certificate at most once per DefaultMinRequeryInterval. A minute keeps
// the responder metrics as fresh as the default schedule while a CA's
// answers change only every few hours.
const (
	DefaultPerHostConcurrency = 2
	DefaultMinRequeryInterval = time.Minute
)

// ResponderPool sends responder queries politely: it deduplicates queries
// in flight, caps concurrent queries per responder host, and serves a
// recent answer again instead of re-asking within the minimum interval.
// It is safe for concurrent use.
//
// A query shared between callers runs under the pool's own context and
// the request's Timeout, never under the first caller's: one caller that
// hangs up must not turn everyone's answer, and the cached one, into a
// timeout.
type ResponderPool struct {
	root        context.Context
	client      *http.Client
	minInterval time.Duration
	now         func() time.Time

	flights singleflight.Group
	limit   *hostlimit.Limiter
	mu      sync.Mutex
	// recent holds answers as fetched; each use judges them as of its
	// own time, so a stored result is never changed.
	recent map[string]*ResponderResult
	pruned time.Time
}

// NewResponderPool returns a pool around client (nil for a default one)
// whose shared queries end when root does. perHost <= 0 means DefaultPerHostConcurrency;
// minInterval 0 turns the re-query cache off.
func NewResponderPool(root context.Context, client *http.Client, perHost int, minInterval time.Duration, now func() time.Time) *ResponderPool {
	if perHost <= 0 {
		perHost = DefaultPerHostConcurrency
	}
	if now == nil {
		now = time.Now
	}
	if client == nil {
		client = defaultPoolClient()
	}
	return &ResponderPool{root: root, client: client, minInterval: minInterval, now: now,
		limit: hostlimit.New(perHost), recent: map[string]*ResponderResult{}}
}

// SetClient replaces the HTTP client (nil for a default one), for a config
// reload; queries in flight finish with the client they started with.
func (p *ResponderPool) SetClient(c *http.Client) {
	if c == nil {
		c = defaultPoolClient()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.client = c
}

func (p *ResponderPool) httpClient() *http.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// defaultPoolClient is built once per pool, not per query, so its
// connections are reused.
func defaultPoolClient() *http.Client {
	return NewHTTPClient(ClientOptions{MaxRedirects: DefaultMaxRedirects})
}

// SetLimits changes the politeness settings, for a config reload.
func (p *ResponderPool) SetLimits(perHost int, minInterval time.Duration) {
	if perHost <= 0 {
		perHost = DefaultPerHostConcurrency
	}
	p.limit.SetPerHost(perHost)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.minInterval = minInterval
}

// Query answers req, from the recent-answer cache or a query in flight
// when allowed. A query with a nonce is always the caller's own: its echo
// verdict belongs to its own nonce.
func (p *ResponderPool) Query(ctx context.Context, req ResponderRequest) *ResponderResult {
	req = req.withDefaults()
	req.Now = p.now
	key, ok := queryKey(req)
	if !ok || req.Nonce {
		return p.queryAlone(ctx, req)
	}
	if cached := p.cached(key); cached != nil {
		return cached.At(p.now())
	}
	led := false
	flight := p.flights.DoChan(key, func() (any, error) {
		led = true
		// The flight serves every target that joins it, so no one
		// target's short timeout bounds it.
		ctx, cancel := context.WithTimeout(p.root, max(req.Timeout, DefaultQueryTimeout))
		defer cancel()
		release, err := p.limit.Acquire(ctx, req.URL)
		if err != nil {
			res := slotTimeout(req.URL, err)
			return sharedFlight{fresh: res, shared: p.share(res)}, nil
		}
		defer release()
		res := query(ctx, p.httpClient(), req)
		f := sharedFlight{fresh: res, shared: p.share(res)}
		if p.root.Err() == nil {
			p.store(key, f.shared)
		}
		return f, nil
	})
	select {
	case done := <-flight:
		f := done.Val.(sharedFlight)
		// led is written by the flight before it answers on the channel.
		if led {
			return f.fresh.At(p.now())
		}
		return f.shared.At(p.now())
	case <-ctx.Done():
		// Only this caller gave up: the shared query goes on, and what it
		// finds is cached on its own merits.
		res := &ResponderResult{URL: req.URL, Nonce: NonceNotSent}
		res.addTransport(ReasonResponderTimeout, "gave up waiting for the responder: "+ctx.Err().Error())
		return res.At(p.now())
	}
}

// sharedFlight is what a query in flight hands its callers: the answer
// as fetched, for the caller that asked, and the one result that every
// caller that joined it, and the re-query cache, share.
type sharedFlight struct {
	fresh, shared *ResponderResult
}

// share is the form of an answer that callers other than the one that
// fetched it receive: judged when the answer is in, as a lone query's
// is, marked Cached, and without the bytes, which only the caller that
// fetched them saves. Every target it serves then shares it until its
// verdict changes, instead of keeping a copy each.
func (p *ResponderPool) share(res *ResponderResult) *ResponderResult {
	shared := res.At(p.now()).served(true)
	if shared.DER == nil {
		return shared
	}
	c := *shared
	c.DER = nil
	return &c
}

func (p *ResponderPool) queryAlone(ctx context.Context, req ResponderRequest) *ResponderResult {
	release, err := p.limit.Acquire(ctx, req.URL)
	if err != nil {
		return slotTimeout(req.URL, err).At(p.now())
	}
	defer release()
	return Responder(ctx, p.httpClient(), req)
}

func slotTimeout(url string, err error) *ResponderResult {
	res := &ResponderResult{URL: url, Nonce: NonceNotSent}
	res.addTransport(ReasonResponderTimeout, "waiting for a free slot for this responder host: "+err.Error())
	return res
}

func queryKey(req ResponderRequest) (string, bool) {
	if req.Leaf == nil || req.Issuer == nil {
		return "", false
	}
	id, err := newCertID(req.Hash, req.Leaf.SerialNumber, req.Issuer)
	if err != nil {
		return "", false
	}
	proxy := ""
	if req.Proxy != nil {
		proxy = req.Proxy.String()
	}
	// Hashed: the cache holds a key per certificate asked about, a
	// fleet's worth, and the spelled-out key runs to 200 bytes.
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%s|%s|%q|%q", req.URL, req.Method, req.Origin, id.key(), policyKey(req.Policy), req.HostHeader, proxy))
	return string(sum[:]), true
}

// policyKey keeps answers judged under different trust settings apart:
// a response accepted through one target's pinned signer must not be
// served to a target that does not pin it.
func policyKey(p VerifyPolicy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", p.Skew, p.MaxResponseAge)
	for _, c := range p.Pinned {
		sum := sha256.Sum256(c.Raw)
		b.WriteString("/" + hex.EncodeToString(sum[:8]))
	}
	return b.String()
}

func (p *ResponderPool) cached(key string) *ResponderResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.pruned) > p.minInterval {
		for k, r := range p.recent {
			if now.Sub(r.FetchedAt) >= p.minInterval {
				delete(p.recent, k)
			}
		}
		p.pruned = now
	}
	r, ok := p.recent[key]
	if !ok || now.Sub(r.FetchedAt) >= p.minInterval {
		return nil
	}
	return r
}

func (p *ResponderPool) store(key string, res *ResponderResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// SetLimits may change the interval during a reload, so it is read
	// under the lock like everywhere else.
	// A timeout says as much about this agent's patience as about the
	// responder: the next run asks again rather than repeat it.
	if p.minInterval <= 0 || res.FetchedAt.IsZero() || hasTransport(res, ReasonResponderTimeout) {
		return
	}
	p.recent[key] = res
}

func hasTransport(r *ResponderResult, reason Reason) bool {
	for _, p := range r.transport {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

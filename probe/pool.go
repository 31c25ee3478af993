package probe

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
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
type ResponderPool struct {
	client      *http.Client
	perHost     int
	minInterval time.Duration
	now         func() time.Time

	flights singleflight.Group
	mu      sync.Mutex
	hosts   map[string]chan struct{}
	recent  map[string]*ResponderResult
	pruned  time.Time
}

// NewResponderPool returns a pool around client. perHost <= 0 means
// DefaultPerHostConcurrency; minInterval 0 turns the re-query cache off.
func NewResponderPool(client *http.Client, perHost int, minInterval time.Duration, now func() time.Time) *ResponderPool {
	if perHost <= 0 {
		perHost = DefaultPerHostConcurrency
	}
	if now == nil {
		now = time.Now
	}
	return &ResponderPool{client: client, perHost: perHost, minInterval: minInterval, now: now,
		hosts: map[string]chan struct{}{}, recent: map[string]*ResponderResult{}}
}

// SetLimits changes the politeness settings, for a config reload.
func (p *ResponderPool) SetLimits(perHost int, minInterval time.Duration) {
	if perHost <= 0 {
		perHost = DefaultPerHostConcurrency
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if perHost != p.perHost {
		// Queries holding an old slot finish on the old channel.
		p.hosts = map[string]chan struct{}{}
	}
	p.perHost, p.minInterval = perHost, minInterval
}

// Query answers req, from the recent-answer cache when allowed.
func (p *ResponderPool) Query(ctx context.Context, req ResponderRequest) *ResponderResult {
	req = req.withDefaults()
	req.Now = p.now
	key, ok := queryKey(req)
	if !ok {
		return Responder(ctx, p.client, req)
	}
	if cached := p.cached(key, req); cached != nil {
		return cached
	}
	v, _, shared := p.flights.Do(key, func() (any, error) {
		sem, err := p.acquire(ctx, req.URL)
		if err != nil {
			res := &ResponderResult{URL: req.URL, Nonce: NonceNotSent}
			res.addTransport(ReasonResponderTimeout, "waiting for a free slot for this responder host: "+err.Error())
			res.finish(p.now(), req.Skew)
			return res, nil
		}
		defer func() { <-sem }()
		res := Responder(ctx, p.client, req)
		p.store(key, res)
		return res, nil
	})
	res := v.(*ResponderResult)
	if shared {
		return copyResult(res, p.now(), req.Skew, true)
	}
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
	nonce := "no-nonce"
	if req.Nonce {
		nonce = "nonce"
	}
	return req.URL + "|" + string(req.Method) + "|" + nonce + "|" + id.key(), true
}

func (p *ResponderPool) cached(key string, req ResponderRequest) *ResponderResult {
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
	return copyResult(r, now, req.Skew, true)
}

func (p *ResponderPool) store(key string, res *ResponderResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// SetLimits may change the interval during a reload, so it is read
	// under the lock like everywhere else.
	if p.minInterval <= 0 {
		return
	}
	p.recent[key] = copyResult(res, p.now(), 0, false)
}

// copyResult gives each caller its own result, with the time window judged
// as of now rather than as of the original fetch.
func copyResult(r *ResponderResult, now time.Time, skew time.Duration, cached bool) *ResponderResult {
	c := *r
	c.Cached = cached
	c.transport = append([]Problem(nil), r.transport...)
	if r.Response != nil {
		v := *r.Response
		c.Response = &v
	}
	if cached {
		c.finish(now, skew)
	}
	return &c
}

func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Host
	}
	return rawURL
}

// acquire takes a slot for the URL's host and returns the channel to give
// it back to, which stays right even if a reload swaps the host map.
func (p *ResponderPool) acquire(ctx context.Context, rawURL string) (chan struct{}, error) {
	p.mu.Lock()
	host := hostOf(rawURL)
	sem, ok := p.hosts[host]
	if !ok {
		sem = make(chan struct{}, p.perHost)
		p.hosts[host] = sem
	}
	p.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return sem, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

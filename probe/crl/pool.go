package crl

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ocspwatch/ocspwatch/internal/hostlimit"
)

// Pool defaults. A CRL changes every few hours to days, so an hourly
// conditional GET keeps it fresh at the cost of one 304 per CA per hour.
const (
	DefaultRefresh         = time.Hour
	DefaultRetry           = time.Minute
	DefaultFetchTimeout    = 60 * time.Second
	DefaultPerHostFetches  = 2
	DefaultForgetAfter     = 24 * time.Hour
	pruneEveryRefreshShare = 4
)

// PoolOptions shape a Pool; zero values mean the defaults.
type PoolOptions struct {
	Client *http.Client
	// PerHost caps downloads in flight to one host, whatever the port.
	PerHost int
	// Refresh is how often a held copy is revalidated with a conditional
	// GET, even before its NextUpdate.
	Refresh time.Duration
	// Retry is the least time between attempts after a failed one, or
	// while the server still serves a copy past its NextUpdate, so a
	// thousand targets do not hammer a broken server.
	Retry time.Duration
	// Timeout bounds each download. It is the pool's own: the download is
	// shared, so no caller's deadline applies to it.
	Timeout time.Duration
	// ForgetAfter drops a CRL nobody asked for in this long, so a removed
	// target's CRL does not stay in memory; a daily check keeps its copy.
	ForgetAfter time.Duration
	MaxBytes    int64
	UserAgent   string
	Now         func() time.Time
	// Context is the parent of every download's context: its
	// cancellation ends them. Nil means context.Background.
	Context context.Context
	// Scope, when set, wraps each download's context, once per download,
	// with what its dialer needs to know: the agent's network policy,
	// under which a CRL URL from a certificate is remote input.
	Scope func(context.Context) context.Context
}

// Pool shares CRL downloads between targets. Each CRL is fetched once for
// all callers that ask for it at the same time, kept until its NextUpdate
// and revalidated every Refresh. A failed download (unreachable, timeout,
// HTTP error, too large, malformed) keeps the last good copy, meaning the
// last one that downloaded and parsed. A copy that parses but does not
// verify replaces it: a monitor reports what the distribution point
// serves, and that copy's Verdict says what is wrong with it. It is safe
// for concurrent use.
type Pool struct {
	opts    PoolOptions
	root    context.Context
	stop    context.CancelFunc
	flights singleflight.Group

	mu      sync.Mutex
	entries map[string]*poolEntry
	limit   *hostlimit.Limiter
	fetches int64
	pruned  time.Time
}

// poolEntry is guarded by Pool.mu; the results it points at are immutable.
type poolEntry struct {
	last        *FetchResult
	good        *CRL
	lastGood    time.Time
	lastAttempt time.Time
	lastUsed    time.Time
}

// NewPool returns a pool. Close cancels the downloads in flight.
func NewPool(opts PoolOptions) *Pool {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.PerHost <= 0 {
		opts.PerHost = DefaultPerHostFetches
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Retry <= 0 {
		opts.Retry = DefaultRetry
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultFetchTimeout
	}
	if opts.ForgetAfter <= 0 {
		opts.ForgetAfter = DefaultForgetAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	root, stop := context.WithCancel(parent)
	return &Pool{opts: opts, root: root, stop: stop,
		entries: map[string]*poolEntry{}, limit: hostlimit.New(opts.PerHost)}
}

// Close cancels downloads in flight; later Gets still answer from the cache.
func (p *Pool) Close() { p.stop() }

// Snapshot is what the pool knows of one CRL for one issuer. It is never
// modified after Get returns.
type Snapshot struct {
	URL string
	// Fetch is the latest attempt; nil only when the caller gave up
	// before the first attempt finished (then Problems says so).
	Fetch *FetchResult
	// CRL is the last good copy, nil when there never was one. It may be
	// older than Fetch when the latest attempt failed.
	CRL *CRL
	// LastGood is when CRL was last downloaded or confirmed by a 304.
	LastGood time.Time
	// Problems are the latest attempt's problems, or the caller's own
	// cancellation; the copy's are in CRL.Verdict.
	Problems []Problem
}

// Up is true when the latest attempt gave a usable copy.
func (s *Snapshot) Up() bool { return s.CRL != nil && len(s.Problems) == 0 }

// Check judges cert against the snapshot at now: the latest attempt's
// problems, then the copy's verdict. Trusted, Listed and RevokedAt speak
// of the copy alone: when the latest attempt failed, the last good copy
// still speaks while it is inside its own validity window, as any CRL
// cache would use it, and Problems carry the failed attempt beside it
// (with LastGood for its age). Past its NextUpdate the copy is stale and
// says nothing. With no copy there is no verdict, only the attempt's
// problems.
func (s *Snapshot) Check(cert *x509.Certificate, now time.Time, skew time.Duration) CertStatus {
	if s.CRL == nil {
		return CertStatus{Verdict: Verdict{Problems: append([]Problem(nil), s.Problems...)}, ReasonCode: NoReasonCode}
	}
	st := s.CRL.Check(cert, now, skew)
	st.Problems = append(append([]Problem(nil), s.Problems...), st.Problems...)
	return st
}

// Get returns the CRL at rawURL as verified against issuer, downloading it
// when no copy is held or the held one is due. Concurrent Gets of one CRL
// share one download, which runs under the pool's own context and timeout:
// a caller that gives up gets its own answer and leaves the download, and
// its cache entry, untouched.
//
// The cache key is the URL and the issuer's key, so a target that names
// the wrong issuer for a URL cannot make another target's copy untrusted.
func (p *Pool) Get(ctx context.Context, rawURL string, issuer *x509.Certificate) *Snapshot {
	key := cacheKey(rawURL, issuer)
	if snap, due := p.lookup(key, rawURL); !due {
		return snap
	}
	ch := p.flights.DoChan(key, func() (any, error) {
		return p.fetch(ctx, key, rawURL, issuer), nil
	})
	select {
	case r := <-ch:
		return r.Val.(*Snapshot)
	case <-ctx.Done():
		snap, _ := p.lookup(key, rawURL)
		snap.Problems = append(snap.Problems, Problem{ReasonTimeout, "gave up waiting for the shared download: " + ctx.Err().Error()})
		return snap
	}
}

func cacheKey(rawURL string, issuer *x509.Certificate) string {
	if issuer == nil {
		return rawURL + "\x00"
	}
	sum := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return rawURL + "\x00" + string(sum[:]) + string(issuer.RawSubject)
}

// lookup returns the current snapshot for key and whether a download is due.
func (p *Pool) lookup(key, rawURL string) (*Snapshot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	p.pruneLocked(now)
	e, ok := p.entries[key]
	if !ok {
		return &Snapshot{URL: rawURL}, true
	}
	e.lastUsed = now
	return e.snapshot(rawURL), p.dueLocked(e, now)
}

func (p *Pool) dueLocked(e *poolEntry, now time.Time) bool {
	sinceAttempt := now.Sub(e.lastAttempt)
	switch {
	case e.last == nil:
		return true
	case !e.last.Up():
		return sinceAttempt >= p.opts.Retry
	case !e.good.info.NextUpdate.IsZero() && !now.Before(e.good.info.NextUpdate):
		return sinceAttempt >= p.opts.Retry
	}
	return now.Sub(e.lastGood) >= p.opts.Refresh
}

func (e *poolEntry) snapshot(rawURL string) *Snapshot {
	s := &Snapshot{URL: rawURL, Fetch: e.last, CRL: e.good, LastGood: e.lastGood}
	if e.last != nil {
		s.Problems = append([]Problem(nil), e.last.Problems...)
	}
	return s
}

// pruneLocked forgets CRLs nobody asked for in ForgetAfter.
func (p *Pool) pruneLocked(now time.Time) {
	if now.Sub(p.pruned) < p.opts.Refresh/pruneEveryRefreshShare {
		return
	}
	p.pruned = now
	for k, e := range p.entries {
		if now.Sub(e.lastUsed) > p.opts.ForgetAfter {
			delete(p.entries, k)
		}
	}
}

// fetch runs one shared download. Its context keeps the first caller's
// values (for tracing) but none of its cancellation; the pool's timeout
// and Close bound it instead.
func (p *Pool) fetch(caller context.Context, key, rawURL string, issuer *x509.Certificate) *Snapshot {
	ctx := context.WithoutCancel(caller)
	if p.opts.Scope != nil {
		ctx = p.opts.Scope(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	stopOnClose := context.AfterFunc(p.root, cancel)
	defer stopOnClose()

	p.mu.Lock()
	var previous *CRL
	if e, ok := p.entries[key]; ok {
		// A caller that found the copy due may join only after the
		// download it was due for has finished; it gets that download.
		if !p.dueLocked(e, p.opts.Now()) {
			snap := e.snapshot(rawURL)
			p.mu.Unlock()
			return snap
		}
		previous = e.good
	}
	p.mu.Unlock()

	opts := FetchOptions{Issuer: issuer, MaxBytes: p.opts.MaxBytes, UserAgent: p.opts.UserAgent, Now: p.opts.Now, Previous: previous}
	var res *FetchResult
	if release, err := p.limit.Acquire(ctx, rawURL); err == nil {
		res = Fetch(ctx, p.opts.Client, rawURL, opts)
		release()
	} else {
		res = &FetchResult{URL: rawURL, FetchedAt: p.opts.Now(),
			Problems: []Problem{{ReasonTimeout, "waiting for a free slot for this host: " + err.Error()}}}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	now := p.opts.Now()
	e, ok := p.entries[key]
	if !ok {
		e = &poolEntry{lastUsed: now}
		p.entries[key] = e
	}
	e.last, e.lastAttempt = res, now
	if res.Up() {
		e.good, e.lastGood = res.CRL, now
	}
	return e.snapshot(rawURL)
}

// Stats is a view of the pool's cost.
type Stats struct {
	// CRLs is the number of copies held.
	CRLs int
	// RetainedBytes is what the held copies keep on the heap.
	RetainedBytes int64
	// Fetches counts download attempts since the pool was made,
	// conditional ones included.
	Fetches int64
}

// Stats reports the pool's cost now.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Fetches: p.fetches}
	seen := map[*CRL]bool{}
	for _, e := range p.entries {
		if e.good != nil && !seen[e.good] {
			seen[e.good] = true
			s.CRLs++
			s.RetainedBytes += e.good.RetainedBytes()
		}
	}
	return s
}

package crl

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func newTestPool(clock *testpki.Clock, opts PoolOptions) *Pool {
	opts.Client = freshClient()
	opts.Now = clock.Now
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	return NewPool(opts)
}

// TestPoolSharesOneFetch holds the server's answer until every caller is
// waiting: all of them must share the one request.
func TestPoolSharesOneFetch(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/shared.crl", p.goodCRL(t), http.StatusOK, `"v1"`)
	hold := make(chan struct{})
	srv.setHold(hold)
	pool := newTestPool(testpki.NewClock(now), PoolOptions{})
	defer pool.Close()

	const callers = 50
	snaps := make([]*Snapshot, callers)
	var started, done sync.WaitGroup
	for i := range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			snaps[i] = pool.Get(context.Background(), url, p.inter.Cert)
		}()
	}
	started.Wait()
	waitFor(t, func() bool { return srv.requests.Load() == 1 })
	// Callers that have not reached the flight yet would still be served
	// from the cache; give them time to join the flight first.
	time.Sleep(50 * time.Millisecond)
	close(hold)
	done.Wait()
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d callers made %d requests, want 1", callers, n)
	}
	for i, s := range snaps {
		if !s.Up() || s.CRL != snaps[0].CRL {
			t.Fatalf("caller %d: up %v, same copy %v, problems %v", i, s.Up(), s.CRL == snaps[0].CRL, s.Problems)
		}
		if st := s.Check(p.revokedLeaf.Cert, now, skew); !st.Trusted || !st.Listed {
			t.Fatalf("caller %d: %+v", i, st)
		}
	}
	if st := pool.Stats(); st.Fetches != 1 || st.CRLs != 1 || st.RetainedBytes <= 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPoolOneFetchPerRefresh has many targets ask at once in each of
// several refresh periods. A caller that saw the copy due but joined after
// the shared download finished must not start a second one.
func TestPoolOneFetchPerRefresh(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/periods.crl", p.goodCRL(t), http.StatusOK, `"v1"`)
	clock := testpki.NewClock(now)
	pool := newTestPool(clock, PoolOptions{Refresh: time.Hour})
	defer pool.Close()
	const periods, callers = 10, 200
	for range periods {
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s := pool.Get(context.Background(), url, p.inter.Cert); !s.Up() {
					t.Errorf("get: %v", s.Problems)
				}
			}()
		}
		wg.Wait()
		clock.Advance(time.Hour)
	}
	if got := srv.requests.Load(); got != periods {
		t.Errorf("%d requests in %d refresh periods, want one each", got, periods)
	}
}

// TestPoolCallerCancellationNotShared cancels the first caller while the
// download is held: it gets its own timeout, and the download goes on for
// the next caller and for the cache.
func TestPoolCallerCancellationNotShared(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/cancel.crl", p.goodCRL(t), http.StatusOK, "")
	hold := make(chan struct{})
	srv.setHold(hold)
	pool := newTestPool(testpki.NewClock(now), PoolOptions{})
	defer pool.Close()

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan *Snapshot)
	go func() { first <- pool.Get(ctx, url, p.inter.Cert) }()
	waitFor(t, func() bool { return srv.requests.Load() == 1 })
	cancel()
	got := <-first
	if reasons := reasonsOf(got.Problems); !slices.Equal(reasons, []Reason{ReasonTimeout}) || got.CRL != nil {
		t.Fatalf("cancelled caller: reasons %v copy %v", reasons, got.CRL != nil)
	}
	second := make(chan *Snapshot)
	go func() { second <- pool.Get(context.Background(), url, p.inter.Cert) }()
	close(hold)
	if s := <-second; !s.Up() || len(s.Problems) != 0 {
		t.Fatalf("the next caller inherited the cancellation: %v", s.Problems)
	}
	if s := pool.Get(context.Background(), url, p.inter.Cert); !s.Up() {
		t.Errorf("the cache holds %v", s.Problems)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1: the cancelled caller's download should have been shared", n)
	}
}

// TestPoolRefreshAndOutage walks one URL through a refresh answered 304,
// an outage that keeps the last good copy, and that copy going stale.
func TestPoolRefreshAndOutage(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/refresh.crl", p.goodCRL(t), http.StatusOK, `"v1"`)
	clock := testpki.NewClock(now)
	pool := newTestPool(clock, PoolOptions{Refresh: time.Hour, Retry: time.Minute})
	defer pool.Close()
	get := func() *Snapshot { return pool.Get(context.Background(), url, p.inter.Cert) }

	first := get()
	if !first.Up() || !first.LastGood.Equal(now) {
		t.Fatalf("first: %+v", first)
	}
	clock.Advance(30 * time.Minute)
	if get(); srv.requests.Load() != 1 {
		t.Fatalf("a copy younger than Refresh was fetched again (%d requests)", srv.requests.Load())
	}

	clock.Advance(30 * time.Minute)
	refreshed := get()
	if srv.notModified.Load() != 1 || !refreshed.Up() || !refreshed.Fetch.NotModified || refreshed.CRL != first.CRL || !refreshed.LastGood.Equal(clock.Now()) {
		t.Fatalf("refresh: 304s %d, up %v, not modified %v, same copy %v, last good %s", srv.notModified.Load(), refreshed.Up(), refreshed.Fetch.NotModified, refreshed.CRL == first.CRL, refreshed.LastGood)
	}

	srv.put("/refresh.crl", nil, http.StatusServiceUnavailable, "")
	clock.Advance(time.Hour)
	lastGood := clock.Now().Add(-time.Hour)
	outage := get()
	if reasons := reasonsOf(outage.Problems); !slices.Equal(reasons, []Reason{ReasonHTTPStatus}) || outage.Up() {
		t.Fatalf("outage: reasons %v up %v", reasons, outage.Up())
	}
	if outage.CRL != first.CRL || !outage.LastGood.Equal(lastGood) || outage.Fetch.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("outage dropped the last good copy or its age: copy kept %v, last good %s, want %s", outage.CRL == first.CRL, outage.LastGood, lastGood)
	}
	// The copy is still inside its own window, so it still speaks.
	st := outage.Check(p.revokedLeaf.Cert, clock.Now(), skew)
	if !st.Listed || !slices.Equal(reasonsOf(st.Problems), []Reason{ReasonHTTPStatus, ReasonRevoked}) {
		t.Errorf("outage check: %+v", st)
	}

	before := srv.requests.Load()
	clock.Advance(30 * time.Second)
	if get(); srv.requests.Load() != before {
		t.Error("a failed CRL was fetched again within the retry interval")
	}

	// Past NextUpdate the copy is stale: no verdict is invented.
	clock.Set(now.Add(23 * time.Hour))
	stale := get()
	st = stale.Check(p.revokedLeaf.Cert, clock.Now(), skew)
	if st.Trusted || st.Listed || !slices.Equal(reasonsOf(st.Problems), []Reason{ReasonHTTPStatus, ReasonStale}) || stale.CRL != first.CRL {
		t.Errorf("stale outage check: %+v", st)
	}

	// Nobody asks for a day: the copy is forgotten.
	clock.Advance(DefaultForgetAfter + time.Minute)
	if s := pool.Get(context.Background(), srv.URL+"/other.crl", p.inter.Cert); s.CRL != nil {
		t.Fatal("an unknown URL has a copy")
	}
	if st := pool.Stats(); st.CRLs != 0 || st.RetainedBytes != 0 {
		t.Errorf("a CRL nobody asked for in a day is still held: %+v", st)
	}
}

// TestPoolNeverFetchedHasNoVerdict: with no copy ever, there is nothing
// to say about the certificate.
func TestPoolNeverFetchedHasNoVerdict(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	pool := newTestPool(testpki.NewClock(now), PoolOptions{})
	defer pool.Close()
	s := pool.Get(context.Background(), srv.URL+"/absent.crl", p.inter.Cert)
	st := s.Check(p.leaf.Cert, now, skew)
	if s.CRL != nil || !s.LastGood.IsZero() || st.Trusted || st.Listed || !slices.Equal(reasonsOf(st.Problems), []Reason{ReasonHTTPStatus}) {
		t.Errorf("snapshot %+v status %+v", s, st)
	}
}

// TestPoolPerHostCap serves two CRLs from two ports of 127.0.0.1: the cap
// is per host, so with one slot they are fetched one at a time.
func TestPoolPerHostCap(t *testing.T) {
	p := testPKI(t)
	a, b := newCRLServer(t), newCRLServer(t)
	b.inFlight, b.maxInFlight = a.inFlight, a.maxInFlight
	der := p.goodCRL(t)
	urls := []string{a.put("/a.crl", der, http.StatusOK, ""), b.put("/b.crl", der, http.StatusOK, ""), a.put("/c.crl", der, http.StatusOK, "")}
	hold := make(chan struct{})
	a.setHold(hold)
	b.setHold(hold)
	pool := newTestPool(testpki.NewClock(now), PoolOptions{PerHost: 1})
	defer pool.Close()
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s := pool.Get(context.Background(), u, p.inter.Cert); !s.Up() {
				t.Errorf("%s: %v", u, s.Problems)
			}
		}()
	}
	waitFor(t, func() bool { return a.requests.Load()+b.requests.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	close(hold)
	wg.Wait()
	if got := a.maxInFlight.Load(); got != 1 {
		t.Errorf("%d downloads ran at once on one host, want 1", got)
	}
	if got := a.requests.Load() + b.requests.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

// TestPoolKeysByIssuer: a target naming the wrong issuer for a URL gets
// its own, untrusted copy and leaves the right one trusted.
func TestPoolKeysByIssuer(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/keyed.crl", p.goodCRL(t), http.StatusOK, "")
	pool := newTestPool(testpki.NewClock(now), PoolOptions{})
	defer pool.Close()
	wrong := pool.Get(context.Background(), url, p.impostor.Cert)
	right := pool.Get(context.Background(), url, p.inter.Cert)
	if wrong.CRL.Verdict(now, skew).Trusted || !right.CRL.Verdict(now, skew).Trusted {
		t.Errorf("wrong issuer trusted %v, right issuer trusted %v", wrong.CRL.Verdict(now, skew).Trusted, right.CRL.Verdict(now, skew).Trusted)
	}
}

// TestPoolCloseCancelsDownloads: shutdown stops a shared download, which
// no caller's context could.
func TestPoolCloseCancelsDownloads(t *testing.T) {
	p := testPKI(t)
	srv := newCRLServer(t)
	url := srv.put("/close.crl", p.goodCRL(t), http.StatusOK, "")
	hold := make(chan struct{})
	defer close(hold)
	srv.setHold(hold)
	pool := newTestPool(testpki.NewClock(now), PoolOptions{Timeout: time.Minute})
	got := make(chan *Snapshot)
	go func() { got <- pool.Get(context.Background(), url, p.inter.Cert) }()
	waitFor(t, func() bool { return srv.requests.Load() == 1 })
	pool.Close()
	select {
	case s := <-got:
		if reasons := reasonsOf(s.Problems); !slices.Equal(reasons, []Reason{ReasonTimeout}) || s.CRL != nil {
			t.Errorf("after Close: reasons %v copy %v", reasons, s.CRL != nil)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the download")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

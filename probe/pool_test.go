package probe

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestPoolCallerCancellationIsNeitherSharedNorCached: a /probe caller that
// hangs up while a shared query is in flight gives up alone; the
// scheduled caller sharing the flight gets the real answer, and so does
// the next run, from the cache.
func TestPoolCallerCancellationIsNeitherSharedNorCached(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(300 * time.Millisecond)
	pool := NewResponderPool(context.Background(), testClient(), 2, time.Minute, frozen)
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Policy: VerifyPolicy{Skew: DefaultSkew}, Timeout: 5 * time.Second}

	impatient, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var scheduled *ResponderResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Join the flight the impatient caller leads.
		time.Sleep(10 * time.Millisecond)
		scheduled = pool.Query(context.Background(), req)
	}()
	first := pool.Query(impatient, req)
	wg.Wait()
	if !hasReason(first.Problems, ReasonResponderTimeout) || first.Cached {
		t.Errorf("the impatient caller: problems %v cached %v; want responder_timeout, not cached", first.Problems, first.Cached)
	}
	if len(scheduled.Problems) != 0 || !scheduled.Up {
		t.Errorf("the caller sharing the flight got the impatient caller's cancellation: %v", scheduled.Problems)
	}
	next := pool.Query(context.Background(), req)
	if !next.Cached || len(next.Problems) != 0 || len(resp.Queries()) != 1 {
		t.Errorf("the next run: cached %v problems %v, %d requests; want the cached good answer from 1 request", next.Cached, next.Problems, len(resp.Queries()))
	}
}

// TestPoolSharedQueryOutlivesEveryCaller: even when the only caller hangs
// up, the flight finishes under the pool's timeout and its answer is
// cached for later callers.
func TestPoolSharedQueryOutlivesEveryCaller(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(100 * time.Millisecond)
	pool := NewResponderPool(context.Background(), testClient(), 2, time.Minute, frozen)
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if r := pool.Query(ctx, req); !hasReason(r.Problems, ReasonResponderTimeout) {
		t.Fatalf("problems %v", r.Problems)
	}
	var cached *ResponderResult
	proc.WaitFor(t, 5*time.Second, "the abandoned flight's answer to be cached", func() bool {
		cached = pool.cached(mustKey(t, req))
		return cached != nil
	})
	if !cached.Up || len(cached.transport) != 0 {
		t.Errorf("cached %+v", cached)
	}
}

func TestPoolLeaderIsNotReportedCached(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(100 * time.Millisecond)
	pool := NewResponderPool(context.Background(), testClient(), 2, time.Minute, frozen)
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert}
	results := make([]*ResponderResult, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = pool.Query(context.Background(), req) }()
	}
	wg.Wait()
	fresh := 0
	for _, r := range results {
		if !r.Cached {
			fresh++
		}
	}
	if fresh != 1 || len(resp.Queries()) != 1 {
		t.Errorf("%d of 4 callers report a fresh answer from %d requests; want exactly the leader's 1", fresh, len(resp.Queries()))
	}
}

// TestPoolNonceQueriesAreNeverShared: a nonce's echo verdict belongs to
// the request that carried it, so nonce queries bypass cache and flight.
func TestPoolNonceQueriesAreNeverShared(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(50 * time.Millisecond)
	pool := NewResponderPool(context.Background(), testClient(), 4, time.Minute, frozen)
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Nonce: true, RequireNonce: true}
	results := make([]*ResponderResult, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = pool.Query(context.Background(), req) }()
	}
	wg.Wait()
	results = append(results, pool.Query(context.Background(), req))
	if n := len(resp.Queries()); n != len(results) {
		t.Errorf("%d nonce queries sent %d requests, want one each", len(results), n)
	}
	for _, r := range results {
		if r.Cached || r.Nonce != NonceEchoed {
			t.Errorf("cached %v nonce %s; want a fresh, echoed answer", r.Cached, r.Nonce)
		}
	}
}

func mustKey(t *testing.T, req ResponderRequest) string {
	t.Helper()
	key, ok := queryKey(req.withDefaults())
	if !ok {
		t.Fatal("no key")
	}
	return key
}

// TestPoolDoesNotCacheATimeout: one target's short patience is not the
// responder's fault; the next run asks again.
func TestPoolDoesNotCacheATimeout(t *testing.T) {
	pool := NewResponderPool(context.Background(), testClient(), 2, time.Minute, frozen)
	timedOut := &ResponderResult{URL: "http://r.test/", FetchedAt: now}
	timedOut.addTransport(ReasonResponderTimeout, "context deadline exceeded")
	pool.store("timed-out", timedOut)
	answered := &ResponderResult{URL: "http://r.test/", FetchedAt: now, Up: true}
	pool.store("answered", answered)
	if pool.cached("timed-out") != nil || pool.cached("answered") == nil {
		t.Errorf("cached: timed-out %v, answered %v; want only the answer", pool.cached("timed-out") != nil, pool.cached("answered") != nil)
	}
}

package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// retainFleet is a loopback fleet shaped like the agent's: one stapling
// server answering many SNI names, each name a target of its own, with
// `leaves` distinct leaves (and staples) shared round-robin, and one
// responder the leaves name.
type retainFleet struct {
	addr      string
	responder *testpki.Responder
	ln        net.Listener
	wg        sync.WaitGroup
	roots     *testpki.Cert
}

const retainDomain = "mem.ocspwatch.test"

func startRetainFleet(tb testing.TB, leaves int) *retainFleet {
	tb.Helper()
	p := testPKI(tb)
	f := &retainFleet{roots: p.root}
	f.responder = testpki.NewResponder(func(q testpki.Query) []byte {
		if q.Serial == nil {
			return nil
		}
		e := testpki.Entry{Serial: q.Serial, Issuer: p.inter.Cert, Status: testpki.Good, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(23 * time.Hour)}
		return testpki.Response{Entries: []testpki.Entry{e}, ProducedAt: now.Add(-time.Hour), Signer: p.delegated, Embed: true, Nonce: q.Nonce}.MustDER()
	})
	tb.Cleanup(f.responder.Close)
	certs := make([]*tls.Certificate, leaves)
	for i := range certs {
		leaf, err := p.inter.NewLeaf(testpki.LeafOptions{DNSNames: []string{"*." + retainDomain}, OCSPServers: []string{f.responder.URL}})
		if err != nil {
			tb.Fatal(err)
		}
		staple := testpki.Response{
			Entries:    []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(71*time.Hour))},
			ProducedAt: now.Add(-time.Hour), Signer: p.delegated, Embed: true,
		}.MustDER()
		certs[i] = &tls.Certificate{Certificate: leaf.ChainDER(), PrivateKey: leaf.Key, OCSPStaple: staple, Leaf: leaf.Cert}
	}
	cfg := &tls.Config{SessionTicketsDisabled: true, GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		i, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(hello.ServerName, "."+retainDomain), "t"))
		return certs[i%len(certs)], nil
	}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f.ln, f.addr = ln, ln.Addr().String()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				if conn.(*tls.Conn).Handshake() == nil {
					_, _ = io.Copy(io.Discard, conn)
				}
			}()
		}
	}()
	tb.Cleanup(func() { _ = ln.Close(); f.wg.Wait() })
	return f
}

// runFleet runs targets 0..n-1 once each, as the scheduler does, with
// the agent's shared caches, and keeps each report, compact or not.
func (f *retainFleet) runFleet(tb testing.TB, n int, cache *VerifyCache, certs *CertInterner, pool *ResponderPool, compact bool) []*Report {
	tb.Helper()
	out := make([]*Report, n)
	pinned := f.roots.Pool()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				spec := TargetSpec{
					Name: fmt.Sprintf("t%06d", i),
					Staple: &StapleRequest{Endpoint: f.addr, ServerName: fmt.Sprintf("t%06d.%s", i, retainDomain), Roots: pinned,
						Cache: cache, Interner: certs},
					QueryResponder: true, RequireStaple: RequireAuto, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew},
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				rep := RunTarget(ctx, spec, pool)
				cancel()
				if !rep.Success {
					tb.Errorf("target %d: %v", i, rep.Failures)
				}
				if compact {
					rep = rep.Compact(certs)
				}
				out[i] = rep
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// writeRetainProfile writes the live heap to $RETAIN_PROFILE_DIR/name.pprof
// when that is set, for finding what a retained report holds.
func writeRetainProfile(tb testing.TB, name string) {
	dir := os.Getenv("RETAIN_PROFILE_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkRetainedPerTarget measures what the agent keeps per target
// between runs: the live heap after GC of n targets' last reports, with
// the caches a scheduler shares between them, divided by n. "shared" is
// ocspwatch-bench's fleet (every target serves one leaf and staple),
// "distinct" a fleet where each target has a certificate of its own.
// full keeps reports as RunTarget returns them; compact as the
// scheduler stores them.
func BenchmarkRetainedPerTarget(b *testing.B) {
	const n = 1000
	for _, leaves := range []struct {
		name string
		n    int
	}{{"shared", 1}, {"distinct", n}} {
		for _, form := range []struct {
			name    string
			compact bool
		}{{"full", false}, {"compact", true}} {
			b.Run(leaves.name+"/"+form.name, func(b *testing.B) {
				f := startRetainFleet(b, leaves.n)
				var perTarget float64
				for b.Loop() {
					pool := NewResponderPool(context.Background(), testClient(), 64, time.Hour, frozen)
					cache, certs := NewVerifyCache(0), NewCertInterner()
					before := liveHeap()
					reps := f.runFleet(b, n, cache, certs, pool, form.compact)
					after := liveHeap()
					writeRetainProfile(b, leaves.name+"-"+form.name)
					perTarget = (float64(after) - float64(before)) / n
					runtime.KeepAlive(reps)
					runtime.KeepAlive(cache)
					runtime.KeepAlive(certs)
					runtime.KeepAlive(pool)
				}
				b.ReportMetric(perTarget, "B/target")
			})
		}
	}
}

// TestCompactDropsOnlyBytesAndCertificates: a compact report equals the
// full one but for the parsed certificates and the raw bytes, and leaves
// the full report as it was.
func TestCompactDropsOnlyBytesAndCertificates(t *testing.T) {
	f := startRetainFleet(t, 1)
	certs := NewCertInterner()
	// No re-query cache: the answer carries its bytes.
	pool := NewResponderPool(context.Background(), testClient(), 0, 0, frozen)
	full := f.runFleet(t, 1, NewVerifyCache(0), certs, pool, false)[0]
	if full.Leaf == nil || full.Endpoints[0].StapleDER == nil || full.Responders[0].DER == nil {
		t.Fatal("the full report lacks the certificates or bytes this test is about")
	}
	before := *full.Endpoints[0]
	compact := full.Compact(certs)

	want := *full
	want.Leaf = nil
	e := *full.Endpoints[0]
	e.Leaf, e.Chain, e.Issuer, e.Path, e.StapleDER = nil, nil, nil, nil, nil
	want.Endpoints = []*StapleResult{&e}
	r := *full.Responders[0]
	r.DER = nil
	want.Responders = []*ResponderResult{&r}
	if !reflect.DeepEqual(compact, &want) {
		t.Errorf("compact report:\n%+v\nwant:\n%+v", compact, &want)
	}
	if !reflect.DeepEqual(*full.Endpoints[0], before) || full.Leaf == nil || full.Responders[0].DER == nil {
		t.Error("Compact changed the full report")
	}
}

// TestCompactReportsShareAnswers: targets served the same staple and
// answered by the same responder query keep one verification and one
// compact answer between them, not one each.
func TestCompactReportsShareAnswers(t *testing.T) {
	f := startRetainFleet(t, 1)
	certs := NewCertInterner()
	pool := NewResponderPool(context.Background(), testClient(), 0, time.Hour, frozen)
	reps := f.runFleet(t, 4, NewVerifyCache(0), certs, pool, true)
	// One target fetched the answer; the others were served it.
	var served *ResponderResult
	for i, rep := range reps {
		if rep.Endpoints[0].Staple != reps[0].Endpoints[0].Staple {
			t.Errorf("target %d keeps a staple verification of its own", i)
		}
		if r := rep.Responders[0]; r.Cached {
			if served == nil {
				served = r
			} else if r != served {
				t.Errorf("target %d keeps a responder answer of its own", i)
			}
		}
		if rep.Cert != reps[0].Cert || len(rep.Chain) != 2 || rep.Chain[0] != reps[0].Chain[0] || rep.Chain[1] != reps[0].Chain[1] {
			t.Errorf("target %d keeps certificate facts of its own", i)
		}
	}
}

// TestAtSharesAnUnchangedVerdict: judging a verification again hands
// back the same value while its verdict holds, and a new one, leaving
// the old as it was, once time changes it.
func TestAtSharesAnUnchangedVerdict(t *testing.T) {
	p := testPKI(t)
	v := verifyResponse(good(p.leaf), p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{Skew: DefaultSkew})
	if !v.Valid || v.At(now.Add(time.Hour)) != v {
		t.Fatalf("valid %v; a valid verdict judged again an hour later is a new value", v.Valid)
	}
	later := v.At(now.Add(80 * time.Hour))
	if later == v || later.Valid || later.failure != failExpired || !v.Valid || v.failure != failNone {
		t.Errorf("after NextUpdate: same value %v, valid %v, failure %q; original valid %v", later == v, later.Valid, later.failure, v.Valid)
	}
	r := (&ResponderResult{URL: "http://r.test/", Response: v}).At(now)
	if r.At(now.Add(time.Hour)) != r {
		t.Error("a responder result judged again with the same verdict is a new value")
	}
	if expired := r.At(now.Add(80 * time.Hour)); expired == r || !hasReason(expired.Problems, ReasonResponseExpired) || len(r.Problems) != 0 {
		t.Errorf("after NextUpdate: problems %v, original's %v", expired.Problems, r.Problems)
	}
}

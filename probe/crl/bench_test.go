package crl

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// go test -run '^$' -bench . -benchtime 5x ./probe/crl prints the CRL
// figures the closing notes quote. The big CRL is generated once per test
// binary and never written to disk.

// bigCRL is a CRL of the test intermediate with entries random 20-byte
// serials (a quarter with a reasonCode) plus the revoked leaf's serial.
type bigCRL struct {
	der     []byte
	entries int
}

var (
	bigCRLs   = map[int]*bigCRL{}
	bigCRLsMu sync.Mutex
)

// bigCRLFor builds the CRL with n entries once per test binary: it is
// signed once, and encoding half a million entries takes well under a
// second.
func bigCRLFor(t testing.TB, n int) *bigCRL {
	t.Helper()
	p := testPKI(t)
	bigCRLsMu.Lock()
	defer bigCRLsMu.Unlock()
	if c, ok := bigCRLs[n]; ok {
		return c
	}
	c := &bigCRL{der: handCRL(t, p.inter, now.Add(-time.Hour), now.Add(23*time.Hour), n, p.revokedLeaf.Cert.SerialNumber), entries: n + 1}
	bigCRLs[n] = c
	return c
}

const (
	entries2MB  = 50_000
	entries20MB = 500_000
)

// heapCost is what parsing one CRL costs in memory.
type heapCost struct {
	// peak bounds the live heap during the parse from above: the DER
	// plus everything Parse allocated, measured with the collector off so
	// nothing allocated is ever freed and missed.
	peak uint64
	// retained is the live heap the parsed CRL holds after a collection.
	retained uint64
}

// measureParse parses der with the garbage collector off. It must not run
// in parallel with other tests, whose allocations would count too.
func measureParse(t testing.TB, der []byte, issuer *x509.Certificate) (*CRL, heapCost) {
	t.Helper()
	var before, after, kept runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	old := debug.SetGCPercent(-1)
	c, err := Parse(der, issuer)
	runtime.ReadMemStats(&after)
	debug.SetGCPercent(old)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&kept)
	runtime.KeepAlive(der)
	runtime.KeepAlive(c)
	return c, heapCost{
		peak:     uint64(len(der)) + after.TotalAlloc - before.TotalAlloc,
		retained: kept.HeapAlloc - min(kept.HeapAlloc, before.HeapAlloc),
	}
}

// TestParseMemoryBound parses a 2 MB, 50,000-entry CRL and holds the
// issue's bound: the heap stays under three times the CRL's size while
// parsing. The benchmark shows the same at 20 MB.
func TestParseMemoryBound(t *testing.T) {
	p := testPKI(t)
	big := bigCRLFor(t, entries2MB)
	c, cost := measureParse(t, big.der, p.inter.Cert)
	size := uint64(len(big.der))
	t.Logf("CRL %d bytes, %d entries: peak ≤ %d bytes (%.2f×), retained %d bytes (estimate %d)",
		size, big.entries, cost.peak, float64(cost.peak)/float64(size), cost.retained, c.RetainedBytes())
	if cost.peak >= 3*size {
		t.Errorf("parsing peaked at %d bytes, over three times the CRL's %d", cost.peak, size)
	}
	if cost.retained >= size {
		t.Errorf("the parsed CRL retains %d bytes, more than the %d-byte CRL itself", cost.retained, size)
	}
	if st := c.Check(p.revokedLeaf.Cert, now, skew); !st.Trusted || !st.Listed || c.Info().Entries != big.entries {
		t.Errorf("entries %d, status %+v", c.Info().Entries, st)
	}
}

// BenchmarkParse20MB is Parse alone on the 20 MB CRL, against
// x509.ParseRevocationList on the same bytes, the route not taken.
func BenchmarkParse20MB(b *testing.B) {
	p := testPKI(b)
	big := bigCRLFor(b, entries20MB)
	size := float64(len(big.der))
	b.Run("crl.Parse", func(b *testing.B) {
		_, cost := measureParse(b, big.der, p.inter.Cert)
		// The bound, held at full size: scripts/test.sh runs this
		// benchmark once, so every test run parses the 20 MB CRL.
		if float64(cost.peak) >= 3*size {
			b.Errorf("parsing peaked at %d bytes, over three times the CRL's %.0f", cost.peak, size)
		}
		b.SetBytes(int64(len(big.der)))
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			if _, err := Parse(big.der, p.inter.Cert); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
		b.ReportMetric(float64(cost.peak)/size, "peak/size")
		b.ReportMetric(float64(cost.peak)/1e6, "peak-MB")
		b.ReportMetric(float64(cost.retained)/1e6, "retained-MB")
	})
	b.Run("x509.ParseRevocationList", func(b *testing.B) {
		var before, after, kept runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		old := debug.SetGCPercent(-1)
		rl, err := x509.ParseRevocationList(big.der)
		runtime.ReadMemStats(&after)
		debug.SetGCPercent(old)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&kept)
		runtime.KeepAlive(rl)
		peak := size + float64(after.TotalAlloc-before.TotalAlloc)
		b.SetBytes(int64(len(big.der)))
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			if _, err := x509.ParseRevocationList(big.der); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
		b.ReportMetric(peak/size, "peak/size")
		b.ReportMetric(peak/1e6, "peak-MB")
		b.ReportMetric(float64(kept.HeapAlloc-min(kept.HeapAlloc, before.HeapAlloc))/1e6, "retained-MB")
	})
}

// BenchmarkFetchParse20MB is one full download of the 20 MB CRL over
// loopback HTTP on a fresh connection, with the parse and the signature
// check, served with a Content-Length as a web server serves a file, and
// chunked with none. peak-MB bounds the heap of the whole fetch the same
// way as for Parse (the test server's own allocations count too).
func BenchmarkFetchParse20MB(b *testing.B) {
	for _, tc := range []struct {
		name          string
		unknownLength bool
	}{
		{"content-length", false},
		{"chunked", true},
	} {
		b.Run(tc.name, func(b *testing.B) { benchmarkFetchParse(b, tc.unknownLength) })
	}
}

func benchmarkFetchParse(b *testing.B, unknownLength bool) {
	p := testPKI(b)
	big := bigCRLFor(b, entries20MB)
	srv := newCRLServer(b)
	url := srv.putFile("/big.crl", servedFile{body: big.der, status: http.StatusOK, unknownLength: unknownLength})
	client := freshClient()
	fetch := func() *FetchResult {
		res := Fetch(context.Background(), client, url, FetchOptions{Issuer: p.inter.Cert, Now: frozen})
		if !res.Up() || res.CRL.Info().Entries != big.entries {
			b.Fatalf("fetch: %v", res.Problems)
		}
		return res
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	old := debug.SetGCPercent(-1)
	fetch()
	runtime.ReadMemStats(&after)
	debug.SetGCPercent(old)
	size := float64(len(big.der))
	peak := float64(after.TotalAlloc - before.TotalAlloc)

	b.SetBytes(int64(len(big.der)))
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		fetch()
	}
	cpu.report(b)
	b.ReportMetric(peak/size, "peak/size")
	b.ReportMetric(peak/1e6, "peak-MB")
}

// BenchmarkPool1000Targets is 1,000 targets whose leaves share one CRL
// URL (the 20 MB one), each checked once per refresh period. Every
// iteration is one refresh period: the pool's clock moves on by Refresh
// and all 1,000 targets ask at once.
func BenchmarkPool1000Targets(b *testing.B) {
	const targets = 1000
	p := testPKI(b)
	big := bigCRLFor(b, entries20MB)
	srv := newCRLServer(b)
	url := srv.put("/shared-big.crl", big.der, http.StatusOK, `"big-v1"`)
	leaves := make([]*x509.Certificate, targets)
	for i := range leaves {
		leaf, err := p.inter.NewLeaf(testpki.LeafOptions{CRLServers: []string{url}})
		if err != nil {
			b.Fatal(err)
		}
		leaves[i] = leaf.Cert
	}
	clock := testpki.NewClock(now)
	pool := newTestPool(clock, PoolOptions{Refresh: time.Hour})

	refresh := func() {
		var wg sync.WaitGroup
		for _, leaf := range leaves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := pool.Get(context.Background(), url, p.inter.Cert)
				if st := s.Check(leaf, clock.Now(), skew); !st.Trusted || st.Listed {
					panic(fmt.Sprintf("check: %+v", st.Problems))
				}
			}()
		}
		wg.Wait()
	}
	refresh() // the first, full download
	firstFetches := pool.Stats().Fetches
	b.ReportAllocs()
	periods := 0
	for b.Loop() {
		clock.Advance(time.Hour)
		refresh()
		periods++
	}
	stats := pool.Stats()
	// What the pool holds is the live heap with it less the live heap
	// once it is dropped.
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	pool.Close()
	pool = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	b.ReportMetric(float64(firstFetches), "first-fetches")
	b.ReportMetric(float64(stats.Fetches-firstFetches)/float64(periods), "fetches/refresh")
	b.ReportMetric(float64(srv.notModified.Load())/float64(periods), "304s/refresh")
	b.ReportMetric(float64(stats.RetainedBytes)/1e6, "pool-retained-MB")
	b.ReportMetric(float64(with.HeapAlloc-min(with.HeapAlloc, without.HeapAlloc))/1e6, "pool-heap-MB")
}

// cpuClock measures the process's CPU time (user and system, every
// goroutine, the collector's and a loopback server's included). The
// machine these benchmarks run on is shared, so wall time per operation
// says more about the neighbours than about the code; cpu-ms/op does not.
type cpuClock struct{ start time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: cpuTime()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(cpuTime()-c.start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

package probe

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// allocatedDuring reports how many bytes the process allocated while f
// ran; other goroutines count too, so bounds are set generously.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileCertificateURLList: a certificate listing a thousand OCSP
// URLs makes one run send at most MaxURLsPerCert requests, in bounded
// time and memory.
func TestHostileCertificateURLList(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	urls := make([]string, 1000)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/%d", resp.URL, i)
	}
	leaf, err := p.inter.NewLeaf(testpki.LeafOptions{OCSPServers: urls})
	if err != nil {
		t.Fatal(err)
	}
	var rep *Report
	start := time.Now()
	allocated := allocatedDuring(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rep = RunTarget(ctx, TargetSpec{Name: "many-urls", Leaf: leaf.Cert, Issuer: p.inter.Cert, QueryResponder: true, Now: frozen},
			NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
	})
	if n := len(resp.Queries()); n != MaxURLsPerCert || len(rep.Responders) != MaxURLsPerCert {
		t.Errorf("%d requests and %d responder results for 1,000 URLs, want %d", n, len(rep.Responders), MaxURLsPerCert)
	}
	if rep.Cert.IgnoredURLs != 1000-MaxURLsPerCert {
		t.Errorf("ignored %d URLs, want %d", rep.Cert.IgnoredURLs, 1000-MaxURLsPerCert)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %s", d)
	}
	if allocated > 32<<20 {
		t.Errorf("the run allocated %d MiB", allocated>>20)
	}
}

// TestHostileResponseShapes: responses built to cost the verifier as much
// as possible are judged in bounded time and memory.
func TestHostileResponseShapes(t *testing.T) {
	p := testPKI(t)
	manyCerts := make([]*testpki.Cert, maxEmbeddedCertificates+1)
	for i := range manyCerts {
		manyCerts[i] = p.foreignSigner
	}
	manyEntries := make([]testpki.Entry, 2000)
	for i := range manyEntries {
		manyEntries[i] = testpki.EntryFor(p.mustLeaf, testpki.Good, now, now.Add(time.Hour))
	}
	cases := []struct {
		name string
		der  []byte
		want Reason
	}{
		{name: "more embedded certificates than a responder needs", der: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.delegated, Embed: true, ExtraCerts: manyCerts}.MustDER(), want: ReasonStapleMalformed},
		{name: "2,000 SingleResponses for other certificates", der: testpki.Response{Entries: manyEntries, ProducedAt: now, Signer: p.inter}.MustDER(), want: ReasonStapleWrongCert},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v *Verification
			start := time.Now()
			allocated := allocatedDuring(func() { v = verifyResponse(tc.der, p.leaf.Cert, p.inter.Cert, now, VerifyPolicy{}) })
			got := v.problems(stapleReasons, ReasonStapleRevoked, ReasonStapleUnknown)
			if len(got) != 1 || got[0].Reason != tc.want {
				t.Errorf("problems %v, want %s", got, tc.want)
			}
			// Generous: the race detector on a loaded machine is slow; a
			// quadratic or unbounded walk would still blow far past it.
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("verification took %s", d)
			}
			if limit := uint64(20 * len(tc.der)); allocated > limit {
				t.Errorf("verification of %d bytes allocated %d bytes", len(tc.der), allocated)
			}
		})
	}
}

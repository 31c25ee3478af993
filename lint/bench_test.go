package lint

import (
	"bytes"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// A CI job lints a few bundles; a directory of a thousand must still take
// well under a second. The figures: time and allocations per bundle.

func benchBundle(b *testing.B) (*testpki.Cert, []byte) {
	b.Helper()
	root, err := testpki.NewRoot("Bench Root", testpki.ECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	inter, err := root.NewIntermediate("Bench Intermediate", testpki.RSA2048)
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := inter.NewLeaf(good())
	if err != nil {
		b.Fatal(err)
	}
	return leaf, bytes.Join([][]byte{leaf.PEM(), inter.PEM(), root.PEM(), leaf.KeyPEM()}, nil)
}

func BenchmarkParseBundle(b *testing.B) {
	_, data := benchBundle(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseBundle("fullchain.pem", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
}

func BenchmarkRun(b *testing.B) {
	_, data := benchBundle(b)
	bundle, err := ParseBundle("fullchain.pem", data)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Now: testpki.Epoch, Hosts: []string{"www.example.test"}, Warn: 30 * 24 * time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(bundle, opts); len(r.Findings) != 1 { // the root included
			b.Fatalf("findings %v", r.Findings)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
}

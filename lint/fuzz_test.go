package lint

import (
	"bytes"
	"testing"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// FuzzParseAndRun feeds arbitrary files through the whole offline lint:
// whatever a bundle holds, lint reports or errors, and never panics.
func FuzzParseAndRun(f *testing.F) {
	root, err := testpki.NewRoot("Fuzz Root", testpki.ECDSAP256)
	if err != nil {
		f.Fatal(err)
	}
	inter, err := root.NewIntermediate("Fuzz Intermediate", testpki.RSA2048)
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := inter.NewLeaf(good())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Join([][]byte{leaf.PEM(), inter.PEM(), root.PEM(), leaf.KeyPEM()}, nil))
	f.Add(bytes.Join([][]byte{inter.PEM(), leaf.PEM(), inter.KeyPEM()}, nil))
	f.Add(leaf.Cert.Raw)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle("fuzz.pem", data)
		if err != nil {
			return
		}
		r := Run(b, Options{Now: testpki.Epoch, Hosts: []string{"www.example.test"}, OnlineWanted: true})
		if r.Leaf == nil || r.Verdict() == "" {
			t.Fatalf("result %+v", r)
		}
	})
}

package crl

import (
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestRemoveFromCRLIsNotRevoked: an entry with the removeFromCRL reason
// says the certificate is no longer revoked.
func TestRemoveFromCRLIsNotRevoked(t *testing.T) {
	root, err := testpki.NewRoot("Remove Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Remove Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	held, err := inter.NewLeaf(testpki.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := inter.NewLeaf(testpki.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := testpki.Epoch
	der := inter.MustCRL([]testpki.CRLEntry{{Cert: held, At: at.Add(-time.Hour), ReasonCode: 8}, {Cert: revoked, At: at.Add(-time.Hour), ReasonCode: 1}},
		at.Add(-time.Hour), at.Add(time.Hour))
	c, err := Parse(der, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Check(held.Cert, at, 0); !st.Trusted || st.Listed {
		t.Errorf("removeFromCRL entry: trusted %v listed %v", st.Trusted, st.Listed)
	}
	if st := c.Check(revoked.Cert, at, 0); !st.Trusted || !st.Listed {
		t.Errorf("keyCompromise entry: trusted %v listed %v", st.Trusted, st.Listed)
	}
}

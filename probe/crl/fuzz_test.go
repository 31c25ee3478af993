package crl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to Parse, as a hostile distribution
// point could. It must never panic; whatever it trusts, the standard
// library must parse and verify too; and whatever both parse, they must
// read as the same entries.
func FuzzParse(f *testing.F) {
	p := testPKI(f)
	good := p.goodCRL(f)
	f.Add(good)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: good}))
	f.Add(handCRL(f, p.inter, now.Add(-time.Hour), now.Add(time.Hour), 20))
	f.Add(handCRL(f, p.inter, now.Add(-time.Hour), time.Time{}, 0))
	delta := p.crlTemplate()
	delta.ExtraExtensions = []pkix.Extension{deltaIndicator(1), idpExtension("http://127.0.0.1/x.crl", true)}
	f.Add(create(f, delta, p.inter.Cert, p.inter.Key))
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := Parse(der, p.inter.Cert)
		if err != nil {
			return
		}
		_ = c.Check(p.leaf.Cert, now, skew)
		_ = c.RetainedBytes()
		if block, _ := pem.Decode(der); block != nil {
			der = block.Bytes
		}
		trusted := c.Verdict(now, skew).Trusted
		rl, err := x509.ParseRevocationList(der)
		switch {
		case err != nil && trusted:
			t.Fatalf("trusted a CRL the standard parser rejects: %v", err)
		case err != nil:
			return
		}
		if err := rl.CheckSignatureFrom(p.inter.Cert); err != nil && trusted {
			t.Fatalf("trusted a CRL whose signature the standard library rejects: %v", err)
		}
		// Both parsers read it: they must read the same entries, trusted
		// or not.
		if len(rl.RevokedCertificateEntries) != c.Info().Entries {
			t.Fatalf("%d entries, the standard parser reads %d", c.Info().Entries, len(rl.RevokedCertificateEntries))
		}
		for _, e := range rl.RevokedCertificateEntries {
			if revoked, at, _ := c.Lookup(e.SerialNumber); !revoked || at.Unix() != e.RevocationTime.Unix() {
				t.Fatalf("serial %s: listed %v at %s, the standard parser says %s", e.SerialNumber, revoked, at, e.RevocationTime)
			}
		}
	})
}

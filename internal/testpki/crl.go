package testpki

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// CRLEntry is one entry of a CRL.
type CRLEntry struct {
	Cert       *Cert
	At         time.Time
	ReasonCode int
}

// CRL is a DER CRL issued by ca, listing revoked, valid from thisUpdate
// to nextUpdate.
func (ca *Cert) CRL(revoked []CRLEntry, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	entries := make([]x509.RevocationListEntry, len(revoked))
	for i, r := range revoked {
		entries[i] = x509.RevocationListEntry{SerialNumber: r.Cert.Cert.SerialNumber, RevocationTime: r.At.UTC(), ReasonCode: r.ReasonCode}
	}
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(thisUpdate.Unix()),
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
}

// MustCRL is CRL for tests, where a failure is a bug.
func (ca *Cert) MustCRL(revoked []CRLEntry, thisUpdate, nextUpdate time.Time) []byte {
	der, err := ca.CRL(revoked, thisUpdate, nextUpdate)
	if err != nil {
		panic(fmt.Sprintf("testpki: build CRL: %v", err))
	}
	return der
}

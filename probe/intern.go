package probe

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"weak"
)

// CertInterner shares parsed certificates between probes by their bytes.
// A fleet's targets serve the same intermediates, and often the same
// leaf behind many names; without it every target keeps its own parsed
// copies, each holding on to the handshake buffer it was parsed from.
// Entries are weak: a certificate no stored result uses any more is
// collected. It is safe for concurrent use; a nil interner interns
// nothing.
type CertInterner struct {
	mu      sync.Mutex
	certs   map[[sha256.Size]byte]weak.Pointer[x509.Certificate]
	inserts int
}

// NewCertInterner makes an empty interner.
func NewCertInterner() *CertInterner {
	return &CertInterner{certs: map[[sha256.Size]byte]weak.Pointer[x509.Certificate]{}}
}

// intern returns the shared copy of c, making one (parsed from its own
// copy of the bytes) when there is none.
func (ci *CertInterner) intern(c *x509.Certificate) *x509.Certificate {
	if ci == nil {
		return c
	}
	key := sha256.Sum256(c.Raw)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if p := ci.certs[key].Value(); p != nil {
		return p
	}
	shared, err := x509.ParseCertificate(bytes.Clone(c.Raw))
	if err != nil {
		shared = c
	}
	ci.certs[key] = weak.Make(shared)
	if ci.inserts++; ci.inserts%4096 == 0 {
		for k, wp := range ci.certs {
			if wp.Value() == nil {
				delete(ci.certs, k)
			}
		}
	}
	return shared
}

// internAll interns a served chain.
func (ci *CertInterner) internAll(chain []*x509.Certificate) []*x509.Certificate {
	if ci == nil {
		return chain
	}
	out := make([]*x509.Certificate, len(chain))
	for i, c := range chain {
		out[i] = ci.intern(c)
	}
	return out
}

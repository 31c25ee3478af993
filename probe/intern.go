package probe

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"weak"
)

// CertInterner shares parsed certificates between probes by their bytes,
// and what is read from them. A fleet's targets serve the same
// intermediates, and often the same leaf behind many names; without it
// every target keeps its own parsed copies, each holding on to the
// handshake buffer it was parsed from. It also shares the compact form
// of a responder answer, and of a chain certificate nothing was found
// about, between the reports that keep them (Compact).
// Entries are weak: a value no stored result uses any more is
// collected. It is safe for concurrent use; a nil interner interns
// nothing.
type CertInterner struct {
	mu    sync.Mutex
	certs weakMap[[sha256.Size]byte, x509.Certificate]
	infos weakMap[[sha256.Size]byte, CertInfo]
	// compact maps an answer to its compact copy. The key is weak too:
	// two weak pointers are equal only if made from the same object, so
	// a new answer at a reused address never finds an old copy.
	compact weakMap[weak.Pointer[ResponderResult], ResponderResult]
	// chainCerts are the compact reports' ChainCerts that hold nothing
	// but a name, by value.
	chainCerts weakMap[chainCertKey, ChainCert]
}

// NewCertInterner makes an empty interner.
func NewCertInterner() *CertInterner { return &CertInterner{} }

// weakMap holds weak pointers to values, and drops the entries of
// collected ones every so many inserts so the map does not grow with
// every value it ever saw.
type weakMap[K comparable, V any] struct {
	m       map[K]weak.Pointer[V]
	inserts int
}

func (w *weakMap[K, V]) get(k K) *V { return w.m[k].Value() }

func (w *weakMap[K, V]) put(k K, v *V) {
	if w.m == nil {
		w.m = map[K]weak.Pointer[V]{}
	}
	w.m[k] = weak.Make(v)
	if w.inserts++; w.inserts%4096 == 0 {
		for k, wp := range w.m {
			if wp.Value() == nil {
				delete(w.m, k)
			}
		}
	}
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
	if p := ci.certs.get(key); p != nil {
		return p
	}
	shared, err := x509.ParseCertificate(bytes.Clone(c.Raw))
	if err != nil {
		shared = c
	}
	ci.certs.put(key, shared)
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

// inspect is InspectCert, shared between every result about the same
// certificate: its facts are a function of its bytes alone.
func (ci *CertInterner) inspect(c *x509.Certificate) *CertInfo {
	if ci == nil {
		return InspectCert(c)
	}
	key := sha256.Sum256(c.Raw)
	ci.mu.Lock()
	info := ci.infos.get(key)
	ci.mu.Unlock()
	if info != nil {
		return info
	}
	info = InspectCert(c)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if prev := ci.infos.get(key); prev != nil {
		return prev
	}
	ci.infos.put(key, info)
	return info
}

// shareCompact returns the compact copy of r that build makes, the same
// copy for every caller while any of them keeps it.
func (ci *CertInterner) shareCompact(r *ResponderResult, build func() *ResponderResult) *ResponderResult {
	if ci == nil {
		return build()
	}
	key := weak.Make(r)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if c := ci.compact.get(key); c != nil {
		return c
	}
	c := build()
	ci.compact.put(key, c)
	return c
}

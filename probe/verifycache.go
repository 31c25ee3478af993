package probe

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sync"
	"time"
)

// DefaultVerifyCacheEntries bounds a VerifyCache: two entries per target
// (its chain and its staple) for 50,000 targets, with room to spare.
const DefaultVerifyCacheEntries = 200_000

// VerifyCache remembers the expensive, time-independent part of the
// verdicts on byte-identical inputs: the signatures of a staple and its
// signer, and the verification of a served chain. Fleets serve the same
// chain and staple bytes run after run, so the verdicts' signature checks
// are done once per change; the time windows and policies are judged
// again on every use. It is safe for concurrent use; a nil cache verifies
// everything every time.
type VerifyCache struct {
	mu      sync.Mutex
	max     int
	staples map[[sha256.Size]byte]*Verification
	chains  map[[sha256.Size]byte]*chainVerdict
	// verdicts shares equal chain verdicts between keys: a chain served
	// under many names is verified once per name, with the same outcome.
	verdicts weakMap[verdictValue, chainVerdict]
}

// NewVerifyCache makes a cache of at most max entries (DefaultVerifyCacheEntries
// when max <= 0).
func NewVerifyCache(max int) *VerifyCache {
	if max <= 0 {
		max = DefaultVerifyCacheEntries
	}
	return &VerifyCache{max: max, staples: map[[sha256.Size]byte]*Verification{}, chains: map[[sha256.Size]byte]*chainVerdict{}}
}

// evictLocked makes room by dropping arbitrary entries: a full cache is
// a fleet larger than the bound, where any entry is as good as another.
func (c *VerifyCache) evictLocked() {
	for len(c.staples)+len(c.chains) >= c.max {
		for k := range c.staples {
			delete(c.staples, k)
			break
		}
		if len(c.staples)+len(c.chains) < c.max {
			return
		}
		for k := range c.chains {
			delete(c.chains, k)
			break
		}
	}
}

func stapleKey(der []byte, leaf, issuer *x509.Certificate, policy VerifyPolicy) [sha256.Size]byte {
	h := sha256.New()
	h.Write(der)
	h.Write(leaf.Raw)
	if issuer != nil {
		h.Write(issuer.Raw)
	}
	fmt.Fprint(h, policyKey(policy))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verify is verifyResponse through the cache.
func (c *VerifyCache) verify(der []byte, leaf, issuer *x509.Certificate, now time.Time, policy VerifyPolicy) *Verification {
	if c == nil {
		return verifyResponse(der, leaf, issuer, now, policy)
	}
	key := stapleKey(der, leaf, issuer, policy)
	c.mu.Lock()
	v, ok := c.staples[key]
	c.mu.Unlock()
	if !ok {
		v = &Verification{policy: policy}
		v.check(der, leaf, issuer)
	}
	// The cache keeps the latest verdict: At hands back that same value
	// while it holds, so every target served this staple shares one.
	judged := v.At(now)
	if !ok || judged != v {
		c.mu.Lock()
		if _, present := c.staples[key]; !present {
			c.evictLocked()
		}
		c.staples[key] = judged
		c.mu.Unlock()
	}
	return judged
}

// chainVerdict is what inspectChain concludes, and the interval in which
// that conclusion holds: inside every certificate's validity window the
// outcome of x509 verification does not change with time.
type chainVerdict struct {
	issuer          *x509.Certificate
	issuerSource    string
	chainIncomplete bool
	chainVerified   bool
	chainSkipped    bool
	chainError      string
	// roots is the pool the chain was verified against. Holding it keeps
	// its address, which is in the key, from being reused by another pool.
	roots *x509.CertPool
	// above is the path without its leaf, which a hit puts back: the
	// cache outlives runs, and holding each target's parsed leaf would
	// keep every one of them alive after its report dropped it. It is a
	// copy, since a subslice would keep the leaf in its backing array.
	above     []*x509.Certificate
	notBefore time.Time
	notAfter  time.Time
}

func chainKey(chain []*x509.Certificate, roots *x509.CertPool, serverName string, configured *x509.Certificate, skip bool) [sha256.Size]byte {
	h := sha256.New()
	for _, c := range chain {
		h.Write(c.Raw)
		h.Write([]byte{0})
	}
	// A CertPool is built once per ca_file per configuration load, so its
	// identity stands for its contents.
	fmt.Fprintf(h, "%p|%s|%v|", roots, serverName, skip)
	if configured != nil {
		h.Write(configured.Raw)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *VerifyCache) chain(key [sha256.Size]byte, roots *x509.CertPool, now time.Time) *chainVerdict {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.chains[key]
	if !ok || v.roots != roots || now.Before(v.notBefore) || now.After(v.notAfter) {
		return nil
	}
	return v
}

func (c *VerifyCache) storeChain(key [sha256.Size]byte, v *chainVerdict) {
	if c == nil || v.notAfter.Before(v.notBefore) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked()
	if k, ok := v.value(); ok {
		if shared := c.verdicts.get(k); shared != nil {
			v = shared
		} else {
			c.verdicts.put(k, v)
		}
	}
	c.chains[key] = v
}

// verdictValue is a chainVerdict as a comparable value, for paths of up
// to maxSharedPath certificates above the leaf, which is every real one.
type verdictValue struct {
	issuer                                  *x509.Certificate
	issuerSource, chainError                string
	chainIncomplete, chainVerified, skipped bool
	roots                                   *x509.CertPool
	above                                   [maxSharedPath]*x509.Certificate
	notBefore, notAfter                     time.Time
}

const maxSharedPath = 4

func (v *chainVerdict) value() (verdictValue, bool) {
	if len(v.above) > maxSharedPath {
		return verdictValue{}, false
	}
	k := verdictValue{issuer: v.issuer, issuerSource: v.issuerSource, chainError: v.chainError,
		chainIncomplete: v.chainIncomplete, chainVerified: v.chainVerified, skipped: v.chainSkipped,
		roots: v.roots, notBefore: v.notBefore, notAfter: v.notAfter}
	copy(k.above[:], v.above)
	return k, true
}

// validityWindow is the interval in which every certificate is valid.
func validityWindow(certs ...[]*x509.Certificate) (notBefore, notAfter time.Time) {
	first := true
	for _, list := range certs {
		for _, c := range list {
			if first || c.NotBefore.After(notBefore) {
				notBefore = c.NotBefore
			}
			if first || c.NotAfter.Before(notAfter) {
				notAfter = c.NotAfter
			}
			first = false
		}
	}
	return notBefore, notAfter
}

// Len reports how many verdicts the cache holds, for tests and metrics.
func (c *VerifyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.staples) + len(c.chains)
}

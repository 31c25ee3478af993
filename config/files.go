package config

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// fileCache reads and parses each file a configuration names once per
// load: 50,000 targets sharing one ca_file share one read, one parse and
// one CertPool, which keeps both reloads and the agent's memory small.
type fileCache struct {
	mu    sync.Mutex
	certs map[string]certsOrErr
	// prev is the previous load's cache, during a Loader's load: a file
	// whose bytes did not change keeps its parsed certificates and its
	// CertPool, so targets reused from that load and targets validated
	// afresh share one pool, and a reload parses no unchanged bundle.
	prev *fileCache
}

type certsOrErr struct {
	certs []*x509.Certificate
	pool  *x509.CertPool
	sum   [sha256.Size]byte
	err   error
}

func (fc *fileCache) load(path string) certsOrErr {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.certs == nil {
		fc.certs = map[string]certsOrErr{}
	}
	if r, ok := fc.certs[path]; ok {
		return r
	}
	var r certsOrErr
	data, err := ReadRegularFile(path, MaxPEMBytes)
	if err == nil {
		r.sum = sha256.Sum256(data)
		if old, ok := fc.prev.lookup(path); ok && old.err == nil && old.sum == r.sum {
			fc.certs[path] = old
			return old
		}
		r.certs, r.err = parseCertificates(path, data)
	} else {
		r.err = err
	}
	if r.err == nil {
		r.pool = x509.NewCertPool()
		for _, c := range r.certs {
			r.pool.AddCert(c)
		}
	}
	fc.certs[path] = r
	return r
}

func (fc *fileCache) lookup(path string) (certsOrErr, bool) {
	if fc == nil {
		return certsOrErr{}, false
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	r, ok := fc.certs[path]
	return r, ok
}

// forgetPrevious ends a load: the previous cache is no longer consulted,
// so caches never chain from one load to the next.
func (fc *fileCache) forgetPrevious() {
	fc.mu.Lock()
	fc.prev = nil
	fc.mu.Unlock()
}

func (fc *fileCache) certificates(path string) ([]*x509.Certificate, error) {
	r := fc.load(path)
	return r.certs, r.err
}

func (fc *fileCache) certificate(path string) (*x509.Certificate, error) {
	r := fc.load(path)
	if r.err != nil {
		return nil, r.err
	}
	return r.certs[0], nil
}

func (fc *fileCache) pool(path string) (*x509.CertPool, error) {
	r := fc.load(path)
	return r.pool, r.err
}

// sum is the file's content hash, zero when it cannot be read.
func (fc *fileCache) sum(path string) [sha256.Size]byte { return fc.load(path).sum }

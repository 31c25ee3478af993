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

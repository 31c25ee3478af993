package crl

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// now is the frozen instant every test judges CRLs at.
var now = testpki.Epoch

func frozen() time.Time { return now }

const skew = 5 * time.Minute

// pki is a root, an intermediate that signs CRLs, leaves under it, and an
// impostor: another key under the intermediate's very name.
type pki struct {
	root, inter, impostor *testpki.Cert
	leaf, revokedLeaf     *testpki.Cert
}

var (
	pkiOnce   sync.Once
	sharedPKI *pki
	pkiErr    error
)

// testPKI builds the PKI once per test binary: keys are the slow part, and
// no test changes a certificate.
func testPKI(t testing.TB) *pki {
	t.Helper()
	pkiOnce.Do(func() {
		p := &pki{}
		if p.root, pkiErr = testpki.NewRoot("CRL Test Root", testpki.ECDSAP256); pkiErr != nil {
			return
		}
		if p.inter, pkiErr = p.root.NewIntermediate("CRL Test Intermediate", testpki.ECDSAP256); pkiErr != nil {
			return
		}
		if p.impostor, pkiErr = p.root.NewIntermediate("CRL Test Intermediate", testpki.ECDSAP256); pkiErr != nil {
			return
		}
		opts := testpki.LeafOptions{CRLServers: []string{"http://127.0.0.1/inter.crl"}}
		if p.leaf, pkiErr = p.inter.NewLeaf(opts); pkiErr != nil {
			return
		}
		p.revokedLeaf, pkiErr = p.inter.NewLeaf(opts)
		sharedPKI = p
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return sharedPKI
}

// crlTemplate is a good CRL of p.inter that lists p.revokedLeaf.
func (p *pki) crlTemplate() *x509.RevocationList {
	return &x509.RevocationList{
		Number:     big.NewInt(42),
		ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.Add(23 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(7), RevocationTime: now.Add(-48 * time.Hour)},
			{SerialNumber: p.revokedLeaf.Cert.SerialNumber, RevocationTime: now.Add(-2 * time.Hour).Truncate(time.Second), ReasonCode: 1},
		},
	}
}

// create signs template with signer, naming issuerCert as the issuer.
func create(t testing.TB, template *x509.RevocationList, issuerCert *x509.Certificate, signer crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, template, issuerCert, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (p *pki) goodCRL(t testing.TB) []byte {
	return create(t, p.crlTemplate(), p.inter.Cert, p.inter.Key)
}

var (
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidTestCritical    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}
)

// handCRL encodes and signs a CRL of issuer (an ECDSA CA) without
// x509.CreateRevocationList: for what that refuses to make (no
// NextUpdate), and for the big benchmark list, where it is much faster.
// It lists n random 20-byte serials, a quarter of them with a reasonCode,
// then the extra serials, revoked at thisUpdate less a day.
func handCRL(t testing.TB, issuer *testpki.Cert, thisUpdate, nextUpdate time.Time, n int, extra ...*big.Int) []byte {
	t.Helper()
	rng := mathrand.NewChaCha8([32]byte{'c', 'r', 'l'})
	revokedAt := thisUpdate.Add(-24 * time.Hour)
	entry := func(b *cryptobyte.Builder, serial *big.Int, raw []byte, reason int) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if serial != nil {
				b.AddASN1BigInt(serial)
			} else {
				b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(raw) })
			}
			b.AddASN1UTCTime(revokedAt)
			if reason < 0 {
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{2, 5, 29, 21})
					b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(reason)) })
				})
			})
		})
	}
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
		b.AddBytes(issuer.Cert.RawSubject)
		b.AddASN1UTCTime(thisUpdate)
		if !nextUpdate.IsZero() {
			b.AddASN1UTCTime(nextUpdate)
		}
		if n+len(extra) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				serial := make([]byte, 20)
				for i := range n {
					_, _ = rng.Read(serial)
					serial[0] = serial[0]&0x7f | 0x01 // positive, minimal
					reason := -1
					if i%4 == 0 {
						reason = 4 // superseded
					}
					entry(b, nil, serial, reason)
				}
				for _, s := range extra {
					entry(b, s, nil, 1)
				}
			})
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidCRLNumber)
					b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(n)) })
				})
			})
		})
	})
	tbsDER := tbs.BytesOrPanic()
	digest := sha256.Sum256(tbsDER)
	sig, err := issuer.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
		b.AddASN1BitString(sig)
	})
	return out.BytesOrPanic()
}

// idpExtension encodes an issuingDistributionPoint naming uri, for CA
// certificates only when onlyCA.
func idpExtension(uri string, onlyCA bool) pkix.Extension {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
			})
		})
		if onlyCA {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
		}
	})
	return pkix.Extension{Id: oidIssuingDistPoint, Critical: true, Value: b.BytesOrPanic()}
}

// crlServer serves CRL bodies on 127.0.0.1 by path, answers conditional
// GETs, and counts what it was asked.
type crlServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]servedFile
	// hold, when set, blocks every request until it is closed.
	hold chan struct{}

	requests    atomic.Int64
	notModified atomic.Int64
	inFlight    *atomic.Int64
	maxInFlight *atomic.Int64
}

type servedFile struct {
	body   []byte
	status int
	etag   string
	// unknownLength leaves out Content-Length, so the body goes chunked.
	unknownLength bool
}

func newCRLServer(t testing.TB) *crlServer {
	s := &crlServer{files: map[string]servedFile{}, inFlight: new(atomic.Int64), maxInFlight: new(atomic.Int64)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// put serves body at path with an ETag and a Content-Length, as a web
// server serves a file, or status with no body when status is not 200.
func (s *crlServer) put(path string, body []byte, status int, etag string) string {
	return s.putFile(path, servedFile{body: body, status: status, etag: etag})
}

func (s *crlServer) putFile(path string, f servedFile) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = f
	return s.URL + path
}

func (s *crlServer) setHold(hold chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = hold
}

func (s *crlServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	f, ok := s.files[r.URL.Path]
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case !ok:
		http.NotFound(w, r)
	case f.status != http.StatusOK:
		w.WriteHeader(f.status)
	case f.etag != "" && r.Header.Get("If-None-Match") == f.etag:
		s.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
	default:
		if f.etag != "" {
			w.Header().Set("ETag", f.etag)
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		if !f.unknownLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
		}
		_, _ = w.Write(f.body)
	}
}

func reasonsOf(problems []Problem) []Reason {
	var out []Reason
	for _, p := range problems {
		out = append(out, p.Reason)
	}
	return out
}

// freshClient opens a new connection for every request, as the agent's
// client does, so every fetch has a connect phase to time.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

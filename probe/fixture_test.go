package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// now is the frozen clock every probe test runs at.
var now = testpki.Epoch

func frozen() time.Time { return now }

// pki is the shared test hierarchy; building RSA keys is slow under -race,
// so it is made once.
type pki struct {
	root, inter, leaf, mustLeaf, noAIALeaf                  *testpki.Cert
	delegated, delegatedNoEKU, foreignSigner, expiredSigner *testpki.Cert
	otherRoot, otherInter, otherLeaf                        *testpki.Cert
	rsaRoot, rsaInter, rsaLeaf                              *testpki.Cert
}

var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

func testPKI(t testing.TB) *pki {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = buildPKI() })
	if pkiErr != nil {
		t.Fatalf("build test PKI: %v", pkiErr)
	}
	return pkiVal
}

func buildPKI() (*pki, error) {
	p := &pki{}
	var errs []error
	must := func(c *testpki.Cert, err error) *testpki.Cert {
		errs = append(errs, err)
		return c
	}
	aia := []string{"http://127.0.0.1:1/ocsp"}
	p.root = must(testpki.NewRoot("Test Root", testpki.ECDSAP256))
	p.inter = must(p.root.NewIntermediate("Test Intermediate", testpki.ECDSAP256))
	p.leaf = must(p.inter.NewLeaf(testpki.LeafOptions{OCSPServers: aia}))
	p.mustLeaf = must(p.inter.NewLeaf(testpki.LeafOptions{OCSPServers: aia, MustStaple: true}))
	p.noAIALeaf = must(p.inter.NewLeaf(testpki.LeafOptions{CRLServers: []string{"http://127.0.0.1:1/crl"}}))
	p.delegated = must(p.inter.NewResponder("Test OCSP Signer", testpki.ResponderOptions{NoCheck: true}))
	p.delegatedNoEKU = must(p.inter.NewResponder("Signer Without EKU", testpki.ResponderOptions{NoEKU: true}))
	p.expiredSigner = must(p.inter.NewResponder("Expired Signer", testpki.ResponderOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}))
	p.otherRoot = must(testpki.NewRoot("Other Root", testpki.ECDSAP256))
	p.otherInter = must(p.otherRoot.NewIntermediate("Other Intermediate", testpki.ECDSAP256))
	p.otherLeaf = must(p.otherInter.NewLeaf(testpki.LeafOptions{OCSPServers: aia}))
	p.foreignSigner = must(p.otherInter.NewResponder("Foreign Signer", testpki.ResponderOptions{}))
	p.rsaRoot = must(testpki.NewRoot("RSA Root", testpki.RSA2048))
	p.rsaInter = must(p.rsaRoot.NewIntermediate("RSA Intermediate", testpki.RSA2048))
	p.rsaLeaf = must(p.rsaInter.NewLeaf(testpki.LeafOptions{OCSPServers: aia, KeyType: testpki.RSA2048}))
	return p, errors.Join(errs...)
}

// good is a fresh, issuer-signed good response for leaf.
func good(leaf *testpki.Cert) []byte {
	return testpki.Response{
		Entries:    []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(71*time.Hour))},
		ProducedAt: now.Add(-time.Hour),
		Signer:     leaf.Parent,
	}.MustDER()
}

func startTLS(t *testing.T, leaf *testpki.Cert, staple []byte, opts testpki.ServerOptions) *testpki.TLSServer {
	t.Helper()
	s, err := testpki.NewTLSServer(leaf, staple, opts)
	if err != nil {
		t.Fatalf("start TLS server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

var tlsVersions = []struct {
	name    string
	version uint16
}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

func reasonsOf(problems []Problem) []Reason {
	out := make([]Reason, 0, len(problems))
	for _, p := range problems {
		out = append(out, p.Reason)
	}
	return out
}

// offlineResolver fails every lookup without sending a packet, so a DNS
// failure can be tested without leaving the host.
func offlineResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// crlServer serves CRLs by path on loopback and counts the requests.
type crlServer struct {
	*httptest.Server
	mu    sync.Mutex
	crls  map[string][]byte
	count map[string]int
}

func newCRLServer(t *testing.T) *crlServer {
	s := &crlServer{crls: map[string][]byte{}, count: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		der, ok := s.crls[r.URL.Path]
		s.count[r.URL.Path]++
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(der)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *crlServer) set(path string, der []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crls[path] = der
}

func (s *crlServer) requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[path]
}

// chainLab is a root, an intermediate naming its CRL (and, when asked, an
// OCSP responder), and leaves naming their own CRL.
type chainLab struct {
	root, inter *testpki.Cert
	crls        *crlServer
	pool        *crl.Pool
}

func newChainLab(t *testing.T, interOCSP []string) *chainLab {
	t.Helper()
	l := &chainLab{crls: newCRLServer(t)}
	var err error
	if l.root, err = testpki.NewRoot("CRL Root", testpki.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	if l.inter, err = l.root.NewIntermediateWith("CRL Intermediate", testpki.IntermediateOptions{CRLServers: []string{l.crls.URL + "/root.crl"}, OCSPServers: interOCSP}); err != nil {
		t.Fatal(err)
	}
	l.crls.set("/root.crl", l.root.MustCRL(nil, now.Add(-time.Hour), now.Add(24*time.Hour)))
	l.crls.set("/inter.crl", l.inter.MustCRL(nil, now.Add(-time.Hour), now.Add(24*time.Hour)))
	l.pool = crl.NewPool(crl.PoolOptions{Client: testClient(), Now: frozen})
	t.Cleanup(l.pool.Close)
	return l
}

func (l *chainLab) leaf(t *testing.T, opts testpki.LeafOptions) *testpki.Cert {
	t.Helper()
	leaf, err := l.inter.NewLeaf(opts)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func (l *chainLab) run(t *testing.T, leaf *testpki.Cert, staple []byte, policy CRLPolicy) *Report {
	t.Helper()
	srv := startTLS(t, leaf, staple, testpki.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return RunTarget(ctx, TargetSpec{
		Name:           "chain",
		Staple:         &StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: l.root.Pool()},
		QueryResponder: true,
		Now:            frozen,
		Policy:         VerifyPolicy{Skew: DefaultSkew},
		CRL:            policy,
		CRLs:           l.pool,
	}, NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
}

func TestChainRevocation(t *testing.T) {
	l := newChainLab(t, nil)
	crlOnly := l.leaf(t, testpki.LeafOptions{CRLServers: []string{l.crls.URL + "/inter.crl"}})
	listed := l.leaf(t, testpki.LeafOptions{CRLServers: []string{l.crls.URL + "/inter.crl"}})
	nothing := l.leaf(t, testpki.LeafOptions{})
	l.crls.set("/inter.crl", l.inter.MustCRL([]testpki.CRLEntry{{Cert: listed, At: now.Add(-2 * time.Hour), ReasonCode: 1}}, now.Add(-time.Hour), now.Add(24*time.Hour)))

	cases := []struct {
		name   string
		leaf   *testpki.Cert
		policy CRLPolicy
		want   []Reason
		depths int
	}{
		{name: "CRL-only leaf, good", leaf: crlOnly, policy: CRLAuto, depths: 2},
		{name: "CRL-only leaf, listed", leaf: listed, policy: CRLAuto, want: []Reason{ReasonCRLRevoked}, depths: 2},
		{name: "no revocation information", leaf: nothing, policy: CRLAuto, want: []Reason{ReasonNoRevocationInfo}, depths: 2},
		{name: "policy off", leaf: listed, policy: CRLOff},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := l.run(t, tc.leaf, nil, tc.policy)
			if got := UniqueReasons(rep.Failures); !slices.Equal(got, tc.want) {
				t.Errorf("failures %v, want %v", rep.Failures, tc.want)
			}
			if len(rep.Chain) != tc.depths {
				t.Fatalf("%d chain entries, want %d", len(rep.Chain), tc.depths)
			}
			for _, c := range rep.Chain {
				if c.Depth == 0 && tc.leaf == nothing {
					continue
				}
				if len(c.CRLs) != 1 || !c.CRLs[0].Status.Trusted {
					t.Errorf("depth %d: CRLs %+v", c.Depth, c.CRLs)
				}
			}
		})
	}
	if n := l.crls.requests("/root.crl"); n != 1 {
		t.Errorf("the root's CRL was fetched %d times for several targets, want once", n)
	}
}

func TestRevokedIntermediate(t *testing.T) {
	l := newChainLab(t, nil)
	l.crls.set("/root.crl", l.root.MustCRL([]testpki.CRLEntry{{Cert: l.inter, At: now.Add(-time.Hour)}}, now.Add(-time.Hour), now.Add(24*time.Hour)))
	leaf := l.leaf(t, testpki.LeafOptions{CRLServers: []string{l.crls.URL + "/inter.crl"}})
	rep := l.run(t, leaf, nil, CRLAuto)
	if got := UniqueReasons(rep.Failures); !slices.Equal(got, []Reason{ReasonChainRevoked}) {
		t.Errorf("failures %v, want chain_revoked", rep.Failures)
	}
	if revoked, known := rep.Chain[1].CRLRevoked(); !revoked || !known || rep.Chain[1].Depth != 1 {
		t.Errorf("depth 1: revoked %v known %v", revoked, known)
	}
}

func TestIntermediateOCSP(t *testing.T) {
	var l *chainLab
	resp := testpki.NewResponder(func(q testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(l.inter, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: l.root}.MustDER()
	})
	defer resp.Close()
	l = newChainLab(t, []string{resp.URL})
	leaf := l.leaf(t, testpki.LeafOptions{CRLServers: []string{l.crls.URL + "/inter.crl"}})
	srv := startTLS(t, leaf, nil, testpki.ServerOptions{})
	rep := RunTarget(context.Background(), TargetSpec{
		Name: "chain", Staple: &StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: l.root.Pool()},
		QueryResponder: true, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}, CRL: CRLAuto, CRLs: l.pool,
	}, NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
	if got := UniqueReasons(rep.Failures); !slices.Equal(got, []Reason{ReasonChainRevoked}) {
		t.Errorf("failures %v, want chain_revoked from the intermediate's OCSP", rep.Failures)
	}
	if len(rep.Chain) < 2 || len(rep.Chain[1].OCSP) != 1 || len(rep.Chain[1].CRLs) != 0 {
		t.Errorf("the intermediate names OCSP, so auto checks OCSP and not its CRL: %+v", rep.Chain)
	}
}

func TestCRLAndOCSPDisagree(t *testing.T) {
	l := newChainLab(t, nil)
	leaf := l.leaf(t, testpki.LeafOptions{CRLServers: []string{l.crls.URL + "/inter.crl"}, OCSPServers: []string{"http://127.0.0.1:1/unused"}})
	l.crls.set("/inter.crl", l.inter.MustCRL([]testpki.CRLEntry{{Cert: leaf, At: now.Add(-2 * time.Hour)}}, now.Add(-time.Hour), now.Add(24*time.Hour)))
	staple := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: l.inter}.MustDER()
	srv := startTLS(t, leaf, staple, testpki.ServerOptions{})
	rep := RunTarget(context.Background(), TargetSpec{
		Name: "disagree", Staple: &StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: l.root.Pool()},
		Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}, CRL: CRLOn, CRLs: l.pool,
	}, nil)
	got := UniqueReasons(rep.Failures)
	if !slices.Contains(got, ReasonCRLOCSPDisagree) || !slices.Contains(got, ReasonCRLRevoked) {
		t.Errorf("failures %v, want crl_revoked and crl_ocsp_disagree", rep.Failures)
	}
	auto := RunTarget(context.Background(), TargetSpec{
		Name: "auto", Staple: &StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: l.root.Pool()},
		Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}, CRL: CRLAuto, CRLs: l.pool,
	}, nil)
	if len(auto.Failures) != 0 || len(auto.Chain[0].CRLs) != 0 {
		t.Errorf("auto leaves the CRL of a leaf with OCSP alone: failures %v", auto.Failures)
	}
}

func TestCRLFileForTheLeaf(t *testing.T) {
	l := newChainLab(t, nil)
	leaf := l.leaf(t, testpki.LeafOptions{})
	der := l.inter.MustCRL([]testpki.CRLEntry{{Cert: leaf, At: now.Add(-time.Hour)}}, now.Add(-time.Hour), now.Add(time.Hour))
	rep := RunTarget(context.Background(), TargetSpec{Name: "file", Leaf: leaf.Cert, Issuer: l.inter.Cert, Now: frozen, CRL: CRLOff, CRLFile: der}, nil)
	if got := UniqueReasons(rep.Failures); !slices.Equal(got, []Reason{ReasonCRLRevoked}) {
		t.Errorf("failures %v, want crl_revoked from the file", rep.Failures)
	}
	bad := RunTarget(context.Background(), TargetSpec{Name: "file", Leaf: leaf.Cert, Issuer: l.inter.Cert, Now: frozen, CRL: CRLOff, CRLFile: []byte("not a CRL")}, nil)
	if got := UniqueReasons(bad.Failures); !slices.Equal(got, []Reason{ReasonCRLMalformed}) {
		t.Errorf("failures %v, want crl_malformed", bad.Failures)
	}
}

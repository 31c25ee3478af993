package lint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// TestOnlineFindingsFromALoopbackResponder runs the same responder query
// as `check --cert` against an in-process responder and maps its report.
func TestOnlineFindingsFromALoopbackResponder(t *testing.T) {
	p := newPKI(t)
	now := testpki.Epoch
	clock := func() time.Time { return now }
	resp := testpki.NewResponder(nil)
	defer resp.Close()
	leaf := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers = []string{resp.URL} })
	answer := func(status int) func(testpki.Query) []byte {
		return func(testpki.Query) []byte {
			return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, status, now.Add(-time.Hour), now.Add(time.Hour))},
				ProducedAt: now, Signer: p.inter}.MustDER()
		}
	}
	pool := probe.NewResponderPool(context.Background(), probe.NewHTTPClient(probe.ClientOptions{}), 0, 0, clock)
	for _, tc := range []struct {
		name    string
		answer  func(testpki.Query) []byte
		want    []ID
		message string
	}{
		{name: "good", answer: answer(testpki.Good)},
		{name: "revoked", answer: answer(testpki.Revoked), want: []ID{OCSPRevoked}, message: resp.URL + ": the responder says the certificate is revoked"},
		{name: "unknown", answer: answer(testpki.Unknown), want: []ID{OCSPResponderFailed}, message: "(response_unknown)"},
		{name: "unauthorized", answer: func(testpki.Query) []byte { return testpki.StatusOnly(ocsp.Unauthorized) }, want: []ID{OCSPResponderFailed}, message: "(response_status)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp.SetAnswer(tc.answer)
			b := bundleOf(leaf, p.inter)
			l, issuer := Leaf(b)
			rep := probe.RunTarget(context.Background(), probe.TargetSpec{Name: b.Name, Leaf: l, Issuer: issuer, QueryResponder: true, Now: clock}, pool)
			r := Run(b, Options{Now: now, OnlineWanted: true, Online: rep})
			if got := findingIDs(r); len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Fatalf("findings %v, want %v", r.Findings, tc.want)
			}
			if tc.message != "" && !strings.Contains(r.Findings[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", r.Findings[0].Message, tc.message)
			}
			if r.Online != rep || r.Skipped[CheckOnline] != "" {
				t.Errorf("online report not kept, skipped %q", r.Skipped[CheckOnline])
			}
		})
	}
	if n := len(resp.Queries()); n != 4 {
		t.Errorf("the responder saw %d queries, want 4", n)
	}

	for _, tc := range []struct {
		name   string
		bundle *Bundle
		wanted bool
		why    string
	}{
		{name: "not asked", bundle: bundleOf(leaf, p.inter), why: "not asked for (--online)"},
		{name: "no issuer", bundle: bundleOf(leaf), wanted: true, why: "does not hold the leaf's issuer"},
		{name: "no OCSP or CRL URL", bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, nil }), p.inter), wanted: true, why: "names neither an OCSP responder nor a CRL"},
	} {
		r := Run(tc.bundle, Options{Now: now, OnlineWanted: tc.wanted})
		if !strings.Contains(r.Skipped[CheckOnline], tc.why) || r.Online != nil {
			t.Errorf("%s: skipped %q, want %q", tc.name, r.Skipped[CheckOnline], tc.why)
		}
	}
}

// TestOnlineCRLFindings fetches the leaf's CRL as `lint --online` does and
// maps what it says.
func TestOnlineCRLFindings(t *testing.T) {
	p := newPKI(t)
	now := testpki.Epoch
	clock := func() time.Time { return now }
	var der []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ca.crl" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(der)
	}))
	defer srv.Close()
	listed := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, []string{srv.URL + "/ca.crl"} })
	good := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, []string{srv.URL + "/ca.crl"} })
	gone := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, []string{srv.URL + "/missing.crl"} })
	der = p.inter.MustCRL([]testpki.CRLEntry{{Cert: listed, At: now.Add(-time.Hour)}}, now.Add(-time.Hour), now.Add(time.Hour))
	client := probe.NewHTTPClient(probe.ClientOptions{})
	for _, tc := range []struct {
		name string
		leaf *testpki.Cert
		want []ID
	}{
		{name: "listed", leaf: listed, want: []ID{CRLRevoked}},
		{name: "not listed", leaf: good},
		{name: "no CRL at the URL", leaf: gone, want: []ID{CRLFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bundleOf(tc.leaf, p.inter)
			l, issuer := Leaf(b)
			rep := probe.RunTarget(context.Background(), probe.TargetSpec{Name: b.Name, Leaf: l, Issuer: issuer, QueryResponder: true, Now: clock,
				CRL: probe.CRLOn, CRLs: crl.NewPool(crl.PoolOptions{Client: client, Now: clock})}, nil)
			r := Run(b, Options{Now: now, OnlineWanted: true, Online: rep})
			var got []ID
			for _, f := range r.Findings {
				if f.ID.Check() == CheckOnline {
					got = append(got, f.ID)
				}
			}
			if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Errorf("online findings %v, want %v", r.Findings, tc.want)
			}
		})
	}
}

package lint

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
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
		{name: "no OCSP URL", bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers = nil }), p.inter), wanted: true, why: "names no OCSP responder"},
	} {
		r := Run(tc.bundle, Options{Now: now, OnlineWanted: tc.wanted})
		if !strings.Contains(r.Skipped[CheckOnline], tc.why) || r.Online != nil {
			t.Errorf("%s: skipped %q, want %q", tc.name, r.Skipped[CheckOnline], tc.why)
		}
	}
}

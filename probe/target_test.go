package probe

import (
	"context"
	"slices"
	"testing"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func TestRunTargetAgreement(t *testing.T) {
	p := testPKI(t)
	for _, tc := range []struct {
		name       string
		responder  int
		wantAgree  bool
		wantReason []Reason
	}{
		{"both good", testpki.Good, true, nil},
		// Two URLs, each counted: the disagreement per URL and the revocation per URL.
		{"stapled good, CA says revoked", testpki.Revoked, false, []Reason{ReasonResponseRevoked, ReasonResponseRevoked, ReasonStapleResponderDisagree, ReasonStapleResponderDisagree}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := testpki.NewResponder(answerFor(p.leaf, tc.responder))
			defer resp.Close()
			srv := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
			pool := NewResponderPool(context.Background(), testClient(), 0, 0, frozen)
			rep := RunTarget(context.Background(), TargetSpec{
				Name:           "www",
				Staple:         &StapleRequest{Endpoint: srv.Addr, Roots: p.root.Pool()},
				QueryResponder: true, ResponderURLs: []string{resp.URL, resp.URL + "/second"},
				RequireStaple: RequireAuto, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew},
			}, pool)
			e := rep.Endpoints[0]
			if e.ResponderAgrees == nil || *e.ResponderAgrees != tc.wantAgree {
				t.Fatalf("agree = %v, want %v", e.ResponderAgrees, tc.wantAgree)
			}
			if len(rep.Responders) != 2 {
				t.Fatalf("%d responder results, want one per URL", len(rep.Responders))
			}
			got := reasonsOf(rep.Failures)
			slices.Sort(got)
			want := tc.wantReason
			if !slices.Equal(got, want) {
				t.Errorf("failures = %v, want %v", got, want)
			}
			if rep.Success != (want == nil) {
				t.Errorf("success = %v", rep.Success)
			}
		})
	}
}

func TestRunTargetNoOCSPURLIsAState(t *testing.T) {
	p := testPKI(t)
	srv := startTLS(t, p.noAIALeaf, nil, testpki.ServerOptions{})
	rep := RunTarget(context.Background(), TargetSpec{
		Name: "crl-only", Staple: &StapleRequest{Endpoint: srv.Addr, Roots: p.root.Pool()},
		QueryResponder: true, RequireStaple: RequireAuto, Now: frozen,
	}, NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
	if !rep.Success || !rep.NoResponderURL || rep.Cert.Posture != PostureCRLOnly || len(rep.Responders) != 0 {
		t.Errorf("success %v no-url %v posture %s responders %d failures %v", rep.Success, rep.NoResponderURL, rep.Cert.Posture, len(rep.Responders), rep.Failures)
	}
}

func TestRunTargetResponderOnly(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	rep := RunTarget(context.Background(), TargetSpec{
		Name: "file", Leaf: p.leaf.Cert, Issuer: p.inter.Cert, QueryResponder: true,
		ResponderURLs: []string{resp.URL}, Method: MethodPOST, Nonce: true, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew},
	}, NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
	if !rep.Success || len(rep.Endpoints) != 0 || len(rep.Responders) != 1 || rep.Responders[0].Method != "POST" || rep.Responders[0].Nonce != NonceEchoed {
		t.Errorf("report = %+v, responders %+v", rep, rep.Responders)
	}
	if rep.Duration <= 0 || !rep.Started.Equal(now) {
		t.Errorf("duration %s started %s", rep.Duration, rep.Started)
	}
}

func TestEvaluateStapleRequirement(t *testing.T) {
	missing := &Report{Endpoints: []*StapleResult{{Problems: []Problem{{Reason: ReasonStapleMissing}}}}}
	mustStaple := &Report{Endpoints: []*StapleResult{{Problems: []Problem{{Reason: ReasonMustStapleViolated}}}}}
	expired := &Report{Endpoints: []*StapleResult{{Problems: []Problem{{Reason: ReasonStapleExpired}}}}}
	for _, tc := range []struct {
		rep     *Report
		require StapleRequirement
		fails   bool
	}{
		{missing, RequireAuto, false}, {missing, RequireAlways, true}, {missing, RequireNever, false},
		{mustStaple, RequireAuto, true}, {mustStaple, RequireAlways, true}, {mustStaple, RequireNever, false},
		{expired, RequireNever, true},
	} {
		if got := len(Evaluate(tc.rep, tc.require)) > 0; got != tc.fails {
			t.Errorf("%v under require_staple=%s: fails %v, want %v", tc.rep.Endpoints[0].Problems, tc.require, got, tc.fails)
		}
	}
}

func TestRunTargetQueriesEveryAIAURL(t *testing.T) {
	p := testPKI(t)
	up := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer up.Close()
	down := loopback.ClosedAddr(t)
	leaf, err := p.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{up.URL, "http://" + down}})
	if err != nil {
		t.Fatal(err)
	}
	up.SetAnswer(answerFor(leaf, testpki.Good))
	rep := RunTarget(context.Background(), TargetSpec{Name: "two-urls", Leaf: leaf.Cert, Issuer: p.inter.Cert, QueryResponder: true, Now: frozen},
		NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
	if len(rep.Responders) != 2 || rep.Responders[0].URL != up.URL || !rep.Responders[0].Up || rep.Responders[1].Up {
		t.Fatalf("responders: %+v", rep.Responders)
	}
	if got := reasonsOf(rep.Failures); !slices.Equal(got, []Reason{ReasonResponderConnect}) {
		t.Errorf("failures %v, want the unreachable second URL's", got)
	}
}

func TestUniqueReasons(t *testing.T) {
	ps := []Problem{{Reason: ReasonResponseRevoked}, {Reason: ReasonStapleRevoked}, {Reason: ReasonResponseRevoked, Detail: "second URL"}}
	if got := UniqueReasons(ps); !slices.Equal(got, []Reason{ReasonResponseRevoked, ReasonStapleRevoked}) {
		t.Errorf("UniqueReasons = %v", got)
	}
}

// Issue 10: a CA outage must not turn every endpoint red. A valid staple
// with its responder unreachable passes; the responder's trouble stays on
// the responder result. A responder-only target still fails, since the
// responder is what it monitors.
func TestResponderOutageAloneDoesNotFailAnEndpoint(t *testing.T) {
	p := testPKI(t)
	down := "http://" + loopback.ClosedAddr(t)
	srv := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	for _, tc := range []struct {
		name        string
		spec        TargetSpec
		wantSuccess bool
	}{
		{
			name: "endpoint with a valid staple",
			spec: TargetSpec{Name: "www", Staple: &StapleRequest{Endpoint: srv.Addr, Roots: p.root.Pool()},
				QueryResponder: true, ResponderURLs: []string{down}, RequireStaple: RequireAuto, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}},
			wantSuccess: true,
		},
		{
			name: "responder-only target",
			spec: TargetSpec{Name: "file", Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
				QueryResponder: true, ResponderURLs: []string{down}, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}},
			wantSuccess: false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := RunTarget(context.Background(), tc.spec, NewResponderPool(context.Background(), testClient(), 0, 0, frozen))
			if rep.Success != tc.wantSuccess {
				t.Errorf("success %v, want %v; failures %v", rep.Success, tc.wantSuccess, rep.Failures)
			}
			if len(rep.Responders) != 1 || rep.Responders[0].Up || !slices.Contains(reasonsOf(rep.Responders[0].Problems), ReasonResponderConnect) {
				t.Errorf("the responder's own result lost its failure: %+v", rep.Responders)
			}
		})
	}
}

func TestEvaluateKeepsTheResponderVerdictOnTheCertificate(t *testing.T) {
	rep := &Report{
		Endpoints:  []*StapleResult{{}},
		Responders: []*ResponderResult{{Problems: []Problem{{Reason: ReasonResponseRevoked}, {Reason: ReasonResponseBadSignature}}}},
	}
	if got := reasonsOf(Evaluate(rep, RequireAuto)); !slices.Equal(got, []Reason{ReasonResponseRevoked}) {
		t.Errorf("failures %v, want only response_revoked", got)
	}
}

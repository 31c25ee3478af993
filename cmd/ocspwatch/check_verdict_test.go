package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

func TestSeverityTableGradesEveryReason(t *testing.T) {
	for _, r := range probe.AllReasons() {
		s, ok := reasonSeverity[r]
		if !ok {
			t.Errorf("reason %q has no severity in reasonSeverity", r)
			continue
		}
		if s != sevWarning && s != sevCritical {
			t.Errorf("reason %q is graded %s; a failure must be WARNING or CRITICAL", r, s)
		}
	}
	if len(reasonSeverity) != len(probe.AllReasons()) {
		t.Errorf("reasonSeverity has %d entries for %d reasons", len(reasonSeverity), len(probe.AllReasons()))
	}
}

// stapleServer serves leaf with a staple from the issuing CA whose status
// and NextUpdate the test picks; a zero next means no staple.
func stapleServer(t *testing.T, p *livePKI, leaf *testpki.Cert, status int, next time.Duration) string {
	t.Helper()
	now := time.Now()
	var der []byte
	if next != 0 {
		der = testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, status, now.Add(-time.Hour), now.Add(next))}, ProducedAt: now.Add(-time.Hour), Signer: p.inter}.MustDER()
	}
	srv, err := testpki.NewTLSServer(leaf, der, testpki.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.Addr
}

// TestCheckVerdictIsGradedAndNeverOKBesideAProblem: each case is a real
// handshake; the verdict, its exit codes in text, JSON and nagios, and
// the rule that no "problem" line sits beside "verdict: OK".
func TestCheckVerdictIsGradedAndNeverOKBesideAProblem(t *testing.T) {
	p := newLivePKI(t)
	cases := []struct {
		name    string
		leaf    *testpki.Cert
		status  int
		next    time.Duration
		args    []string
		verdict severity
		reason  string
	}{
		{
			name:    "fresh staple",
			leaf:    p.good,
			status:  testpki.Good,
			next:    76 * time.Hour,
			verdict: sevOK,
		},
		{
			name:    "no staple, not required: a note",
			leaf:    p.good,
			verdict: sevOK,
			reason:  "staple_missing",
		},
		{
			name:    "staple under --warn",
			leaf:    p.good,
			status:  testpki.Good,
			next:    3 * time.Hour,
			verdict: sevWarning,
			reason:  findingStapleExpiring,
		},
		{
			name:    "staple under --crit, as the bundled alert pages",
			leaf:    p.good,
			status:  testpki.Good,
			next:    9 * time.Minute,
			verdict: sevCritical,
			reason:  findingStapleExpiring,
		},
		{
			name:    "thresholds from the flags",
			leaf:    p.good,
			status:  testpki.Good,
			next:    3 * time.Hour,
			args:    []string{"--warn", "2h", "--crit", "1h"},
			verdict: sevOK,
		},
		{
			name:    "revoked staple",
			leaf:    p.good,
			status:  testpki.Revoked,
			next:    76 * time.Hour,
			verdict: sevCritical,
			reason:  "staple_revoked",
		},
		{
			name:    "staple required and missing",
			leaf:    p.good,
			args:    []string{"--require-staple", "true"},
			verdict: sevCritical,
			reason:  "staple_missing",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := stapleServer(t, p, tc.leaf, tc.status, tc.next)
			base := append([]string{"check", addr, "--ca-file", p.rootFile, "--no-responder"}, tc.args...)

			code, out, errOut := runCLI(base...)
			if code != tc.verdict.exitCode() || !strings.Contains(out, "verdict: "+tc.verdict.String()+"\n") {
				t.Fatalf("text: exit %d, want %d and verdict %s\n%s%s", code, tc.verdict.exitCode(), tc.verdict, out, errOut)
			}
			if tc.verdict == sevOK && regexp.MustCompile(`(?m)^\s+(problem|- (WARNING|CRITICAL))\s`).MatchString(out) {
				t.Errorf("a problem line sits beside verdict OK:\n%s", out)
			}

			code, out, _ = runCLI(append(base, "--output", "json")...)
			var doc checkJSON
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("JSON: %v\n%s", err, out)
			}
			if code != tc.verdict.exitCode() || doc.Verdict != tc.verdict.String() || doc.Success != (tc.verdict == sevOK) {
				t.Errorf("JSON: exit %d verdict %s success %v", code, doc.Verdict, doc.Success)
			}
			found := false
			for _, f := range doc.Findings {
				found = found || f.Reason == tc.reason
				if f.Severity != "WARNING" && f.Severity != "CRITICAL" {
					t.Errorf("finding %+v is neither WARNING nor CRITICAL", f)
				}
			}
			for _, n := range doc.Notes {
				found = found || n.Reason == tc.reason
			}
			if tc.reason != "" && !found {
				t.Errorf("JSON: no finding or note %q: %+v %+v", tc.reason, doc.Findings, doc.Notes)
			}

			code, out, _ = runCLI(append(base, "--output", "nagios")...)
			if code != int(tc.verdict) || !strings.HasPrefix(out, "OCSP "+tc.verdict.String()+" - ") {
				t.Errorf("nagios: exit %d, want %d\n%s", code, int(tc.verdict), out)
			}
			checkPluginOutput(t, code, out)
		})
	}
}

// TestCritDefaultMatchesTheStapleAlert: `check` pages when the bundled
// OCSPStapleExpiring alert does.
func TestCritDefaultMatchesTheStapleAlert(t *testing.T) {
	rules, err := os.ReadFile("../../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(rules)
	start := strings.Index(text, "alert: OCSPStapleExpiring")
	if start < 0 {
		t.Fatal("the rules have no OCSPStapleExpiring alert")
	}
	m := regexp.MustCompile(`ocsp_staple_next_update_timestamp_seconds - time\(\) < ([0-9]+)`).FindStringSubmatch(text[start:])
	if m == nil {
		t.Fatal("OCSPStapleExpiring has no threshold on the staple's NextUpdate")
	}
	app, _ := newApp(io.Discard, io.Discard)
	for _, cmd := range app.Model().Commands {
		if cmd.Name != "check" {
			continue
		}
		for _, f := range cmd.Flags {
			if f.Name != "crit" {
				continue
			}
			d, err := time.ParseDuration(f.Default[0])
			if err != nil || strconv.Itoa(int(d.Seconds())) != m[1] {
				t.Errorf("check --crit defaults to %v, the alert fires below %ss", f.Default, m[1])
			}
			return
		}
	}
	t.Fatal("check has no --crit flag")
}

// TestJudgeGradesCRLTimeToNextUpdate: a CRL in the report's chain check
// is held to the thresholds like a staple, and shows in the perfdata.
func TestJudgeGradesCRLTimeToNextUpdate(t *testing.T) {
	p := newLivePKI(t)
	now := time.Now().Truncate(time.Second) // a CRL's times are whole seconds
	th := thresholds{warn: 4 * time.Hour, crit: 2 * time.Hour}
	for _, tc := range []struct {
		left time.Duration
		want severity
	}{
		{left: 24 * time.Hour, want: sevOK},
		{left: 3 * time.Hour, want: sevWarning},
		{left: time.Hour, want: sevCritical},
	} {
		parsed, err := crl.Parse(p.inter.MustCRL(nil, now.Add(-time.Hour), now.Add(tc.left)), p.inter.Cert)
		if err != nil {
			t.Fatal(err)
		}
		rep := &probe.Report{
			Endpoints: []*probe.StapleResult{{Address: "127.0.0.1:443", HandshakeOK: true}},
			Chain:     []*probe.ChainCert{{CRLs: []*probe.CRLResult{{URL: "http://127.0.0.1/ca.crl", Snapshot: &crl.Snapshot{CRL: parsed}}}}},
		}
		v := judge(rep, "127.0.0.1:443", th, now)
		if v.Status != tc.want || (tc.want != sevOK && (len(v.Findings) != 1 || v.Findings[0].Reason != findingCRLExpiring)) {
			t.Errorf("%s left: verdict %s %+v, want %s", tc.left, v.Status, v.Findings, tc.want)
		}
		perf := perfData(checkRun{label: "x", rep: rep, verdict: v, now: now}, "", th)
		if want := fmt.Sprintf("'crl_ttl'=%ds;14400:;7200:", int(tc.left.Seconds())); !slices.Contains(perf, want) {
			t.Errorf("%s left: perfdata %v lacks %s", tc.left, perf, want)
		}
	}
}

// TestJudgeKeepsAddressesApart: with several addresses, two that fail
// alike are two findings, each naming its address, and a problem the
// policy lets pass is a note, not a finding.
func TestJudgeKeepsAddressesApart(t *testing.T) {
	refused := []probe.Problem{{Reason: probe.ReasonConnect, Detail: "connection refused"}}
	rep := &probe.Report{Endpoints: []*probe.StapleResult{
		{Address: "127.0.0.1:443", Problems: refused},
		{Address: "127.0.0.2:443", Problems: refused},
		{Address: "127.0.0.3:443", HandshakeOK: true, Problems: []probe.Problem{{Reason: probe.ReasonStapleMissing}}},
	}}
	rep.Failures = probe.Evaluate(rep, probe.RequireAuto)
	v := judge(rep, "www.test:443", thresholds{warn: 4 * time.Hour, crit: 2 * time.Hour}, time.Now())
	want := []finding{
		{Severity: sevCritical, Reason: "connect", Text: probe.ReasonConnect.Describe(), Detail: "127.0.0.1:443: connection refused"},
		{Severity: sevCritical, Reason: "connect", Text: probe.ReasonConnect.Describe(), Detail: "127.0.0.2:443: connection refused"},
	}
	if v.Status != sevCritical || !slices.Equal(v.Findings, want) {
		t.Errorf("verdict %s findings %+v, want CRITICAL %+v", v.Status, v.Findings, want)
	}
	if len(v.Notes) != 1 || v.Notes[0].Reason != "staple_missing" || v.Notes[0].Detail != "127.0.0.3:443" || v.Notes[0].Severity != sevOK {
		t.Errorf("notes %+v, want the missing staple", v.Notes)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/openssltest"
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

// pluginStatusRE is the first line of a plugin's output (guidelines §2.3):
// the service, the status, a text without '|', then optional perfdata.
var pluginStatusRE = regexp.MustCompile(`^OCSP (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.+))?$`)

// perfItemRE is one performance datum (guidelines §2.6):
// 'label'=value[UOM];[warn];[crit];[min];[max], with the label quoted
// (a quote doubled inside) or bare (no space, '=' or quote), value, min
// and max in [-0-9.], warn and crit in the range format of §2.5.
var perfItemRE = regexp.MustCompile(`^(?:'((?:[^'=]|'')+)'|([^ '=]+))=(-?[0-9.]+)(s|ms|us|%|B|KB|MB|GB|TB|c)?` +
	`(?:;(` + rangeRE + `)?(?:;(` + rangeRE + `)?(?:;(-?[0-9.]+)?(?:;(-?[0-9.]+)?)?)?)?)?$`)

const rangeRE = `@?(?:~|-?[0-9.]+)?:?(?:-?[0-9.]+)?`

// splitPerfData splits perfdata on the spaces outside quoted labels.
func splitPerfData(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
			}
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// checkPluginOutput holds output to the monitoring-plugins guidelines and
// returns the perfdata by label.
func checkPluginOutput(t *testing.T, code int, out string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	m := pluginStatusRE.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("status line %q is not OCSP STATUS - text [| perfdata]", lines[0])
	}
	if want := [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[code]; m[1] != want {
		t.Errorf("status %s with exit code %d (%s)", m[1], code, want)
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "|") {
			t.Errorf("long text line %q holds a '|'", l)
		}
	}
	perf := map[string][]string{}
	for _, item := range splitPerfData(m[3]) {
		p := perfItemRE.FindStringSubmatch(item)
		if p == nil {
			t.Errorf("perfdata %q does not follow 'label'=value[UOM];[warn];[crit];[min];[max]", item)
			continue
		}
		label := strings.ReplaceAll(p[1]+p[2], "''", "'")
		perf[label] = p[3:]
	}
	return perf
}

func TestPerfDataParserRejectsBadSyntax(t *testing.T) {
	for _, bad := range []string{"label with space=1", "'x'=1sec", "'x'=abc", "'x'=1;2;3;4;5;6", "'x=1", "'x'=1;ab"} {
		if perfItemRE.MatchString(bad) {
			t.Errorf("the perfdata parser accepts %q", bad)
		}
	}
	for _, good := range []string{"'staple_ttl'=12345s;14400:;7200:", "time=0.120s;;;0", "'a b'=1", "'it''s'=-5s;@1:2;~:3;0;9", "x=1;"} {
		if !perfItemRE.MatchString(good) {
			t.Errorf("the perfdata parser rejects %q", good)
		}
	}
}

// TestCheckNagiosPerfData: the TTLs count down to NextUpdate with the
// thresholds as "alert below" ranges, and the responder time is there.
func TestCheckNagiosPerfData(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.good.Cert}})
	addr := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	code, out, errOut := runCLI("check", addr, "--ca-file", p.rootFile, "--url", resp.URL, "--output", "nagios", "--warn", "50m", "--crit", "30m")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	perf := checkPluginOutput(t, code, out)
	ttl := func(label string, want time.Duration) {
		v := perf[label]
		if v == nil {
			t.Fatalf("no %s in %q", label, out)
		}
		secs, _ := strconv.Atoi(v[0])
		if d := time.Duration(secs) * time.Second; d > want || d < want-time.Minute || v[1] != "s" || v[2] != "3000:" || v[3] != "1800:" {
			t.Errorf("%s = %v, want %s left in s with warn 3000: and crit 1800:", label, v, want)
		}
	}
	ttl("staple_ttl", 76*time.Hour)
	ttl("response_ttl", time.Hour) // openssl ocsp -nmin 60
	for _, label := range []string{"handshake_time", "responder_time"} {
		if v := perf[label]; v == nil || v[1] != "s" || v[4] != "0" {
			t.Errorf("%s = %v, want seconds with min 0", label, v)
		}
	}
	if !strings.HasPrefix(out, "OCSP OK - "+addr+": staple good, 3d") {
		t.Errorf("status line %q", strings.SplitN(out, "\n", 2)[0])
	}
}

// TestCheckNagiosUnknown: what cannot be probed, and a usage error, are
// UNKNOWN (exit 3) on stdout, one line each.
func TestCheckNagiosUnknown(t *testing.T) {
	closed := loopback.ClosedAddr(t)
	for _, args := range [][]string{
		{"check", closed, "--output", "nagios"},
		{"check", "--output=nagios", "--method", "put", closed},
		{"check", "--output", "nagios", "--no-such-flag", closed},
		{"check", "--output", "nagios", "--warn", "1h", "--crit", "2h", closed},
	} {
		code, out, errOut := runCLI(args...)
		if code != 3 || errOut != "" || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: exit %d stdout %q stderr %q, want exit 3 and one line", args, code, out, errOut)
		}
		checkPluginOutput(t, code, out)
	}
	_, out, _ := runCLI("check", closed, "--output", "nagios")
	if want := "OCSP UNKNOWN - " + closed + ": connect: connection refused\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestCheckErrorNamesEndpointAndCauseOnce pins the exact one-line form.
func TestCheckErrorNamesEndpointAndCauseOnce(t *testing.T) {
	closed := loopback.ClosedAddr(t)
	code, out, errOut := runCLI("check", closed)
	if want := "ocspwatch: check " + closed + ": connect: connection refused\n"; code != exitError || out != "" || errOut != want {
		t.Errorf("exit %d stdout %q stderr %q, want %q", code, out, errOut, want)
	}
	code, _, errOut = runCLI("check", "https://"+closed+"/some/path")
	if want := "ocspwatch: check " + closed + ": connect: connection refused\n"; code != exitError || errOut != want {
		t.Errorf("https URL: exit %d stderr %q, want %q", code, errOut, want)
	}
}

// TestCheckAcceptsHTTPSURL: https://host:port/path is the endpoint
// host:port, and output is labelled with it.
func TestCheckAcceptsHTTPSURL(t *testing.T) {
	p := newLivePKI(t)
	addr := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	code, out, errOut := runCLI("check", "https://"+addr+"/some/path", "--ca-file", p.rootFile, "--no-responder")
	if code != exitOK || !strings.HasPrefix(out, "ocspwatch check "+addr+"\n") || !strings.Contains(out, "verdict: OK") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckManyEndpoints: arguments and a targets file, checked
// concurrently; one block each, a summary, the worst exit code, and the
// JSON and nagios shapes.
func TestCheckManyEndpoints(t *testing.T) {
	p := newLivePKI(t)
	fresh := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	expiring := stapleServer(t, p, p.good, testpki.Good, 3*time.Hour)
	revoked := stapleServer(t, p, p.good, testpki.Revoked, 76*time.Hour)
	closed := loopback.ClosedAddr(t)
	file := filepath.Join(t.TempDir(), "targets")
	if err := os.WriteFile(file, []byte("# fleet\n\n  "+expiring+"  \n# "+revoked+" is commented out\nhttps://"+fresh+"/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"check", closed, "--targets-file", file, "--ca-file", p.rootFile, "--no-responder", "--concurrency", "2"}

	code, out, errOut := runCLI(base...)
	if code != exitError {
		t.Errorf("text: exit %d, want 2 for the unreachable one\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "ocspwatch check "); n != 3 {
		t.Errorf("text: %d blocks, want 3\n%s", n, out)
	}
	if !strings.HasSuffix(out, "\nsummary: UNKNOWN, 3 endpoints: 1 OK, 1 WARNING, 0 CRITICAL, 1 UNKNOWN\n") {
		t.Errorf("text: summary line missing\n%s", out)
	}
	if !strings.Contains(out, "verdict: UNKNOWN, connect: connection refused") {
		t.Errorf("text: the unreachable block lacks its cause\n%s", out)
	}

	code, out, _ = runCLI(append(base, "--output", "json")...)
	var doc manyJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if code != exitError || doc.SchemaVersion != 1 || doc.Verdict != "UNKNOWN" || doc.ExitCode != exitError || len(doc.Results) != 3 ||
		doc.Summary["OK"] != 1 || doc.Summary["WARNING"] != 1 || doc.Summary["UNKNOWN"] != 1 || doc.Summary["CRITICAL"] != 0 {
		t.Errorf("JSON: exit %d document %+v", code, doc)
	}
	for i, want := range []string{closed, expiring, fresh} {
		if i < len(doc.Results) && doc.Results[i].Target != want {
			t.Errorf("JSON: result %d is %s, want %s (the order named)", i, doc.Results[i].Target, want)
		}
	}
	if len(doc.Results) == 3 && (doc.Results[0].Error != "connect: connection refused" || doc.Results[1].Verdict != "WARNING") {
		t.Errorf("JSON: results %+v", doc.Results)
	}

	// A CRITICAL outranks an UNKNOWN, as Nagios ranks states.
	code, out, _ = runCLI(append(base, revoked, "--output", "nagios")...)
	perf := checkPluginOutput(t, code, out)
	if code != int(sevCritical) || !strings.HasPrefix(out, "OCSP CRITICAL - 4 endpoints: 1 OK, 1 WARNING, 1 CRITICAL, 1 UNKNOWN") {
		t.Errorf("nagios: exit %d\n%s", code, out)
	}
	for _, ep := range []string{expiring, fresh, revoked} {
		if perf[ep+" staple_ttl"] == nil {
			t.Errorf("nagios: no perfdata %q in %v", ep+" staple_ttl", perf)
		}
		if !strings.Contains(out, "\n"+ep+": ") {
			t.Errorf("nagios: no long-text line for %s\n%s", ep, out)
		}
	}
}

func TestCheckTargetsFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	empty := filepath.Join(dir, "empty")
	big := filepath.Join(dir, "big")
	_ = os.WriteFile(bad, []byte("127.0.0.1:1\n# ok\nhttp://x.test/\n"), 0o600)
	_ = os.WriteFile(empty, []byte("# nothing\n\n"), 0o600)
	_ = os.WriteFile(big, []byte(strings.Repeat("#\n", maxTargetsFileBytes)), 0o600)
	for _, tc := range []struct {
		file, want string
	}{
		{bad, bad + `:3 "http://x.test/": endpoint:`},
		{empty, "names no endpoint"},
		{big, "more than the"},
		{dir, "is a directory"},
	} {
		code, out, errOut := runCLI("check", "--targets-file", tc.file)
		if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d stdout %q stderr %q, want one line with %q", tc.file, code, out, errOut, tc.want)
		}
	}
}

// TestCheckSavesDERThatOpenSSLReads: the saved staple and response are
// the DER that `openssl ocsp -respin` reads.
func TestCheckSavesDERThatOpenSSLReads(t *testing.T) {
	p := newLivePKI(t)
	resp := openssltest.StartResponder(t, p.inter, p.signer, []openssltest.IndexEntry{{Cert: p.good.Cert}})
	addr := stapleServer(t, p, p.good, testpki.Good, 76*time.Hour)
	dir := t.TempDir()
	stapleFile, responseFile := filepath.Join(dir, "staple.der"), filepath.Join(dir, "response.der")
	code, out, errOut := runCLI("check", loopback.ClosedAddr(t), addr, "--ca-file", p.rootFile, "--url", resp.URL,
		"--staple-out", stapleFile, "--response-out", responseFile)
	if code != exitError || errOut != "" {
		t.Fatalf("exit %d, want 2 (one endpoint unreachable) and no error\n%s%s", code, out, errOut)
	}
	for _, f := range []struct {
		path, want string
	}{
		{stapleFile, "Next Update: "},
		{responseFile, "Cert Status: good"},
	} {
		text, err := exec.Command(openssltest.Require(t), "ocsp", "-respin", f.path, "-resp_text", "-noverify").CombinedOutput()
		if err != nil || !strings.Contains(string(text), "OCSP Response Status: successful") || !strings.Contains(string(text), f.want) {
			t.Errorf("openssl ocsp -respin %s: %v\n%s", filepath.Base(f.path), err, text)
		}
	}

	code, _, errOut = runCLI("check", stapleServer(t, p, p.good, 0, 0), "--ca-file", p.rootFile, "--no-responder", "--staple-out", filepath.Join(dir, "none.der"))
	if code != exitError || !strings.Contains(errOut, "--staple-out: no endpoint sent a staple") {
		t.Errorf("nothing to save: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.der")); err == nil {
		t.Error("a file was written with no staple to save")
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runCLI(args...)
		if code != exitOK || !strings.HasPrefix(out, "ocspwatch, version ") || !strings.Contains(out, "revision: ") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

// TestBuiltBinaryCarriesTheRevision clones this checkout's HEAD into a
// temporary directory, builds the command there with a plain `go build`,
// and checks that --version and version print the commit. The clone is
// needed: the go command stamps builds inside a .git directory, and a
// git worktree has a .git file instead.
func TestBuiltBinaryCarriesTheRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the checkout and builds the binary")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout, so a build carries no revision: %v", err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if b, err := exec.Command("git", "clone", "-q", "--no-local", "--depth", "1", "file://"+strings.TrimSpace(string(top)), src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, b)
	}
	head, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ocspwatch")
	// -buildvcs=true is the default for a build in a checkout; spelled
	// out, it overrides a -buildvcs=false in GOFLAGS or the go env file.
	// Modules come from the local cache only, so nothing leaves the host.
	build := exec.Command(goCmd, "build", "-buildvcs=true", "-o", bin, "./cmd/ocspwatch")
	build.Dir = src
	build.Env = append(os.Environ(), "GOPROXY=off")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	rev := strings.TrimSpace(string(head))
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("revision: %s", rev)) {
			t.Errorf("%s %v: %v\n%s, want revision %s", bin, args, err, out, rev)
		}
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

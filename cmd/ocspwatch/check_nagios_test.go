package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// pluginStatusRE is the first line of a plugin's output (guidelines §2.3):
// the service, the status, a text without '|', then optional perfdata.
var pluginStatusRE = regexp.MustCompile(`^OCSP (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.+))?$`)

// perfItemRE is one performance datum (guidelines §2.6):
// 'label'=value[UOM];[warn];[crit];[min];[max], with the label quoted
// (a quote doubled inside) or bare (no space, '=' or quote), value, min
// and max in [-0-9.], warn and crit in the range format of §2.5.
var perfItemRE = regexp.MustCompile(`^(?:'((?:[^']|'')+)'|([^ '=]+))=(-?[0-9.]+)(s|ms|us|%|B|KB|MB|GB|TB|c)?` +
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

// TestPerfItemQuotesLabels: a quote in a label is doubled, trailing empty
// fields are dropped, and the result parses back to the same label.
func TestPerfItemQuotesLabels(t *testing.T) {
	for _, tc := range []struct {
		label, value, warn, crit, min string
		want                          string
	}{
		{
			label: "staple_ttl",
			value: "12345s",
			warn:  "14400:",
			crit:  "7200:",
			want:  "'staple_ttl'=12345s;14400:;7200:",
		},
		{
			label: "it's a=b",
			value: "1s",
			want:  "'it''s a=b'=1s",
		},
		{
			label: "responder_time",
			value: "0.120s",
			min:   "0",
			want:  "'responder_time'=0.120s;;;0",
		},
	} {
		got := perfItem(tc.label, tc.value, tc.warn, tc.crit, tc.min)
		m := perfItemRE.FindStringSubmatch(got)
		if got != tc.want || m == nil || strings.ReplaceAll(m[1], "''", "'") != tc.label {
			t.Errorf("perfItem(%q) = %q, want %q that parses back", tc.label, got, tc.want)
		}
	}
}

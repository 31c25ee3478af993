package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// crlPKI is a CA hierarchy whose certificates name CRLs and no OCSP
// responder, as public CAs issue them since OCSP became optional. Every
// CRL is signed by `openssl ca -gencrl` and served by nginx from crlDir.
//
//	root ─┬─ inter  ─┬─ good, revoked      → inter.crl (lists revoked)
//	      │          ├─ stale              → inter-stale.crl (NextUpdate an hour ago)
//	      │          ├─ forged             → inter-forged.crl (signed by another key)
//	      │          ├─ notfound           → missing.crl (404)
//	      │          └─ unreachable        → a port nobody listens on
//	      └─ inter2 (revoked by root.crl) ─ underrevoked → inter2.crl
type crlPKI struct {
	*opensslPKI
	crlDir, crlBase string
	unreachable     string // a CRL URL nobody answers
	// revokedAt is when the CRLs say each listed certificate was revoked.
	revokedAt map[string]time.Time
}

// The leaves of crlPKI, each named after the case it serves.
const (
	crlGood         = "good"
	crlRevoked      = "revoked"
	crlStale        = "stale"
	crlForged       = "forged"
	crlNotFound     = "notfound"
	crlUnreachable  = "unreachable"
	crlUnderRevoked = "underrevoked"
)

func (p *crlPKI) url(file string) string { return p.crlBase + "/" + file }

func newCRLPKI(t *testing.T, crlPort, deadPort string) *crlPKI {
	t.Helper()
	p := &crlPKI{opensslPKI: &opensslPKI{dir: t.TempDir(), root: "root", inter: "inter"},
		crlBase: "http://127.0.0.1:" + crlPort, unreachable: "http://127.0.0.1:" + deadPort + "/inter.crl",
		revokedAt: map[string]time.Time{}}
	p.crlDir = filepath.Join(p.dir, "crl")
	if err := os.Mkdir(p.crlDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cdp := func(url string) string { return "crlDistributionPoints = URI:" + url + "\n" }
	ca := "basicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
	leaf := "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier = keyid\n"
	ext := "[root]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n" +
		"[impostor]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n" +
		"[inter]\n" + ca + cdp(p.url("root.crl")) +
		"[inter2]\n" + ca + cdp(p.url("root.crl")) +
		"[good]\n" + leaf + cdp(p.url("inter.crl")) +
		"[revoked]\n" + leaf + cdp(p.url("inter.crl")) +
		"[stale]\n" + leaf + cdp(p.url("inter-stale.crl")) +
		"[forged]\n" + leaf + cdp(p.url("inter-forged.crl")) +
		"[notfound]\n" + leaf + cdp(p.url("missing.crl")) +
		"[unreachable]\n" + leaf + cdp(p.unreachable) +
		"[underrevoked]\n" + leaf + cdp(p.url("inter2.crl"))
	if err := os.WriteFile(filepath.Join(p.dir, "crlext.cnf"), []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	issue := func(name, subject, issuer string, serial int) {
		p.issue(t, "crlext.cnf", name, subject, issuer, serial)
	}
	issue(p.root, "/O=ocspwatch e2e/CN=e2e CRL Root CA", "", 1)
	issue(p.inter, "/O=ocspwatch e2e/CN=e2e CRL Issuing CA", p.root, 2)
	issue("inter2", "/O=ocspwatch e2e/CN=e2e CRL Revoked Issuing CA", p.root, 3)
	// The impostor has the issuing CA's name and a key of its own.
	issue("impostor", "/O=ocspwatch e2e/CN=e2e CRL Issuing CA", "", 4)
	for i, name := range []string{crlGood, crlRevoked, crlStale, crlForged, crlNotFound, crlUnreachable} {
		issue(name, "/O=ocspwatch e2e/CN="+name, p.inter, 10+i)
		writeConcat(t, p.chain(name), p.pem(name), p.pem(p.inter))
	}
	issue(crlUnderRevoked, "/O=ocspwatch e2e/CN="+crlUnderRevoked, "inter2", 20)
	writeConcat(t, p.chain(crlUnderRevoked), p.pem(crlUnderRevoked), p.pem("inter2"))

	entry := func(name string) openssltest.IndexEntry {
		return openssltest.IndexEntry{Cert: loadCert(t, p.pem(name))}
	}
	revoked := func(name string, ago time.Duration) openssltest.IndexEntry {
		e := entry(name)
		e.Revoked, e.RevokedAt = true, time.Now().Add(-ago).Truncate(time.Second)
		p.revokedAt[name] = e.RevokedAt
		return e
	}
	gen := func(file string, opts openssltest.CRLOptions) {
		openssltest.GenCRL(t, filepath.Join(p.crlDir, file), opts)
	}
	gen("root.crl", openssltest.CRLOptions{CA: p.pem(p.root), CAKey: p.key(p.root),
		Entries: []openssltest.IndexEntry{entry(p.inter), revoked("inter2", time.Hour)}})
	gen("inter.crl", openssltest.CRLOptions{CA: p.pem(p.inter), CAKey: p.key(p.inter),
		Entries: []openssltest.IndexEntry{entry(crlGood), revoked(crlRevoked, time.Hour)}})
	// The stale and the forged CRL both list their leaf: a verdict taken
	// from a CRL that cannot be trusted would show as a revocation.
	gen("inter-stale.crl", openssltest.CRLOptions{CA: p.pem(p.inter), CAKey: p.key(p.inter),
		Entries: []openssltest.IndexEntry{revoked(crlStale, 3*time.Hour)}, Hours: 1, ClockOffset: "-2h"})
	gen("inter-forged.crl", openssltest.CRLOptions{CA: p.pem("impostor"), CAKey: p.key("impostor"),
		Entries: []openssltest.IndexEntry{revoked(crlForged, time.Hour)}})
	gen("inter2.crl", openssltest.CRLOptions{CA: p.pem("inter2"), CAKey: p.key("inter2"),
		Entries: []openssltest.IndexEntry{entry(crlUnderRevoked)}})
	return p
}

// startCRLNginx starts one nginx that serves crlDir over plain HTTP on
// crlPort, as CRL distribution points are, and a TLS server block per
// leaf, with no stapling.
func startCRLNginx(t *testing.T, p *crlPKI, crlPort string, servers []nginxServer) *proc.Process {
	t.Helper()
	bin := requireTool(t, "nginx", "nginx")
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n", dir, dir)
	if os.Geteuid() == 0 {
		b.WriteString("user root root;\n") // the workers must read the test's private files
	}
	b.WriteString("events { worker_connections 64; }\nhttp {\n  access_log off;\n")
	for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s/%s;\n", tmp, dir, tmp)
	}
	fmt.Fprintf(&b, "  server {\n    listen 127.0.0.1:%s;\n    root %s;\n    types { application/pkix-crl crl; }\n    default_type application/octet-stream;\n  }\n", crlPort, p.crlDir)
	for _, s := range servers {
		fmt.Fprintf(&b, "  server {\n    listen 127.0.0.1:%s ssl;\n    server_name localhost;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    location / { return 200 \"ok\\n\"; }\n  }\n",
			s.port, p.chain(s.cert), p.key(s.cert))
	}
	b.WriteString("}\n")
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n := proc.Start(t, bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	up := func(what string, ready func() bool) {
		proc.WaitFor(t, 10*time.Second, "nginx to listen for "+what, func() bool {
			if n.Exited() {
				log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				t.Fatalf("nginx exited:\n%s\n%s", n.Output(), log)
			}
			return ready()
		})
	}
	up("CRLs on "+crlPort, func() bool {
		code, _, err := httpGet(p.url("root.crl"))
		return err == nil && code == 200
	})
	for _, s := range servers {
		up(s.name+" on "+s.port, func() bool {
			c, err := tls.Dial("tcp", "127.0.0.1:"+s.port, &tls.Config{InsecureSkipVerify: true})
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return n
}

// checkJSON is the part of `check --output json` the CRL cases read.
type checkJSON struct {
	Success  bool           `json:"success"`
	ExitCode int            `json:"exit_code"`
	Failures []reasonJSON   `json:"failures"`
	Chain    []chainEntryJS `json:"chain"`
}

type reasonJSON struct {
	Reason string `json:"reason"`
}

type chainEntryJS struct {
	Depth    int          `json:"depth"`
	Subject  string       `json:"subject"`
	Revoked  *bool        `json:"revoked"`
	Problems []reasonJSON `json:"problems"`
	CRLs     []struct {
		URL       string       `json:"url"`
		Entries   int          `json:"entries"`
		Trusted   bool         `json:"trusted"`
		Listed    bool         `json:"listed"`
		RevokedAt *time.Time   `json:"revoked_at"`
		Reason    string       `json:"revocation_reason"`
		Problems  []reasonJSON `json:"problems"`
	} `json:"crls"`
}

func reasons(list []reasonJSON) []string {
	out := []string{}
	for _, r := range list {
		out = append(out, r.Reason)
	}
	return out
}

// crlWant is what one depth of the chain must show: its one CRL's URL,
// size and verdict, and the problems of the certificate as a whole.
// revoked is the depth's roll-up: "" when no trusted CRL spoke, else
// "true" or "false".
type crlWant struct {
	url         string
	entries     int
	trusted     bool
	listed      bool
	revokedAt   time.Time
	reason      string
	crlProblems []string
	problems    []string
	revoked     string
}

// TestCRLAgainstNginx checks certificates that name only CRLs, signed by
// `openssl ca -gencrl` and served by nginx, through the built binary's
// check command (JSON and text) and its agent.
func TestCRLAgainstNginx(t *testing.T) {
	crlPort, deadPort := proc.FreePort(t), proc.FreePort(t)
	pki := newCRLPKI(t, crlPort, deadPort)
	var servers []nginxServer
	addr := map[string]string{}
	for _, name := range []string{crlGood, crlRevoked, crlStale, crlForged, crlNotFound, crlUnreachable, crlUnderRevoked} {
		s := nginxServer{name: name, port: proc.FreePort(t), cert: name}
		servers = append(servers, s)
		addr[name] = "127.0.0.1:" + s.port
	}
	startCRLNginx(t, pki, crlPort, servers)
	if code, _, err := httpGet(pki.url("missing.crl")); err != nil || code != 404 {
		t.Fatalf("nginx answers missing.crl with HTTP %d %v, want 404", code, err)
	}

	rootCRL := crlWant{url: pki.url("root.crl"), entries: 1, trusted: true, crlProblems: []string{}, problems: []string{}, revoked: "false"}
	// A CRL that cannot be trusted gives no verdict, though the stale and
	// the forged one list their leaf.
	untrusted := func(url string, entries int, reasons ...string) crlWant {
		return crlWant{url: url, entries: entries, crlProblems: reasons, problems: reasons}
	}
	cases := []struct {
		name     string
		args     []string
		code     int
		failures []string
		leaf     crlWant
		inter    crlWant
		text     []string
	}{
		{
			name:     crlGood,
			code:     0,
			failures: []string{},
			leaf:     crlWant{url: pki.url("inter.crl"), entries: 1, trusted: true, crlProblems: []string{}, problems: []string{}, revoked: "false"},
			inter:    rootCRL,
			text:     []string{"crl  leaf: " + pki.url("inter.crl"), "good: not listed among 1 entries", "verdict: OK"},
		},
		{
			name:     crlRevoked,
			code:     1,
			failures: []string{"crl_revoked"},
			leaf: crlWant{
				url:         pki.url("inter.crl"),
				entries:     1,
				trusted:     true,
				listed:      true,
				revokedAt:   pki.revokedAt[crlRevoked],
				reason:      "keyCompromise",
				crlProblems: []string{"crl_revoked"},
				problems:    []string{"crl_revoked"},
				revoked:     "true",
			},
			inter: rootCRL,
			text: []string{
				"crl  leaf: " + pki.url("inter.crl"),
				"revoked (CRL) at " + pki.revokedAt[crlRevoked].UTC().Format("2006-01-02 15:04:05 UTC") + ", keyCompromise",
				"verdict: CRITICAL",
			},
		},
		{
			// Without CRL checks the same certificate passes: the CRL
			// alone finds it revoked.
			name:     crlRevoked + " --crl off",
			args:     []string{"--crl", "off"},
			code:     0,
			failures: []string{},
			text:     []string{"verdict: OK"},
		},
		{
			// A CRL's own problems do not fail the endpoint, as a
			// responder outage does not; no verdict is taken from it.
			name:     crlStale,
			code:     0,
			failures: []string{},
			leaf:     untrusted(pki.url("inter-stale.crl"), 1, "crl_stale"),
			inter:    rootCRL,
			text:     []string{"crl  leaf: " + pki.url("inter-stale.crl"), "no verdict: the CRL is outside its validity window", "verdict: OK"},
		},
		{
			name:     crlForged,
			code:     0,
			failures: []string{},
			leaf:     untrusted(pki.url("inter-forged.crl"), 1, "crl_bad_signature"),
			inter:    rootCRL,
			text:     []string{"crl  leaf: " + pki.url("inter-forged.crl"), "no verdict: the CRL is not signed by the certificate's issuer", "verdict: OK"},
		},
		{
			name:     crlNotFound,
			code:     0,
			failures: []string{},
			leaf:     untrusted(pki.url("missing.crl"), 0, "crl_http_status"),
			inter:    rootCRL,
			text:     []string{"crl  leaf: " + pki.url("missing.crl"), "no verdict: the CRL distribution point answered with an HTTP status other than 200", "HTTP 404"},
		},
		{
			name:     crlUnreachable,
			code:     0,
			failures: []string{},
			leaf:     untrusted(pki.unreachable, 0, "crl_unreachable"),
			inter:    rootCRL,
			text:     []string{"crl  leaf: " + pki.unreachable, "no verdict: the CRL distribution point could not be reached", "verdict: OK"},
		},
		{
			name:     crlUnderRevoked,
			code:     1,
			failures: []string{"chain_revoked"},
			leaf:     crlWant{url: pki.url("inter2.crl"), trusted: true, crlProblems: []string{}, problems: []string{}, revoked: "false"},
			inter: crlWant{
				url:         pki.url("root.crl"),
				entries:     1,
				trusted:     true,
				listed:      true,
				revokedAt:   pki.revokedAt["inter2"],
				reason:      "keyCompromise",
				crlProblems: []string{"crl_revoked"},
				problems:    []string{"chain_revoked"},
				revoked:     "true",
			},
			text: []string{
				"crl  depth 1, CN=e2e CRL Revoked Issuing CA,O=ocspwatch e2e: " + pki.url("root.crl"),
				"revoked (CRL) at " + pki.revokedAt["inter2"].UTC().Format("2006-01-02 15:04:05 UTC"),
				"a certificate above the leaf in the chain is revoked",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := strings.Fields(tc.name)[0]
			base := append([]string{"check", addr[server], "--servername", "localhost", "--ca-file", pki.pem(pki.root)}, tc.args...)
			out, code := runCheck(t, append(base, "--output", "json")...)
			var doc checkJSON
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("case %s: JSON does not parse: %v\n%s", tc.name, err, out)
			}
			if code != tc.code || doc.ExitCode != tc.code || doc.Success != (tc.code == 0) || !slices.Equal(reasons(doc.Failures), tc.failures) {
				t.Errorf("case %s: exit %d (JSON %d) success %v failures %v, want exit %d failures %v\n%s",
					tc.name, code, doc.ExitCode, doc.Success, reasons(doc.Failures), tc.code, tc.failures, out)
			}
			for depth, want := range []crlWant{tc.leaf, tc.inter} {
				checkDepth(t, tc.name, doc, depth, want)
			}

			text, code := runCheck(t, base...)
			if code != tc.code {
				t.Errorf("case %s: text output exits %d, want %d", tc.name, code, tc.code)
			}
			for _, want := range tc.text {
				if !strings.Contains(string(text), want) {
					t.Errorf("case %s: the text output does not say %q:\n%s", tc.name, want, text)
				}
			}
		})
	}

	t.Run("agent", func(t *testing.T) {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "region = \"e2e\"\ndefault_schedule = \"@every 2s\"\ndefault_timeout = \"3s\"\n\n[network]\nallow = [\"127.0.0.0/8\"]\n")
		for _, name := range []string{crlGood, crlRevoked, crlStale, crlUnderRevoked} {
			fmt.Fprintf(&cfg, "\n[[target]]\nname = %q\nendpoint = %q\nserver_name = \"localhost\"\nca_file = %q\n", name, addr[name], pki.pem(pki.root))
		}
		configFile := filepath.Join(t.TempDir(), "ocspwatch.toml")
		if err := os.WriteFile(configFile, []byte(cfg.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		agent := startAgent(t, "--config.file="+configFile)
		proc.WaitFor(t, 20*time.Second, "every target to run", func() bool {
			return strings.Count(agent.metrics(t), "\nocsp_probe_success{") == 4
		})
		v := verdicts{t: t, body: agent.metrics(t), where: addr}
		crl := func(depth string) map[string]string { return map[string]string{"source": "crl", "depth": depth} }
		v.want(crlGood, "ocsp_probe_success", nil, 1)
		v.want(crlGood, "ocsp_cert_revoked", crl("0"), 0)
		v.want(crlGood, "ocsp_cert_revoked", crl("1"), 0)
		v.want(crlGood, "ocsp_crl_cert_revoked", map[string]string{"depth": "0", "url": pki.url("inter.crl")}, 0)
		v.want(crlRevoked, "ocsp_probe_success", nil, 0)
		v.want(crlRevoked, "ocsp_probe_failure_reason", map[string]string{"reason": "crl_revoked"}, 1)
		v.want(crlRevoked, "ocsp_cert_revoked", crl("0"), 1)
		v.want(crlRevoked, "ocsp_cert_revoked", crl("1"), 0)
		v.want(crlRevoked, "ocsp_crl_cert_revoked", map[string]string{"depth": "0", "url": pki.url("inter.crl")}, 1)
		for _, url := range []string{pki.url("inter.crl"), pki.url("root.crl")} {
			for _, metric := range []string{"ocsp_crl_up", "ocsp_crl_valid"} {
				if got, ok := sample(v.body, metric, map[string]string{"url": url}); !ok || got != 1 {
					t.Errorf("CRL %s: %s = %v (found %v), want 1", url, metric, got, ok)
				}
			}
		}

		// A stale CRL fails on its own series, not the endpoint, and says
		// nothing about the certificate.
		stale := pki.url("inter-stale.crl")
		v.want(crlStale, "ocsp_probe_success", nil, 1)
		v.want(crlStale, "ocsp_cert_revoked", crl("1"), 0)
		if got, ok := sample(v.body, "ocsp_cert_revoked", map[string]string{"target": crlStale, "source": "crl", "depth": "0"}); ok {
			t.Errorf("target %q: ocsp_cert_revoked{source=crl,depth=0} = %v from a stale CRL, want it absent", crlStale, got)
		}
		if got, ok := sample(v.body, "ocsp_crl_cert_revoked", map[string]string{"target": crlStale, "url": stale}); ok {
			t.Errorf("target %q: ocsp_crl_cert_revoked = %v from a stale CRL, want it absent", crlStale, got)
		}
		for metric, want := range map[string]float64{"ocsp_crl_up": 1, "ocsp_crl_valid": 0} {
			if got, ok := sample(v.body, metric, map[string]string{"url": stale}); !ok || got != want {
				t.Errorf("CRL %s: %s = %v (found %v), want %v", stale, metric, got, ok, want)
			}
		}
		if got, ok := sample(v.body, "ocsp_crl_failure_reason", map[string]string{"url": stale, "reason": "crl_stale"}); !ok || got != 1 {
			t.Errorf("CRL %s: ocsp_crl_failure_reason{reason=crl_stale} = %v (found %v), want 1", stale, got, ok)
		}

		v.want(crlUnderRevoked, "ocsp_probe_success", nil, 0)
		v.want(crlUnderRevoked, "ocsp_probe_failure_reason", map[string]string{"reason": "chain_revoked"}, 1)
		v.want(crlUnderRevoked, "ocsp_cert_revoked", crl("0"), 0)
		v.want(crlUnderRevoked, "ocsp_cert_revoked", crl("1"), 1)
		v.want(crlUnderRevoked, "ocsp_crl_cert_revoked", map[string]string{"depth": "1", "url": pki.url("root.crl")}, 1)

		// Two targets share inter.crl, four root.crl: each is one cache
		// entry, with one set of series.
		if got, ok := sample(v.body, "ocsp_crl_targets", map[string]string{"url": pki.url("inter.crl")}); !ok || got != 2 {
			t.Errorf("CRL %s: ocsp_crl_targets = %v (found %v), want 2", pki.url("inter.crl"), got, ok)
		}
		if got, ok := sample(v.body, "ocsp_crl_targets", map[string]string{"url": pki.url("root.crl")}); !ok || got != 4 {
			t.Errorf("CRL %s: ocsp_crl_targets = %v (found %v), want 4", pki.url("root.crl"), got, ok)
		}
	})
}

// runCheck runs the built binary and returns its standard output and exit
// code; 2 (nothing could be probed) fails the test.
func runCheck(t *testing.T, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = withoutProxyEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code == 2 {
		t.Fatalf("ocspwatch %s: exit 2\n%s\n%s", strings.Join(args, " "), out, stderr.String())
	}
	return out, code
}

// checkDepth compares one depth of check's chain output with want; a
// zero want (no URL) means the depth has no CRL checked.
func checkDepth(t *testing.T, name string, doc checkJSON, depth int, want crlWant) {
	t.Helper()
	var got *chainEntryJS
	for i := range doc.Chain {
		if doc.Chain[i].Depth == depth {
			got = &doc.Chain[i]
		}
	}
	if want.url == "" {
		if got != nil && len(got.CRLs) > 0 {
			t.Errorf("case %s, depth %d: CRLs %+v were checked, want none", name, depth, got.CRLs)
		}
		return
	}
	if got == nil || len(got.CRLs) != 1 {
		t.Errorf("case %s, depth %d: chain entry %+v, want one CRL %s", name, depth, got, want.url)
		return
	}
	c := got.CRLs[0]
	revoked := ""
	if got.Revoked != nil {
		revoked = fmt.Sprint(*got.Revoked)
	}
	var revokedAt time.Time
	if c.RevokedAt != nil {
		revokedAt = *c.RevokedAt
	}
	if c.URL != want.url || c.Entries != want.entries || c.Trusted != want.trusted || c.Listed != want.listed ||
		!revokedAt.Equal(want.revokedAt) || c.Reason != want.reason || !slices.Equal(reasons(c.Problems), want.crlProblems) ||
		!slices.Equal(reasons(got.Problems), want.problems) || revoked != want.revoked {
		t.Errorf("case %s, depth %d: CRL %s of %d entries trusted %v listed %v at %s reason %q problems %v; certificate problems %v revoked %q;\n"+
			"want CRL %s of %d entries trusted %v listed %v at %s reason %q problems %v; certificate problems %v revoked %q",
			name, depth, c.URL, c.Entries, c.Trusted, c.Listed, revokedAt, c.Reason, reasons(c.Problems), reasons(got.Problems), revoked,
			want.url, want.entries, want.trusted, want.listed, want.revokedAt, want.reason, want.crlProblems, want.problems, want.revoked)
	}
}

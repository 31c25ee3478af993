package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/lint"
)

// opensslBundles are real bundles made by the openssl CLI, as a CA and
// an operator would make them, so lint is checked against certificates
// this project's code did not encode.
type opensslBundles struct {
	dir                                 string
	fullchain, wrongOrder, noRevocation string
	leafKey, otherKey                   string
}

func newOpenSSLBundles(t *testing.T) *opensslBundles {
	t.Helper()
	openssl := openssltest.Require(t)
	dir := t.TempDir()
	sh := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, text string) { openssltest.WriteFile(t, dir, name, []byte(text)) }
	write("ca.cnf", "[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
	write("leaf.cnf", "[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"+
		"subjectAltName=DNS:www.example.test,DNS:example.test\n"+
		"authorityInfoAccess=OCSP;URI:http://ocsp.example.test,caIssuers;URI:http://ca.example.test/inter.crt\n"+
		"crlDistributionPoints=URI:http://crl.example.test/inter.crl\n")
	write("norev.cnf", "[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"+
		"subjectAltName=DNS:www.example.test\nauthorityInfoAccess=caIssuers;URI:http://ca.example.test/inter.crt\n")
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"}
	sh(append([]string{"req", "-x509", "-subj", "/CN=OpenSSL Root", "-days", "3650", "-keyout", "root.key", "-out", "root.pem",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}, ec...)...)
	sign := func(name, subject, ca, ext string, days string) {
		sh(append([]string{"req", "-new", "-subj", subject, "-keyout", name + ".key", "-out", name + ".csr"}, ec...)...)
		sh("x509", "-req", "-in", name+".csr", "-CA", ca+".pem", "-CAkey", ca+".key", "-set_serial", "0x"+strings.Repeat("1a", 8),
			"-days", days, "-sha256", "-extfile", ext, "-extensions", "v3", "-out", name+".pem")
	}
	sign("inter", "/CN=OpenSSL Intermediate", "root", "ca.cnf", "1825")
	sign("leaf", "/CN=www.example.test", "inter", "leaf.cnf", "90")
	sign("norev", "/CN=www.example.test", "inter", "norev.cnf", "90")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	b := &opensslBundles{dir: dir, leafKey: filepath.Join(dir, "leaf.key"), otherKey: filepath.Join(dir, "norev.key")}
	b.fullchain = openssltest.WriteFile(t, dir, "fullchain.pem", []byte(read("leaf.pem")+read("inter.pem")))
	b.wrongOrder = openssltest.WriteFile(t, dir, "wrong-order.pem", []byte(read("inter.pem")+read("leaf.pem")))
	b.noRevocation = openssltest.WriteFile(t, dir, "norev-fullchain.pem", []byte(read("norev.pem")+read("inter.pem")))
	return b
}

// lintJSONRun runs `ocspwatch lint --output json` and decodes the result.
func lintJSONRun(t *testing.T, args ...string) (int, lintJSON) {
	t.Helper()
	code, out, errOut := runCLI(append([]string{"lint", "--output", "json"}, args...)...)
	var doc lintJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("lint %v: exit %d, JSON does not parse: %v\n%s%s", args, code, err, out, errOut)
	}
	return code, doc
}

func findingIDsOf(b bundleJSON) []string {
	var ids []string
	for _, f := range b.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestLintPassesAGoodOpenSSLBundleInTheREADMEExample(t *testing.T) {
	b := newOpenSSLBundles(t)
	// The README's CI example, verbatim but for the path.
	ci := section(t, readme(t), "### Lint in CI")
	const step = "- run: ocspwatch lint --require any fullchain.pem\n"
	if !strings.Contains(ci, step) {
		t.Fatalf("the README's CI example no longer runs %q", step)
	}
	args := strings.Fields(strings.TrimPrefix(strings.TrimSpace(step), "- run: ocspwatch "))
	args[len(args)-1] = b.fullchain
	code, out, errOut := runCLI(args...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"leaf         CN=www.example.test", "names        www.example.test, example.test",
		"2 certificate(s), the leaf's issuer is CN=OpenSSL Intermediate", "ocsp         http://ocsp.example.test",
		"key          not checked: no private key", "verdict      ok", "1 bundle(s): 1 ok, 0 warning, 0 critical; exit 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("lint", b.fullchain, "--key", b.leafKey, "--host", "example.test", "--require", "ocsp")
	if code != exitOK || !strings.Contains(out, "key          matches the leaf") {
		t.Errorf("with its key: exit %d\n%s", code, out)
	}
}

func TestLintCatchesAWrongOrderBundle(t *testing.T) {
	b := newOpenSSLBundles(t)
	code, doc := lintJSONRun(t, b.wrongOrder)
	if code != exitProblem || doc.ExitCode != exitProblem || len(doc.Bundles) != 1 {
		t.Fatalf("exit %d, %+v", code, doc)
	}
	got := doc.Bundles[0]
	if !slices.Equal(findingIDsOf(got), []string{"chain_wrong_order"}) || got.Verdict != "critical" || got.Subject != "CN=www.example.test" {
		t.Fatalf("bundle %+v", got)
	}
	f := got.Findings[0]
	if f.Severity != "critical" || f.Check != "chain" || f.Message != "put them in this order: certificate 2 (CN=www.example.test), certificate 1 (CN=OpenSSL Intermediate)" {
		t.Errorf("finding %+v", f)
	}
	code, out, _ := runCLI("lint", b.wrongOrder)
	if code != exitProblem || !strings.Contains(out, "CRITICAL     chain_wrong_order: put them in this order") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}

func TestLintCatchesAKeyMismatch(t *testing.T) {
	b := newOpenSSLBundles(t)
	code, doc := lintJSONRun(t, b.fullchain, "--key", b.otherKey)
	if code != exitProblem || !slices.Equal(findingIDsOf(doc.Bundles[0]), []string{"key_mismatch"}) || doc.Bundles[0].KeysChecked != 1 {
		t.Fatalf("--key: exit %d, %+v", code, doc.Bundles)
	}
	if msg := doc.Bundles[0].Findings[0].Message; !strings.Contains(msg, "the ECDSA key from "+b.otherKey+" is not the key of the leaf") {
		t.Errorf("message %q", msg)
	}
	// The same mistake inside one file: a combined cert-and-key PEM.
	chain, _ := os.ReadFile(b.fullchain)
	key, _ := os.ReadFile(b.otherKey)
	combined := openssltest.WriteFile(t, b.dir, "combined.pem", append(chain, key...))
	code, out, _ := runCLI("lint", combined)
	if code != exitProblem || !strings.Contains(out, "key_mismatch: the ECDSA key from "+combined) || !strings.Contains(out, "key          MISMATCH") {
		t.Errorf("combined file: exit %d\n%s", code, out)
	}
}

func TestLintCatchesALeafWithNoRevocationURL(t *testing.T) {
	b := newOpenSSLBundles(t)
	code, doc := lintJSONRun(t, "--require", "any", b.noRevocation)
	if code != exitProblem || !slices.Equal(findingIDsOf(doc.Bundles[0]), []string{"no_revocation_url"}) {
		t.Fatalf("exit %d, %+v", code, doc.Bundles)
	}
	if got := doc.Bundles[0]; len(got.OCSPURLs) != 0 || len(got.CRLURLs) != 0 || len(got.CAIssuersURLs) != 1 {
		t.Errorf("URLs %v %v %v", got.OCSPURLs, got.CRLURLs, got.CAIssuersURLs)
	}
	if code, _ := lintJSONRun(t, "--require", "none", b.noRevocation); code != exitOK {
		t.Errorf("--require none: exit %d", code)
	}
}

// livePKIForLint issues certificates valid around the real clock, which
// lint runs on.
type lintPKI struct {
	root, inter *testpki.Cert
	dir         string
}

func newLintPKI(t *testing.T) *lintPKI {
	t.Helper()
	root, err := testpki.NewRoot("CLI Lint Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("CLI Lint Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return &lintPKI{root: root, inter: inter, dir: t.TempDir()}
}

func (p *lintPKI) leaf(t *testing.T, change func(*testpki.LeafOptions)) *testpki.Cert {
	t.Helper()
	now := time.Now()
	opts := testpki.LeafOptions{
		DNSNames:    []string{"localhost"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(60 * 24 * time.Hour),
		OCSPServers: []string{"http://127.0.0.1:1/ocsp"},
		CAIssuers:   []string{"http://127.0.0.1:1/inter.crt"},
	}
	if change != nil {
		change(&opts)
	}
	leaf, err := p.inter.NewLeaf(opts)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func (p *lintPKI) write(t *testing.T, name string, parts ...[]byte) string {
	t.Helper()
	var data []byte
	for _, part := range parts {
		data = append(data, part...)
	}
	return openssltest.WriteFile(t, p.dir, name, data)
}

func TestLintStrictFailsOnWarnings(t *testing.T) {
	p := newLintPKI(t)
	withRoot := p.write(t, "with-root.pem", p.leaf(t, nil).PEM(), p.inter.PEM(), p.root.PEM())
	code, out, _ := runCLI("lint", withRoot)
	if code != exitOK || !strings.Contains(out, "warning      chain_includes_root: certificate 3 (CN=CLI Lint Root,O=ocspwatch test) is self-signed; leave it out") {
		t.Errorf("exit %d, want 0 with a warning\n%s", code, out)
	}
	code, out, _ = runCLI("lint", "--strict", withRoot)
	if code != exitProblem || !strings.Contains(out, "(strict: warnings fail); exit 1") {
		t.Errorf("--strict: exit %d, want 1\n%s", code, out)
	}
}

func TestLintExpiryThresholds(t *testing.T) {
	p := newLintPKI(t)
	soon := p.write(t, "soon.pem", p.leaf(t, func(o *testpki.LeafOptions) {
		o.NotBefore, o.NotAfter = time.Now().Add(-70*24*time.Hour), time.Now().Add(20*24*time.Hour+time.Hour)
	}).PEM(), p.inter.PEM())
	for _, tc := range []struct {
		args []string
		code int
		ids  []string
	}{
		{args: nil, code: exitOK, ids: []string{"expires_soon"}},
		{args: []string{"--warn", "480h"}, code: exitOK},
		{args: []string{"--warn", "30d", "--crit", "21d"}, code: exitProblem, ids: []string{"expires_very_soon"}},
	} {
		code, doc := lintJSONRun(t, append(tc.args, soon)...)
		if code != tc.code || !slices.Equal(findingIDsOf(doc.Bundles[0]), tc.ids) {
			t.Errorf("%v: exit %d, findings %v, want %d %v", tc.args, code, doc.Bundles[0].Findings, tc.code, tc.ids)
		}
	}
}

func TestLintOnlineAgainstALoopbackResponder(t *testing.T) {
	p := newLintPKI(t)
	now := time.Now()
	resp := testpki.NewResponder(nil)
	defer resp.Close()
	leaf := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers = []string{resp.URL} })
	bundle := p.write(t, "fullchain.pem", leaf.PEM(), p.inter.PEM())
	for _, tc := range []struct {
		status int
		code   int
		want   string
	}{
		{status: testpki.Good, code: exitOK, want: "online       " + resp.URL + ": good"},
		{status: testpki.Revoked, code: exitProblem, want: "CRITICAL     ocsp_revoked: " + resp.URL + ": the responder says the certificate is revoked"},
	} {
		resp.SetAnswer(func(testpki.Query) []byte {
			return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, tc.status, now.Add(-time.Hour), now.Add(time.Hour))},
				ProducedAt: now, Signer: p.inter}.MustDER()
		})
		code, out, errOut := runCLI("lint", "--online", bundle)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("status %d: exit %d, want %d and %q\n%s%s", tc.status, code, tc.code, tc.want, out, errOut)
		}
	}
	// Offline, the responder is not asked.
	before := len(resp.Queries())
	if code, out, _ := runCLI("lint", bundle); code != exitOK || !strings.Contains(out, "not run: not asked for (--online)") || len(resp.Queries()) != before {
		t.Errorf("offline: exit %d, %d queries\n%s", code, len(resp.Queries())-before, out)
	}
}

func TestLintTextEscapesCertificateFields(t *testing.T) {
	p := newLintPKI(t)
	evil := "evil\x1b[2J\r\nverdict      ok"
	leaf := p.leaf(t, func(o *testpki.LeafOptions) { o.DNSNames = []string{evil} })
	bundle := p.write(t, "evil.pem", leaf.PEM(), p.inter.PEM())
	code, out, _ := runCLI("lint", "--host", "localhost", bundle)
	if code != exitProblem {
		t.Fatalf("exit %d, want 1 (the host is not covered)\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("raw control characters reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `CN=evil\x1b[2J\x0d\x0averdict      ok`) || strings.Count(out, "\n  verdict") != 1 {
		t.Errorf("escaped subject missing or a verdict line was forged:\n%s", out)
	}
}

// junitDoc is read back with its own types, not the writer's, so the
// test checks the XML a CI system would see.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string         `xml:"name,attr"`
		Tests    int            `xml:"tests,attr"`
		Failures int            `xml:"failures,attr"`
		Skipped  int            `xml:"skipped,attr"`
		Cases    []junitCaseDoc `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitCaseDoc struct {
	Name      string `xml:"name,attr"`
	ClassName string `xml:"classname,attr"`
	Failure   *struct {
		Type    string `xml:"type,attr"`
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
}

func TestLintJUnitOutput(t *testing.T) {
	p := newLintPKI(t)
	good := p.leaf(t, nil)
	goodFile := p.write(t, "good.pem", good.PEM(), p.inter.PEM(), good.KeyPEM())
	other := p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.DNSNames = nil, []string{"bad\x1bname"} })
	badFile := p.write(t, "bad.pem", p.inter.PEM(), other.PEM(), p.root.PEM())
	for _, strict := range []bool{false, true} {
		args := []string{"lint", "--output", "junit", goodFile, badFile}
		if strict {
			args = append(args, "--strict")
		}
		code, out, errOut := runCLI(args...)
		if code != exitProblem {
			t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
		}
		if !strings.HasPrefix(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites") {
			t.Errorf("no XML header:\n%s", out)
		}
		var doc junitDoc
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("JUnit XML does not parse: %v\n%s", err, out)
		}
		checks := len(lint.AllChecks())
		if len(doc.Suites) != 2 || doc.Tests != 2*checks {
			t.Fatalf("%d suites, %d tests, want 2 and %d", len(doc.Suites), doc.Tests, 2*checks)
		}
		goodSuite, badSuite := doc.Suites[0], doc.Suites[1]
		if goodSuite.Name != goodFile || goodSuite.Failures != 0 || goodSuite.Skipped != 1 || len(goodSuite.Cases) != checks {
			t.Errorf("good suite: %+v", goodSuite)
		}
		// bad.pem: chain (wrong order, root included), revocation (no URL),
		// online skipped; the key check is skipped too.
		failed := map[string]string{}
		for _, c := range badSuite.Cases {
			if c.Failure != nil {
				failed[c.Name] = c.Failure.Type
			}
			if c.ClassName != badFile {
				t.Errorf("classname %q", c.ClassName)
			}
		}
		wantFailed := map[string]string{"chain": "chain_wrong_order", "revocation": "no_revocation_url"}
		if !mapsEqual(failed, wantFailed) || badSuite.Failures != 2 || badSuite.Skipped != 2 || doc.Failures != 2 || doc.Skipped != 3 {
			t.Errorf("strict=%v: failed %v (suite %d, total %d), skipped %d/%d, want %v", strict, failed, badSuite.Failures, doc.Failures, badSuite.Skipped, doc.Skipped, wantFailed)
		}
		chain := badSuite.Cases[slices.IndexFunc(badSuite.Cases, func(c junitCaseDoc) bool { return c.Name == "chain" })]
		// The root warning fails the check only when strict.
		if strict != strings.Contains(chain.Failure.Text, "warning chain_includes_root") || strict == strings.Contains(chain.SystemOut, "warning chain_includes_root") {
			t.Errorf("strict=%v: failure %q, system-out %q", strict, chain.Failure.Text, chain.SystemOut)
		}
		if !strings.Contains(out, `bad\x1bname`) {
			t.Errorf("the escaped name is missing:\n%s", out)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLintWalksADirectory(t *testing.T) {
	p := newLintPKI(t)
	leaf := p.leaf(t, nil)
	live := filepath.Join(p.dir, "live", "example.test")
	if err := os.MkdirAll(filepath.Join(live, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeIn := func(name string, parts ...[]byte) string {
		var data []byte
		for _, part := range parts {
			data = append(data, part...)
		}
		return openssltest.WriteFile(t, live, name, data)
	}
	// A certbot live directory: fullchain, cert, chain and key.
	writeIn("fullchain.pem", leaf.PEM(), p.inter.PEM())
	writeIn("cert.pem", leaf.PEM())
	writeIn("chain.pem", p.inter.PEM())
	writeIn("privkey.pem", leaf.KeyPEM())
	writeIn("README", []byte("not a bundle"))
	writeIn(".git/hidden.pem", []byte("not read"))
	writeIn("server.crt", leaf.Cert.Raw) // DER
	if err := os.Symlink("fullchain.pem", filepath.Join(live, "link.pem")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(live, "pipe.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, doc := lintJSONRun(t, p.dir)
	if code != exitProblem {
		t.Errorf("exit %d, want 1 (cert.pem lacks its chain)", code)
	}
	var files, verdicts []string
	for _, b := range doc.Bundles {
		files = append(files, filepath.Base(b.File))
		verdicts = append(verdicts, b.Verdict)
	}
	if !slices.Equal(files, []string{"cert.pem", "fullchain.pem", "link.pem", "server.crt"}) || !slices.Equal(verdicts, []string{"critical", "ok", "ok", "critical"}) {
		t.Errorf("bundles %v, verdicts %v", files, verdicts)
	}
	skipped := map[string]string{}
	for _, s := range doc.SkippedFiles {
		skipped[filepath.Base(s.File)] = s.Reason
	}
	if len(skipped) != 3 || !strings.Contains(skipped["chain.pem"], "CA certificates only") || !strings.Contains(skipped["privkey.pem"], "no certificate") || skipped["pipe.pem"] != "not a regular file" {
		t.Errorf("skipped %v", skipped)
	}
}

func TestLintBadInputIsOneLine(t *testing.T) {
	p := newLintPKI(t)
	leaf := p.leaf(t, nil)
	good := p.write(t, "good.pem", leaf.PEM(), p.inter.PEM())
	other := p.write(t, "other.pem", leaf.PEM(), p.inter.PEM())
	keyOnly := p.write(t, "key.pem", leaf.KeyPEM())
	big := p.write(t, "big.pem", make([]byte, maxBundleBytes+1))
	empty := t.TempDir()
	openssltest.WriteFile(t, empty, "notes.txt", []byte("x"))
	pipe := filepath.Join(p.dir, "pipe.pem")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lint"}, "name at least one bundle file or directory"},
		{[]string{"lint", "/does/not/exist.pem"}, "stat /does/not/exist.pem: no such file or directory"},
		{[]string{"lint", keyOnly}, keyOnly + ": no certificate found"},
		{[]string{"lint", big}, big + ": 1048577 bytes, more than the 1048576 allowed"},
		{[]string{"lint", pipe}, pipe + " is not a regular file"},
		{[]string{"lint", empty}, empty + ": no certificate bundles found"},
		{[]string{"lint", "--key", keyOnly, good, other}, "--key needs exactly one bundle, and the paths hold 2"},
		{[]string{"lint", "--key", good, good}, "--key " + good + ": no PEM private key block found"},
		{[]string{"lint", "--key", "/does/not/exist", good}, "--key: stat /does/not/exist"},
		{[]string{"lint", "--key", pipe, good}, "--key: " + pipe + ": a FIFO, not a regular file"},
		{[]string{"lint", "--crit", "10d", "--warn", "7d", good}, "--crit 10d is longer than --warn 7d"},
		{[]string{"lint", "--warn", "soon", good}, `--warn: "soon" is not a positive duration`},
		{[]string{"lint", "--warn", "99999999999d", good}, `--warn: "99999999999d" is not a positive duration`},
		{[]string{"lint", "--require", "ocsp-or-crl", good}, "--require:"},
		{[]string{"lint", "--output", "xml", good}, "--output:"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d stdout %q stderr %q, want exit 2 and one line with %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

func TestSafeEscapesWhatATerminalActsOn(t *testing.T) {
	for in, want := range map[string]string{
		"CN=plain, O=Ünïcode":  "CN=plain, O=Ünïcode",
		"a\x1b[31mb":           `a\x1b[31mb`,
		"line\r\nforged\tcell": `line\x0d\x0aforged\x09cell`,
		"bidi\u202eevil":       `bidi\u202eevil`,
		"bad\xffutf8":          `bad\xffutf8`,
		`back\slash`:           `back\\slash`,
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLintHelpExitsZero(t *testing.T) {
	code, out, errOut := runCLI("lint", "--help")
	if code != exitOK || !strings.Contains(out, "--require=any") || errOut != "" {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

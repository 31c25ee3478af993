package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// lighttpdSocket is one TLS socket of the test lighttpd, with the staple
// in ssl.stapling-file, fetched before the start from the responder URL
// stapleFrom.
type lighttpdSocket struct {
	name, port, cert string
	stapleFrom       string
}

// startLighttpd runs lighttpd in the foreground (-D) with mod_openssl, one
// TLS socket per case, and its error log in a directory of its own. A
// socket with no stapleFrom gets an empty stapling file, as an updater
// that could fetch nothing leaves it.
func startLighttpd(t *testing.T, p *stackPKI, sockets []lighttpdSocket) *proc.Process {
	t.Helper()
	bin := requireTool(t, "lighttpd", "lighttpd")
	if _, err := os.Stat("/usr/lib/lighttpd/mod_openssl.so"); err != nil {
		t.Fatalf("lighttpd's TLS module is not installed; run the README's test command, which installs Debian's lighttpd-mod-openssl: %v", err)
	}
	dir := t.TempDir()
	errorLog := filepath.Join(dir, "error.log")
	var b strings.Builder
	fmt.Fprintf(&b, "server.document-root = %q\nserver.bind = \"127.0.0.1\"\nserver.port = %s\nserver.errorlog = %q\nserver.modules = (\"mod_openssl\")\n",
		dir, proc.FreePort(t), errorLog)
	for _, s := range sockets {
		fmt.Fprintf(&b, "$SERVER[\"socket\"] == \"127.0.0.1:%s\" {\n  ssl.engine = \"enable\"\n  ssl.pemfile = %q\n  ssl.privkey = %q\n",
			s.port, p.chain(s.cert), p.key(s.cert))
		staple := filepath.Join(dir, s.cert+".der")
		if s.stapleFrom != "" {
			p.fetchStaple(t, s.cert, s.stapleFrom, staple)
		} else if err := os.WriteFile(staple, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  ssl.stapling-file = %q\n", staple)
		b.WriteString("}\n")
	}
	conf := filepath.Join(dir, "lighttpd.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	server := proc.Start(t, bin, "-D", "-f", conf)
	log := func() string {
		data, _ := os.ReadFile(errorLog)
		return string(data)
	}
	for _, s := range sockets {
		waitTLS(t, server, "127.0.0.1:"+s.port, 15*time.Second, log)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lighttpd's output and error log:\n%s\n%s", server.Output(), log())
		}
	})
	return server
}

// TestLighttpdStapling runs lighttpd with ssl.stapling-file over real
// `openssl ocsp` responders and pins what it staples in each case. Like
// HAProxy 2.6, lighttpd never asks a responder itself.
func TestLighttpdStapling(t *testing.T) {
	p := newStackPKI(t)
	sockets := []lighttpdSocket{
		{name: caseGood, port: proc.FreePort(t), cert: p.good, stapleFrom: p.delegatedResponder.URL},
		{name: caseRevoked, port: proc.FreePort(t), cert: p.revoked, stapleFrom: p.delegatedResponder.URL},
		{name: caseDown, port: proc.FreePort(t), cert: p.down},
		{name: caseExpired, port: proc.FreePort(t), cert: p.expired, stapleFrom: p.pastResponder.URL},
	}
	server := startLighttpd(t, p, sockets)
	addr := map[string]string{}
	for _, s := range sockets {
		addr[s.name] = "127.0.0.1:" + s.port
	}
	goodStaple := served{present: true, responseStatus: "successful", certStatus: "good"}
	for _, c := range []stackCase{{
		name:    caseGood,
		addr:    addr[caseGood],
		staples: goodStaple,
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good"},
	}, {
		// lighttpd staples a revoked answer as it is.
		name:    caseRevoked,
		addr:    addr[caseRevoked],
		staples: served{present: true, responseStatus: "successful", certStatus: "revoked"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "revoked",
			reasons: []string{"staple_revoked", "response_revoked"}},
	}, {
		// An empty stapling file: lighttpd logs a read error, starts
		// anyway, and staples nothing.
		name:    caseDown,
		addr:    addr[caseDown],
		verdict: verdict{reasons: []string{"responder_connect"}},
	}, {
		// An expired stapling file is left out, without a word in the
		// error log.
		name:    caseExpired,
		addr:    addr[caseExpired],
		verdict: verdict{reasons: []string{"response_expired"}},
	}} {
		t.Run(c.name, func(t *testing.T) { checkStackCase(t, p, "lighttpd", c) })
	}
	if want := "OCSP stapling file read error"; !strings.Contains(server.Output(), want) {
		t.Errorf("lighttpd, %s: its error log does not say %q", caseDown, want)
	}

	t.Run("responder down after a good staple", func(t *testing.T) {
		// The updater fails and leaves the file as it was; lighttpd keeps
		// stapling it.
		p.delegatedResponder.Stop()
		checkStackCase(t, p, "lighttpd", stackCase{
			name:    "responder down after a good staple",
			addr:    addr[caseGood],
			staples: goodStaple,
			verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good",
				reasons: []string{"responder_connect"}},
		})
	})
}

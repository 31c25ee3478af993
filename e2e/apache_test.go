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

// apacheVhost is one TLS virtual host of the test Apache, on its own port.
type apacheVhost struct {
	name, port, cert string
}

// startApache runs Apache httpd 2.4 in the foreground, one process
// (-X), with mod_ssl stapling from a shared-memory cache, and a
// ServerRoot, pid file, error log and cache of its own. directives are
// more server-wide mod_ssl lines.
func startApache(t *testing.T, p *stackPKI, directives string, vhosts []apacheVhost) *proc.Process {
	t.Helper()
	bin := requireTool(t, "apache2", "apache2")
	dir := t.TempDir()
	modules := "/usr/lib/apache2/modules"
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %q\nDefaultRuntimeDir %q\nPidFile %q\nErrorLog %q\nLogLevel warn ssl:info\nMutex file:%s default\nServerName localhost\n",
		dir, dir, filepath.Join(dir, "httpd.pid"), filepath.Join(dir, "error.log"), dir)
	for _, m := range []string{"mpm_event", "socache_shmcb", "ssl"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, modules, m)
	}
	if os.Geteuid() == 0 {
		// httpd will not serve as root; the certificates are read before
		// it drops to this user.
		b.WriteString("User nobody\nGroup nogroup\n")
	}
	fmt.Fprintf(&b, "DocumentRoot %q\nSSLStaplingCache \"shmcb:%s/stapling(131072)\"\nSSLSessionCache none\n%s", dir, dir, directives)
	for _, v := range vhosts {
		fmt.Fprintf(&b, "Listen 127.0.0.1:%s\n<VirtualHost 127.0.0.1:%s>\n  SSLEngine on\n  SSLCertificateFile %q\n  SSLCertificateKeyFile %q\n  SSLUseStapling on\n</VirtualHost>\n",
			v.port, v.port, p.chain(v.cert), p.key(v.cert))
	}
	conf := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	server := proc.Start(t, bin, "-X", "-d", dir, "-f", conf)
	errorLog := func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return string(log)
	}
	for _, v := range vhosts {
		waitTLS(t, server, "127.0.0.1:"+v.port, 15*time.Second, errorLog)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Apache's error log:\n%s", errorLog())
		}
	})
	return server
}

// TestApacheStapling runs Apache httpd with SSLUseStapling against real
// `openssl ocsp` responders and pins what it staples in each case: with
// the defaults, and with SSLStaplingReturnResponderErrors off in a second
// server, since the stapling cache is shared by every host of a server.
func TestApacheStapling(t *testing.T) {
	p := newStackPKI(t)
	start := func(directives string) map[string]string {
		vhosts := []apacheVhost{
			{name: caseGood, port: proc.FreePort(t), cert: p.good},
			{name: caseRevoked, port: proc.FreePort(t), cert: p.revoked},
			{name: caseDown, port: proc.FreePort(t), cert: p.down},
			{name: caseExpired, port: proc.FreePort(t), cert: p.expired},
		}
		startApache(t, p, directives, vhosts)
		addr := map[string]string{}
		for _, v := range vhosts {
			addr[v.name] = "127.0.0.1:" + v.port
		}
		return addr
	}
	defaults, errorsOff := start(""), start("SSLStaplingReturnResponderErrors off\n")

	for _, c := range []stackCase{{
		name:    caseGood,
		addr:    defaults[caseGood],
		staples: served{present: true, responseStatus: "successful", certStatus: "good"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good"},
	}, {
		// Apache logs AH02969 and staples the revoked answer all the same.
		name:    caseRevoked,
		addr:    defaults[caseRevoked],
		staples: served{present: true, responseStatus: "successful", certStatus: "revoked"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "revoked",
			reasons: []string{"staple_revoked", "response_revoked"}},
	}, {
		// With no answer cached, Apache makes up a tryLater response
		// (SSLStaplingFakeTryLater) and staples it: a staple, but not a
		// usable one.
		name:    caseDown,
		addr:    defaults[caseDown],
		staples: served{present: true, responseStatus: "trylater"},
		verdict: verdict{staplePresent: true, stapleStatus: "tryLater",
			reasons: []string{"staple_malformed", "responder_connect"}},
	}, {
		// Apache logs "response times invalid" (AH01936) and staples the
		// expired answer.
		name:    caseExpired,
		addr:    defaults[caseExpired],
		staples: served{present: true, responseStatus: "successful", certStatus: "good", expired: true},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", certStatus: "good",
			reasons: []string{"staple_expired", "response_expired"}},
	}, {
		name:    caseGood + ", errors off",
		addr:    errorsOff[caseGood],
		staples: served{present: true, responseStatus: "successful", certStatus: "good"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good"},
	}, {
		// SSLStaplingReturnResponderErrors off is documented to staple
		// only good answers, but this Apache still staples the revoked
		// answer...
		name:    caseRevoked + ", errors off",
		addr:    errorsOff[caseRevoked],
		staples: served{present: true, responseStatus: "successful", certStatus: "revoked"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "revoked",
			reasons: []string{"staple_revoked", "response_revoked"}},
	}, {
		// ...and the made-up tryLater, though SSLStaplingFakeTryLater is
		// documented to need it on...
		name:    caseDown + ", errors off",
		addr:    errorsOff[caseDown],
		staples: served{present: true, responseStatus: "trylater"},
		verdict: verdict{staplePresent: true, stapleStatus: "tryLater",
			reasons: []string{"staple_malformed", "responder_connect"}},
	}, {
		// ...and only an expired answer is left out.
		name:    caseExpired + ", errors off",
		addr:    errorsOff[caseExpired],
		verdict: verdict{reasons: []string{"response_expired"}},
	}} {
		t.Run(c.name, func(t *testing.T) { checkStackCase(t, p, "Apache", c) })
	}

	t.Run("responder down after a good staple", func(t *testing.T) {
		// The answer cached for the good host stays stapled
		// (SSLStaplingStandardCacheTimeout, an hour by default); ocspwatch
		// sees the good staple and the responder down.
		p.delegatedResponder.Stop()
		checkStackCase(t, p, "Apache", stackCase{
			name:    "responder down after a good staple",
			addr:    defaults[caseGood],
			staples: served{present: true, responseStatus: "successful", certStatus: "good"},
			verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good",
				reasons: []string{"responder_connect"}},
		})
	})
}

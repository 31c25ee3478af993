package starttls

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/daemons"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// The tests in this file drive real Debian daemons on 127.0.0.1. Each
// starts its daemon from a config in a fresh directory, waits for its
// port with a bound and stops it when the test ends. scripts/test.sh
// installs the packages; a missing binary fails the test, never skips it.

// The helpers live in internal/daemons, shared with the probe's tests;
// these names keep the tests here short.

func requireBinary(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	return daemons.RequireBinary(t, pkg, names...)
}

func daemonDir(t *testing.T) string { t.Helper(); return daemons.Dir(t) }

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	return daemons.WriteFile(t, dir, name, data)
}

func mkdir(t *testing.T, dir, name string) string { t.Helper(); return daemons.Mkdir(t, dir, name) }

func runningAsRoot() bool { return daemons.RunningAsRoot() }

func chownTree(t *testing.T, dir, name string) { t.Helper(); daemons.ChownTree(t, dir, name) }

func currentUser(t *testing.T) string { t.Helper(); return daemons.CurrentUser(t) }

func startAs(t *testing.T, name, bin string, args ...string) *proc.Process {
	t.Helper()
	return daemons.StartAs(t, name, bin, args...)
}

func waitListening(t *testing.T, p *proc.Process, addr string) {
	t.Helper()
	daemons.WaitListening(t, p, addr)
}

// tlsFiles is what a stapling daemon serves: the leaf with its
// intermediate, its key and the staple.
func (p *pki) tlsFiles() daemons.TLSFiles {
	return daemons.TLSFiles{ChainPEM: append(p.leaf.PEM(), p.inter.PEM()...), KeyPEM: p.leaf.KeyPEM(), StapleDER: p.staple}
}

// certFiles writes the leaf with its intermediate, the key and the staple
// into dir.
func (p *pki) certFiles(t *testing.T, dir string) (chain, key, staple string) {
	t.Helper()
	chainPEM := append(p.leaf.PEM(), p.inter.PEM()...)
	return writeFile(t, dir, "chain.pem", chainPEM),
		writeFile(t, dir, "key.pem", p.leaf.KeyPEM()),
		writeFile(t, dir, "staple.der", p.staple)
}

// negotiateAndHandshake runs Negotiate against a real daemon and then a
// verified TLS handshake, returning the TLS state.
func (p *pki) negotiateAndHandshake(t *testing.T, addr string, proto Protocol, opts Options) tls.ConnectionState {
	t.Helper()
	conn, err := negotiate(t, addr, proto, opts, 10*time.Second)
	if err != nil {
		t.Fatalf("Negotiate: %v", err)
	}
	return p.handshake(t, conn)
}

// expectNotOffered runs Negotiate against a real daemon with TLS off and
// requires the RefusedError of a server that does not offer STARTTLS.
func expectNotOffered(t *testing.T, addr string, proto Protocol, opts Options) {
	t.Helper()
	_, err := negotiate(t, addr, proto, opts, 10*time.Second)
	checkRefused(t, err, proto, false)
}

package starttls

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// The tests in this file drive real Debian daemons on 127.0.0.1. Each
// starts its daemon from a config in a fresh directory, waits for its
// port with a bound and stops it when the test ends. scripts/test.sh
// installs the packages; a missing binary fails the test, never skips it.

// daemonStartLimit bounds a daemon's start-up.
const daemonStartLimit = 30 * time.Second

// requireBinary finds name in PATH or the sbin directories, failing the
// test with the Debian package that provides it.
func requireBinary(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
		// Debian keeps PostgreSQL's server binaries out of PATH, under
		// its major version.
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		for _, dir := range append([]string{"/usr/sbin", "/sbin"}, dirs...) {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err == nil {
				return path
			}
		}
	}
	t.Fatalf("%s is not installed; install the Debian package %s (scripts/test.sh does)", names[0], pkg)
	return ""
}

// daemonDir is a fresh directory the daemon's user can use. Daemons that
// drop root privileges cannot enter t.TempDir (mode 0700 under root's
// temp dir), so this one is world-searchable and, when running as root,
// handed to owner by chownTree once filled.
func daemonDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "starttls-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// runningAsRoot reports whether the daemons must be told which user to
// become.
func runningAsRoot() bool { return os.Geteuid() == 0 }

// chownTree gives dir and everything in it to the account name when
// running as root; otherwise the files already belong to the caller.
func chownTree(t *testing.T, dir, name string) {
	t.Helper()
	if !runningAsRoot() {
		return
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("the account %s, which the daemon's package creates, is missing: %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// currentUser names the account the tests run as, for daemons that must
// be told to stay as it.
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// startAs runs bin as the account name when running as root, through
// setpriv, for daemons that refuse to run as root; otherwise directly.
func startAs(t *testing.T, name, bin string, args ...string) *proc.Process {
	t.Helper()
	if !runningAsRoot() {
		return proc.Start(t, bin, args...)
	}
	setpriv := requireBinary(t, "util-linux", "setpriv")
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("the account %s is missing: %v", name, err)
	}
	return proc.Start(t, setpriv, append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--", bin}, args...)...)
}

// waitListening waits until addr accepts connections, failing early when
// the daemon exits.
func waitListening(t *testing.T, p *proc.Process, addr string) {
	t.Helper()
	proc.WaitFor(t, daemonStartLimit, p.Name+" to listen on "+addr, func() bool {
		if p.Exited() {
			t.Fatalf("%s exited with %d before listening:\n%s", p.Name, p.ExitCode(), p.Output())
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
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

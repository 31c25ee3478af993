// Package daemons starts real Debian daemons on 127.0.0.1 for tests:
// each from a config in a fresh directory, waited for with a bound and
// stopped when the test ends. scripts/test.sh installs the packages; a
// missing binary fails the test, never skips it.
package daemons

import (
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

// StartLimit bounds a daemon's start-up.
const StartLimit = 30 * time.Second

// RequireBinary finds name in PATH or the sbin directories, failing the
// test with the Debian package that provides it.
func RequireBinary(t *testing.T, pkg string, names ...string) string {
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

// Dir is a fresh directory the daemon's user can use. Daemons that
// drop root privileges cannot enter t.TempDir (mode 0700 under root's
// temp dir), so this one is world-searchable and, when running as root,
// handed to owner by chownTree once filled.
func Dir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ocspwatch-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteFile writes data to dir/name, readable by its owner only.
func WriteFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Mkdir makes dir/name, searchable by the daemon's user.
func Mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// RunningAsRoot reports whether the daemons must be told which user to
// become.
func RunningAsRoot() bool { return os.Geteuid() == 0 }

// ChownTree gives dir and everything in it to the account name when
// running as root; otherwise the files already belong to the caller.
func ChownTree(t *testing.T, dir, name string) {
	t.Helper()
	if !RunningAsRoot() {
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

// CurrentUser names the account the tests run as, for daemons that must
// be told to stay as it.
func CurrentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// StartAs runs bin as the account name when running as root, through
// setpriv, for daemons that refuse to run as root; otherwise directly.
func StartAs(t *testing.T, name, bin string, args ...string) *proc.Process {
	t.Helper()
	if !RunningAsRoot() {
		return proc.Start(t, bin, args...)
	}
	setpriv := RequireBinary(t, "util-linux", "setpriv")
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("the account %s is missing: %v", name, err)
	}
	return proc.Start(t, setpriv, append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--", bin}, args...)...)
}

// WaitListening waits until addr accepts connections, failing early when
// the daemon exits.
func WaitListening(t *testing.T, p *proc.Process, addr string) {
	t.Helper()
	proc.WaitFor(t, StartLimit, p.Name+" to listen on "+addr, func() bool {
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

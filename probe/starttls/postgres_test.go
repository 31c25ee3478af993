package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestPostgres sends SSLRequest to a real PostgreSQL, then completes a
// verified TLS handshake. PostgreSQL refuses to run as root, so as root
// it runs as nobody.
func TestPostgres(t *testing.T) {
	initdb := requireBinary(t, "postgresql", "initdb")
	postgres := requireBinary(t, "postgresql", "postgres")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	chownTree(t, dir, "nobody")
	data := dir + "/data"
	init := startAs(t, "nobody", initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	proc.WaitFor(t, daemonStartLimit, "initdb to finish", init.Exited)
	if init.ExitCode() != 0 {
		t.Fatalf("initdb failed:\n%s", init.Output())
	}
	port := proc.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", port)
	daemon := startAs(t, "nobody", postgres, "-D", data, "-k", dir, "-h", "127.0.0.1", "-p", port,
		"-c", "ssl=on", "-c", "ssl_cert_file="+chain, "-c", "ssl_key_file="+key, "-c", "fsync=off")
	waitListening(t, daemon, addr)
	p.negotiateAndHandshake(t, addr, Postgres, Options{})
}

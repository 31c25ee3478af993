package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/daemons"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestPostgres sends SSLRequest to a real PostgreSQL with ssl=on, then
// completes a verified TLS handshake; and to the same cluster restarted
// with ssl=off, which answers 'N'. PostgreSQL refuses to run as root, so
// as root it runs as nobody.
func TestPostgres(t *testing.T) {
	initdb := requireBinary(t, "postgresql", "initdb")
	postgres := requireBinary(t, "postgresql", "postgres")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	chownTree(t, dir, "nobody")
	data := dir + "/data"
	init := startAs(t, "nobody", initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	proc.WaitFor(t, daemons.StartLimit, "initdb to finish", init.Exited)
	if init.ExitCode() != 0 {
		t.Fatalf("initdb failed:\n%s", init.Output())
	}
	start := func(t *testing.T, ssl string) string {
		port := proc.FreePort(t)
		daemon := startAs(t, "nobody", postgres, "-D", data, "-k", dir, "-h", "127.0.0.1", "-p", port,
			"-c", "ssl="+ssl, "-c", "ssl_cert_file="+chain, "-c", "ssl_key_file="+key, "-c", "fsync=off")
		addr := net.JoinHostPort("127.0.0.1", port)
		waitListening(t, daemon, addr)
		return addr
	}
	// Each subtest stops its server at its end, freeing the data
	// directory for the next.
	t.Run("starttls", func(t *testing.T) {
		p.negotiateAndHandshake(t, start(t, "on"), Postgres, Options{})
	})
	t.Run("not offered", func(t *testing.T) {
		expectNotOffered(t, start(t, "off"), Postgres, Options{})
	})
}

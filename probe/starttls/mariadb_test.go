package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestMariaDB reads a real MariaDB's greeting, sends the SSLRequest
// packet, then completes a verified TLS handshake; a MariaDB with no
// certificate leaves CLIENT_SSL out of its greeting. The server starts on
// an empty data directory with grant tables skipped: it only has to
// greet. As root it runs as nobody.
func TestMariaDB(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		p := newPKI(t, time.Now())
		p.negotiateAndHandshake(t, startMariaDB(t, p, true), MySQL, Options{})
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		expectNotOffered(t, startMariaDB(t, p, false), MySQL, Options{})
	})
}

func startMariaDB(t *testing.T, p *pki, withTLS bool) string {
	t.Helper()
	mariadbd := requireBinary(t, "mariadb-server-core", "mariadbd", "mysqld")
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	mkdir(t, dir, "data")
	chownTree(t, dir, "nobody")
	port := proc.FreePort(t)
	args := []string{"--no-defaults",
		"--datadir=" + dir + "/data", "--socket=" + dir + "/mysqld.sock", "--pid-file=" + dir + "/mysqld.pid",
		"--bind-address=127.0.0.1", "--port=" + port, "--skip-grant-tables",
		"--innodb-buffer-pool-size=8M", "--log-error=" + dir + "/error.log"}
	if withTLS {
		args = append(args, "--ssl-cert="+chain, "--ssl-key="+key)
	}
	daemon := startAs(t, "nobody", mariadbd, args...)
	addr := net.JoinHostPort("127.0.0.1", port)
	waitListening(t, daemon, addr)
	return addr
}

package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestMariaDB reads a real MariaDB's greeting, sends the SSLRequest
// packet, then completes a verified TLS handshake. The server starts on
// an empty data directory with grant tables skipped: it only has to
// greet. As root it runs as nobody.
func TestMariaDB(t *testing.T) {
	mariadbd := requireBinary(t, "mariadb-server-core", "mariadbd", "mysqld")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	mkdir(t, dir, "data")
	chownTree(t, dir, "nobody")
	port := proc.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", port)
	daemon := startAs(t, "nobody", mariadbd, "--no-defaults",
		"--datadir="+dir+"/data", "--socket="+dir+"/mysqld.sock", "--pid-file="+dir+"/mysqld.pid",
		"--bind-address=127.0.0.1", "--port="+port, "--skip-grant-tables",
		"--innodb-buffer-pool-size=8M", "--log-error="+dir+"/error.log",
		"--ssl-cert="+chain, "--ssl-key="+key)
	waitListening(t, daemon, addr)
	p.negotiateAndHandshake(t, addr, MySQL, Options{})
}

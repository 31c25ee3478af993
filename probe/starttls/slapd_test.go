package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestSlapd runs the LDAP StartTLS extended operation against a real
// OpenLDAP slapd, then a verified TLS handshake; and against one with no
// certificate, which answers protocolError.
func TestSlapd(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startSlapd(t, p, true)
		p.negotiateAndHandshake(t, addr, LDAP, Options{})
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startSlapd(t, p, false)
		expectNotOffered(t, addr, LDAP, Options{})
	})
}

func startSlapd(t *testing.T, p *pki, withTLS bool) string {
	t.Helper()
	slapd := requireBinary(t, "slapd", "slapd")
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	// No database is needed for StartTLS: the frontend answers the
	// extended operation.
	config := "pidfile " + dir + "/slapd.pid\n"
	if withTLS {
		config += "TLSCertificateFile " + chain + "\nTLSCertificateKeyFile " + key + "\n"
	}
	conf := writeFile(t, dir, "slapd.conf", []byte(config))
	addr := net.JoinHostPort("127.0.0.1", proc.FreePort(t))
	// -d 0 keeps slapd in the foreground with no debug output.
	daemon := proc.Start(t, slapd, "-d", "0", "-h", "ldap://"+addr+"/", "-f", conf)
	waitListening(t, daemon, addr)
	return addr
}

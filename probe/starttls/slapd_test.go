package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestSlapd runs the LDAP StartTLS extended operation against a real
// OpenLDAP slapd, then a verified TLS handshake.
func TestSlapd(t *testing.T) {
	slapd := requireBinary(t, "slapd", "slapd")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	// No database is needed for StartTLS: the extended operation is
	// answered by the frontend.
	conf := writeFile(t, dir, "slapd.conf", []byte(
		"pidfile "+dir+"/slapd.pid\n"+
			"TLSCertificateFile "+chain+"\n"+
			"TLSCertificateKeyFile "+key+"\n"))
	port := proc.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", port)
	// -d 0 keeps slapd in the foreground with no debug output.
	daemon := proc.Start(t, slapd, "-d", "0", "-h", "ldap://"+addr+"/", "-f", conf)
	waitListening(t, daemon, addr)
	p.negotiateAndHandshake(t, addr, LDAP, Options{})
}

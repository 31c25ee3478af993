package starttls

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// eximConfig is a minimal Exim that accepts connections on addr, offers
// STARTTLS with chain and key, staples the DER OCSP response in staple
// and relays nothing.
func eximConfig(dir, port, chain, key, staple string) string {
	return "primary_hostname = localhost\n" +
		"keep_environment =\n" +
		"spool_directory = " + dir + "/spool\n" +
		"log_file_path = " + dir + "/log/%slog\n" +
		"daemon_smtp_ports = " + port + "\n" +
		"local_interfaces = 127.0.0.1\n" +
		"tls_advertise_hosts = *\n" +
		"tls_certificate = " + chain + "\n" +
		"tls_privatekey = " + key + "\n" +
		"tls_ocsp_file = " + staple + "\n" +
		"acl_smtp_rcpt = deny\n" +
		"begin acl\nbegin routers\nbegin transports\n"
}

// TestEximStaples runs SMTP STARTTLS against a real Exim that staples,
// and checks that the TLS handshake after Negotiate carries the staple:
// the probe sees the same staple through STARTTLS as on a direct-TLS port.
func TestEximStaples(t *testing.T) {
	exim := requireBinary(t, "exim4-daemon-heavy", "exim4", "exim")
	now := time.Now()
	p := newPKI(t, now)
	dir := daemonDir(t)
	chain, key, staple := p.certFiles(t, dir)
	mkdir(t, dir, "spool")
	mkdir(t, dir, "log")
	port := proc.FreePort(t)
	config := eximConfig(dir, port, chain, key, staple)
	if !runningAsRoot() {
		u := currentUser(t)
		config = "exim_user = " + u + "\nexim_group = " + u + "\n" + config
	}
	conf := writeFile(t, dir, "exim.conf", []byte(config))
	// Exim insists on a config that only root or its own user may write.
	if err := os.Chmod(conf, 0o644); err != nil {
		t.Fatal(err)
	}
	// Exim reads its key and staple after dropping to Debian-exim.
	chownTree(t, dir, "Debian-exim")
	if runningAsRoot() {
		if err := os.Lchown(conf, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	// -bdf: daemon in the foreground; -oX: this port only; -oP: its pid
	// file, since -oX suppresses the default one.
	daemon := proc.Start(t, exim, "-C", conf, "-bdf", "-oX", port, "-oP", dir+"/exim.pid")
	addr := net.JoinHostPort("127.0.0.1", port)
	waitListening(t, daemon, addr)

	state := p.negotiateAndHandshake(t, addr, SMTP, Options{})
	p.checkStaple(t, state.OCSPResponse)
}

package starttls

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// eximConfig is a minimal Exim that accepts connections on port, offers
// STARTTLS with chain and key when withTLS, staples the DER OCSP response
// in staple and relays nothing.
func eximConfig(dir, port, chain, key, staple string, withTLS bool) string {
	advertise := "*"
	if !withTLS {
		advertise = ""
	}
	return "primary_hostname = localhost\n" +
		"keep_environment =\n" +
		"spool_directory = " + dir + "/spool\n" +
		"log_file_path = " + dir + "/log/%slog\n" +
		"daemon_smtp_ports = " + port + "\n" +
		"local_interfaces = 127.0.0.1\n" +
		"tls_advertise_hosts = " + advertise + "\n" +
		"tls_certificate = " + chain + "\n" +
		"tls_privatekey = " + key + "\n" +
		"tls_ocsp_file = " + staple + "\n" +
		"acl_smtp_rcpt = deny\n" +
		"begin acl\nbegin routers\nbegin transports\n"
}

// TestExim runs SMTP STARTTLS against a real Exim. The one that staples
// must show its staple in the TLS handshake after Negotiate: the probe
// sees the same staple through STARTTLS as on a direct-TLS port. The one
// that does not advertise STARTTLS must give a RefusedError.
func TestExim(t *testing.T) {
	t.Run("staples", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startExim(t, p, true)
		state := p.negotiateAndHandshake(t, addr, SMTP, Options{})
		p.checkStaple(t, state.OCSPResponse)
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startExim(t, p, false)
		expectNotOffered(t, addr, SMTP, Options{})
	})
	t.Run("refused", func(t *testing.T) {
		// Exim advertises STARTTLS and loads its key only when asked;
		// an unreadable key makes it answer 454.
		p := newPKI(t, time.Now())
		addr := startExim(t, p, true, func(dir string) {
			if err := os.Chmod(filepath.Join(dir, "key.pem"), 0); err != nil {
				t.Fatal(err)
			}
		})
		_, err := negotiate(t, addr, SMTP, Options{}, 10*time.Second)
		checkRefused(t, err, SMTP, true)
	})
}

// startExim starts Exim on a free port and returns its address. Each
// spoil step may break the prepared directory before Exim starts.
func startExim(t *testing.T, p *pki, withTLS bool, spoil ...func(dir string)) string {
	t.Helper()
	exim := requireBinary(t, "exim4-daemon-heavy", "exim4", "exim")
	dir := daemonDir(t)
	chain, key, staple := p.certFiles(t, dir)
	mkdir(t, dir, "spool")
	mkdir(t, dir, "log")
	port := proc.FreePort(t)
	config := eximConfig(dir, port, chain, key, staple, withTLS)
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
	for _, f := range spoil {
		f(dir)
	}
	// -bdf: daemon in the foreground; -oX: this port only; -oP: its pid
	// file, since -oX suppresses the default one.
	daemon := proc.Start(t, exim, "-C", conf, "-bdf", "-oX", port, "-oP", dir+"/exim.pid")
	addr := net.JoinHostPort("127.0.0.1", port)
	waitListening(t, daemon, addr)
	return addr
}

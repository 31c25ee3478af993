package daemons

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TLSFiles are what a stapling daemon serves: the leaf and its
// intermediates in PEM, the leaf's key in PEM and a DER OCSP response.
type TLSFiles struct {
	ChainPEM, KeyPEM, StapleDER []byte
}

// write puts the files into dir as chain.pem, key.pem and staple.der.
func (f TLSFiles) write(t *testing.T, dir string) (chain, key, staple string) {
	t.Helper()
	return WriteFile(t, dir, "chain.pem", f.ChainPEM), WriteFile(t, dir, "key.pem", f.KeyPEM), WriteFile(t, dir, "staple.der", f.StapleDER)
}

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

// StartExim starts a real Exim (Debian's exim4-daemon-heavy) on a free
// port of 127.0.0.1 and returns its address. With withTLS it offers
// STARTTLS and staples files.StapleDER (tls_ocsp_file); without, it does
// not advertise STARTTLS. Each spoil step may break the prepared
// directory (key.pem, chain.pem, staple.der) before Exim starts.
func StartExim(t *testing.T, files TLSFiles, withTLS bool, spoil ...func(dir string)) string {
	t.Helper()
	exim := RequireBinary(t, "exim4-daemon-heavy", "exim4", "exim")
	dir := Dir(t)
	chain, key, staple := files.write(t, dir)
	Mkdir(t, dir, "spool")
	Mkdir(t, dir, "log")
	port := proc.FreePort(t)
	config := eximConfig(dir, port, chain, key, staple, withTLS)
	if !RunningAsRoot() {
		u := CurrentUser(t)
		config = "exim_user = " + u + "\nexim_group = " + u + "\n" + config
	}
	conf := WriteFile(t, dir, "exim.conf", []byte(config))
	// Exim insists on a config that only root or its own user may write.
	if err := os.Chmod(conf, 0o644); err != nil {
		t.Fatal(err)
	}
	// Exim reads its key and staple after dropping to Debian-exim.
	ChownTree(t, dir, "Debian-exim")
	if RunningAsRoot() {
		if err := os.Lchown(conf, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range spoil {
		f(dir)
	}
	// -bdf: daemon in the foreground; -oX: this port only; -oP: its pid
	// file, since -oX suppresses the default one.
	daemon := proc.Start(t, exim, "-C", conf, "-bdf", "-oX", port, "-oP", filepath.Join(dir, "exim.pid"))
	addr := net.JoinHostPort("127.0.0.1", port)
	WaitListening(t, daemon, addr)
	return addr
}

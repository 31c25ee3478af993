package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestVsftpd sends AUTH TLS to a real vsftpd, then completes a verified
// TLS handshake; a vsftpd with ssl_enable=NO answers 530.
func TestVsftpd(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		p := newPKI(t, time.Now())
		p.negotiateAndHandshake(t, startVsftpd(t, p, true), FTP, Options{})
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		expectNotOffered(t, startVsftpd(t, p, false), FTP, Options{})
	})
}

func startVsftpd(t *testing.T, p *pki, withTLS bool) string {
	t.Helper()
	vsftpd := requireBinary(t, "vsftpd", "vsftpd")
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	port := proc.FreePort(t)
	config := "listen=YES\nlisten_ipv6=NO\nbackground=NO\n" +
		"listen_address=127.0.0.1\nlisten_port=" + port + "\n" +
		// vsftpd will not start with every kind of login off; none
		// happens here.
		"anonymous_enable=NO\nlocal_enable=YES\n" +
		"secure_chroot_dir=" + mkdir(t, dir, "empty") + "\n" +
		"vsftpd_log_file=" + dir + "/vsftpd.log\n" +
		"rsa_cert_file=" + chain + "\nrsa_private_key_file=" + key + "\n"
	if withTLS {
		config += "ssl_enable=YES\n"
	} else {
		config += "ssl_enable=NO\n"
	}
	if !runningAsRoot() {
		config += "run_as_launching_user=YES\n"
	}
	conf := writeFile(t, dir, "vsftpd.conf", []byte(config))
	daemon := proc.Start(t, vsftpd, conf)
	addr := net.JoinHostPort("127.0.0.1", port)
	waitListening(t, daemon, addr)
	return addr
}

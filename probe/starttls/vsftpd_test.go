package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestVsftpd sends AUTH TLS to a real vsftpd, then completes a verified
// TLS handshake.
func TestVsftpd(t *testing.T) {
	vsftpd := requireBinary(t, "vsftpd", "vsftpd")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	port := proc.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", port)
	config := "listen=YES\nlisten_ipv6=NO\nbackground=NO\n" +
		"listen_address=127.0.0.1\nlisten_port=" + port + "\n" +
		// vsftpd will not start with every kind of login off; none
		// happens here.
		"anonymous_enable=NO\nlocal_enable=YES\n" +
		"secure_chroot_dir=" + mkdir(t, dir, "empty") + "\n" +
		"vsftpd_log_file=" + dir + "/vsftpd.log\n" +
		"ssl_enable=YES\nrsa_cert_file=" + chain + "\nrsa_private_key_file=" + key + "\n"
	if !runningAsRoot() {
		config += "run_as_launching_user=YES\n"
	}
	conf := writeFile(t, dir, "vsftpd.conf", []byte(config))
	daemon := proc.Start(t, vsftpd, conf)
	waitListening(t, daemon, addr)
	p.negotiateAndHandshake(t, addr, FTP, Options{})
}

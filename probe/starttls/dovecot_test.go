package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// dovecotProtocols are the STARTTLS protocols one Dovecot serves.
var dovecotProtocols = []Protocol{IMAP, POP3, LMTP, Sieve}

// dovecotConfig serves IMAP, POP3, LMTP and ManageSieve on the given
// loopback ports, with STARTTLS when withTLS. Its one static passdb is
// never used: the tests stop at the TLS handshake.
func dovecotConfig(dir, chain, key string, ports map[Protocol]string, withTLS bool, loginUser, internalUser string) string {
	tls := "ssl = yes\nssl_cert = <" + chain + "\nssl_key = <" + key + "\n"
	if !withTLS {
		tls = "ssl = no\ndisable_plaintext_auth = no\n"
	}
	return "base_dir = " + dir + "/run\n" +
		"state_dir = " + dir + "/state\n" +
		"log_path = /dev/stderr\n" +
		"default_login_user = " + loginUser + "\n" +
		"default_internal_user = " + internalUser + "\n" +
		"protocols = imap pop3 lmtp sieve\n" +
		"listen = 127.0.0.1\n" +
		tls +
		"passdb {\n  driver = static\n  args = password=unused\n}\n" +
		"userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=" + dir + "/home\n}\n" +
		"service imap-login {\n  inet_listener imap {\n    port = " + ports[IMAP] + "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n" +
		"service pop3-login {\n  inet_listener pop3 {\n    port = " + ports[POP3] + "\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}\n" +
		"service lmtp {\n  unix_listener lmtp {\n    mode = 0600\n  }\n  inet_listener lmtp {\n    port = " + ports[LMTP] + "\n  }\n}\n" +
		"service managesieve-login {\n  inet_listener sieve {\n    port = " + ports[Sieve] + "\n  }\n}\n"
}

// TestDovecot runs IMAP, POP3, LMTP and ManageSieve STARTTLS against a
// real Dovecot, then a verified TLS handshake on each; and against one
// with TLS off, which must give RefusedErrors.
func TestDovecot(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		p := newPKI(t, time.Now())
		ports := startDovecot(t, p, true)
		for _, proto := range dovecotProtocols {
			t.Run(string(proto), func(t *testing.T) {
				p.negotiateAndHandshake(t, net.JoinHostPort("127.0.0.1", ports[proto]), proto, Options{})
			})
		}
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		ports := startDovecot(t, p, false)
		for _, proto := range dovecotProtocols {
			t.Run(string(proto), func(t *testing.T) {
				expectNotOffered(t, net.JoinHostPort("127.0.0.1", ports[proto]), proto, Options{})
			})
		}
	})
}

// startDovecot starts Dovecot and returns the port of each protocol.
func startDovecot(t *testing.T, p *pki, withTLS bool) map[Protocol]string {
	t.Helper()
	dovecot := requireBinary(t, "dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-managesieved", "dovecot")
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	ports := map[Protocol]string{}
	for _, proto := range dovecotProtocols {
		ports[proto] = proc.FreePort(t)
	}
	// As root, Dovecot's login processes become its packaged accounts;
	// otherwise every process stays the calling user.
	loginUser, internalUser := "dovenull", "dovecot"
	if !runningAsRoot() {
		loginUser, internalUser = currentUser(t), currentUser(t)
	}
	conf := writeFile(t, dir, "dovecot.conf", []byte(dovecotConfig(dir, chain, key, ports, withTLS, loginUser, internalUser)))
	daemon := proc.Start(t, dovecot, "-F", "-c", conf)
	for _, port := range ports {
		waitListening(t, daemon, net.JoinHostPort("127.0.0.1", port))
	}
	return ports
}

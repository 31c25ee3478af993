package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestProsody opens client-to-server and server-to-server streams to a
// real Prosody, asks for STARTTLS on each, then completes a verified TLS
// handshake. Prosody will not run as root, so as root it runs as its
// packaged account.
func TestProsody(t *testing.T) {
	prosody := requireBinary(t, "prosody", "prosody")
	p := newPKI(t, time.Now())
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	mkdir(t, dir, "data")
	ports := map[Protocol]string{XMPPClient: proc.FreePort(t), XMPPServer: proc.FreePort(t)}
	// mod_posix would daemonise and write a pid file; proc holds the
	// process in the foreground instead.
	conf := writeFile(t, dir, "prosody.cfg.lua", []byte(
		"data_path = \""+dir+"/data\"\n"+
			"log = { { levels = { min = \"warn\" }, to = \"console\" } }\n"+
			"interfaces = { \"127.0.0.1\" }\n"+
			"c2s_ports = { "+ports[XMPPClient]+" }\n"+
			"s2s_ports = { "+ports[XMPPServer]+" }\n"+
			"c2s_direct_tls_ports = { }\ns2s_direct_tls_ports = { }\n"+
			"legacy_ssl_ports = { }\nhttp_ports = { }\nhttps_ports = { }\n"+
			"modules_enabled = { \"tls\", \"saslauth\", \"dialback\" }\n"+
			"modules_disabled = { \"posix\" }\n"+
			"ssl = { certificate = \""+chain+"\", key = \""+key+"\" }\n"+
			"VirtualHost \"localhost\"\n"))
	chownTree(t, dir, "prosody")
	daemon := startAs(t, "prosody", prosody, "--config", conf)
	for _, port := range ports {
		waitListening(t, daemon, net.JoinHostPort("127.0.0.1", port))
	}
	for _, proto := range []Protocol{XMPPClient, XMPPServer} {
		t.Run(string(proto), func(t *testing.T) {
			p.negotiateAndHandshake(t, net.JoinHostPort("127.0.0.1", ports[proto]), proto, Options{ServerName: "localhost"})
		})
	}
}

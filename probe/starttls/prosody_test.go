package starttls

import (
	"net"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestProsody opens client-to-server and server-to-server streams to a
// real Prosody, asks for STARTTLS on each, then completes a verified TLS
// handshake; a Prosody without mod_tls leaves <starttls/> out of its
// features.
func TestProsody(t *testing.T) {
	opts := Options{ServerName: "localhost"}
	t.Run("starttls", func(t *testing.T) {
		p := newPKI(t, time.Now())
		ports := startProsody(t, p, true)
		for _, proto := range []Protocol{XMPPClient, XMPPServer} {
			t.Run(string(proto), func(t *testing.T) {
				p.negotiateAndHandshake(t, net.JoinHostPort("127.0.0.1", ports[proto]), proto, opts)
			})
		}
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		ports := startProsody(t, p, false)
		for _, proto := range []Protocol{XMPPClient, XMPPServer} {
			t.Run(string(proto), func(t *testing.T) {
				expectNotOffered(t, net.JoinHostPort("127.0.0.1", ports[proto]), proto, opts)
			})
		}
	})
}

// startProsody starts Prosody and returns its c2s and s2s ports. Prosody
// will not run as root, so as root it runs as its packaged account.
func startProsody(t *testing.T, p *pki, withTLS bool) map[Protocol]string {
	t.Helper()
	prosody := requireBinary(t, "prosody", "prosody")
	dir := daemonDir(t)
	chain, key, _ := p.certFiles(t, dir)
	mkdir(t, dir, "data")
	ports := map[Protocol]string{XMPPClient: proc.FreePort(t), XMPPServer: proc.FreePort(t)}
	modules := `"tls", "saslauth", "dialback"`
	if !withTLS {
		modules = `"saslauth", "dialback"`
	}
	// mod_posix would daemonise; proc holds Prosody in the foreground
	// instead. Without mod_tls, encryption cannot be required.
	conf := writeFile(t, dir, "prosody.cfg.lua", []byte(
		"data_path = \""+dir+"/data\"\n"+
			"log = { { levels = { min = \"warn\" }, to = \"console\" } }\n"+
			"interfaces = { \"127.0.0.1\" }\n"+
			"c2s_ports = { "+ports[XMPPClient]+" }\n"+
			"s2s_ports = { "+ports[XMPPServer]+" }\n"+
			"c2s_direct_tls_ports = { }\ns2s_direct_tls_ports = { }\n"+
			"legacy_ssl_ports = { }\nhttp_ports = { }\nhttps_ports = { }\n"+
			"modules_enabled = { "+modules+" }\n"+
			"modules_disabled = { \"posix\" }\n"+
			"c2s_require_encryption = "+boolLua(withTLS)+"\n"+
			"s2s_require_encryption = "+boolLua(withTLS)+"\n"+
			"ssl = { certificate = \""+chain+"\", key = \""+key+"\" }\n"+
			"VirtualHost \"localhost\"\n"))
	chownTree(t, dir, "prosody")
	daemon := startAs(t, "prosody", prosody, "--config", conf)
	for _, port := range ports {
		waitListening(t, daemon, net.JoinHostPort("127.0.0.1", port))
	}
	return ports
}

func boolLua(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

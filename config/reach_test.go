package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReachKeysBuildTheSpec(t *testing.T) {
	root, err := testpki.NewRoot("Client Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	client, err := root.NewLeaf(testpki.LeafOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writeTemp(t, "client.pem", client.PEM()), writeTemp(t, "client.key", client.KeyPEM())
	caFile := writeTemp(t, "ca.pem", root.PEM())
	cfg, err := Parse([]byte(`
ca_file = "`+caFile+`"
[responder]
proxy_url = "http://proxy.example:3128"
host_header = "ocsp.lb.example"
ca_file = "`+caFile+`"

[[target]]
name = "mail"
endpoint = "mail.example.com:587"
starttls = "smtp"
client_cert_file = "`+certFile+`"
client_key_file = "`+keyFile+`"
insecure_skip_verify = true
ip_family = "ipv6"
tls_min_version = "1.2"
tls_max_version = "1.3"
tls_groups = ["X25519", "P-256"]
responder_host = "ocsp.example"

[[target]]
name = "imap-by-scheme"
endpoint = "imap://mail.example.com"
proxy_url = "http://user:pw@proxy.example:8080"

[[target]]
name = "ldaps"
endpoint = "ldaps://ldap.example.com"
ca_file = "`+caFile+`"
`), "mem.toml")
	if err != nil {
		t.Fatal(err)
	}
	mail := cfg.Targets[0].Spec(cfg, time.Now, "ua", nil)
	s := mail.Staple
	if s.StartTLS != starttls.SMTP || len(s.ClientCertificates) != 1 || !s.SkipChainVerify || s.Family != probe.IPv6 ||
		s.TLSMinVersion != tls.VersionTLS12 || s.TLSMaxVersion != tls.VersionTLS13 || s.Proxy != nil || s.Roots == nil ||
		!slices.Equal(s.Groups, []tls.CurveID{tls.X25519, tls.CurveP256}) {
		t.Errorf("mail staple request: %+v", s)
	}
	if mail.ResponderHost != "ocsp.example" {
		t.Errorf("responder_host over [responder] host_header: got %q", mail.ResponderHost)
	}
	imap := cfg.Targets[1].Spec(cfg, time.Now, "ua", nil)
	if imap.Staple.Endpoint != "mail.example.com:143" || imap.Staple.StartTLS != starttls.IMAP || imap.Staple.Proxy == nil ||
		imap.Staple.Proxy.Host != "proxy.example:8080" || imap.Staple.Family != probe.IPAny || imap.Staple.Roots == nil {
		t.Errorf("imap staple request: %+v", imap.Staple)
	}
	if imap.ResponderProxy == nil || imap.ResponderProxy.Host != "proxy.example:8080" || mail.ResponderProxy != nil {
		t.Errorf("responder proxies: imap %v, mail %v", imap.ResponderProxy, mail.ResponderProxy)
	}
	if imap.ResponderHost != "ocsp.lb.example" {
		t.Errorf("[responder] host_header: got %q", imap.ResponderHost)
	}
	if ldaps := cfg.Targets[2].Spec(cfg, time.Now, "ua", nil).Staple; ldaps.Endpoint != "ldap.example.com:636" || ldaps.StartTLS != "" {
		t.Errorf("ldaps staple request: %+v", ldaps)
	}
	opts := cfg.ClientOptions()
	if opts.Proxy == nil || opts.Proxy.Host != "proxy.example:3128" || opts.RootCAs == nil || opts.MaxRedirects != probe.DefaultMaxRedirects {
		t.Errorf("client options: %+v", opts)
	}
}

// TestReachKeyErrors: each bad value is reported with its target and key.
func TestReachKeyErrors(t *testing.T) {
	cases := []struct {
		name string
		body string
		want string
	}{
		{name: "unknown protocol", body: `starttls = "smtps"`, want: `target "a": starttls: unknown STARTTLS protocol "smtps"`},
		{name: "scheme contradicts starttls", body: `starttls = "imap"` + "\nendpoint = \"smtp://a.example\"", want: `target "a": starttls: "imap" contradicts`},
		{name: "xmpp to an IP without server_name", body: `starttls = "xmpp-client"` + "\nendpoint = \"127.0.0.1:5222\"", want: `target "a": server_name: STARTTLS xmpp-client`},
		{name: "cert without key", body: `client_cert_file = "/nonexistent"`, want: `target "a": client_cert_file: client_cert_file and client_key_file go together`},
		{name: "missing cert files", body: "client_cert_file = \"/nonexistent.pem\"\nclient_key_file = \"/nonexistent.key\"", want: `target "a": client_cert_file: open /nonexistent.pem`},
		{name: "bad family", body: `ip_family = "v6"`, want: `target "a": ip_family: "v6" is not any, ipv4 or ipv6`},
		{name: "bad version", body: `tls_min_version = "TLS1.3"`, want: `target "a": tls_min_version: "TLS1.3" is not 1.0, 1.1, 1.2 or 1.3`},
		{name: "min above max", body: "tls_min_version = \"1.3\"\ntls_max_version = \"1.2\"", want: `target "a": tls_min_version: 1.3 is above tls_max_version 1.2`},
		{name: "max below the default min", body: `tls_max_version = "1.1"`, want: `target "a": tls_max_version: 1.1 is below the default minimum 1.2`},
		{name: "unknown group", body: `tls_groups = ["x25519"]`, want: `target "a": tls_groups: "x25519" is not one of X25519MLKEM768, X25519, P-256, P-384, P-521`},
		{name: "group twice", body: `tls_groups = ["X25519", "X25519"]`, want: `target "a": tls_groups: "X25519" is listed twice`},
		{name: "no group", body: `tls_groups = []`, want: `target "a": tls_groups: is empty`},
		{name: "https proxy", body: `proxy_url = "https://proxy.example"`, want: `target "a": proxy_url: "https://proxy.example" is not a proxy URL`},
		{name: "proxy password kept out", body: `proxy_url = "socks5://u:hunter2@proxy.example"`, want: `u:xxxxx@proxy.example`},
		{name: "proxy with ip_family", body: "proxy_url = \"http://proxy.example\"\nip_family = \"ipv4\"", want: `target "a": proxy_url: the proxy resolves the endpoint`},
		{name: "bad responder_host", body: `responder_host = "a b"`, want: `target "a": responder_host: "a b" is not a host name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if !strings.Contains(body, "endpoint =") {
				body += "\nendpoint = \"a.example:443\""
			}
			_, err := Parse([]byte("[[target]]\nname = \"a\"\n"+body+"\n"), "mem.toml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the proxy password: %v", err)
			}
		})
	}
	for _, tc := range []struct{ body, want string }{
		{body: "[responder]\nproxy_url = \"ftp://p\"", want: `[responder] proxy_url: "ftp://p" is not a proxy URL`},
		{body: "[responder]\nhost_header = \"x/y\"", want: `[responder] host_header: "x/y" is not a host name`},
		{body: "[responder]\nca_file = \"/nonexistent\"", want: `mem.toml:2: [responder] ca_file: open /nonexistent`},
		{body: "ca_file = \"/nonexistent\"", want: `mem.toml:1: ca_file: open /nonexistent`},
	} {
		if _, err := Parse([]byte(tc.body+"\n"), "mem.toml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.body, err, tc.want)
		}
	}
}

// TestResponderCAFile queries a private https responder whose CA is only
// in [responder] ca_file.
func TestResponderCAFile(t *testing.T) {
	root, err := testpki.NewRoot("Test Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Test Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.NewLeaf(testpki.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plain := testpki.NewResponder(func(testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: inter}.MustDER()
	})
	defer plain.Close()
	srv := httptest.NewTLSServer(plain.Config.Handler)
	defer srv.Close()
	caFile := writeTemp(t, "responder-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	query := func(t *testing.T, text string) *probe.ResponderResult {
		t.Helper()
		cfg, err := Parse([]byte(text), "mem.toml")
		if err != nil {
			t.Fatal(err)
		}
		client := probe.NewHTTPClient(cfg.ClientOptions())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return probe.Responder(ctx, client, probe.ResponderRequest{URL: srv.URL, Leaf: leaf.Cert, Issuer: inter.Cert})
	}
	t.Run("with the CA", func(t *testing.T) {
		if res := query(t, "[responder]\nca_file = \""+caFile+"\"\n"); !res.Up || len(res.Problems) != 0 {
			t.Errorf("up %v problems %v", res.Up, res.Problems)
		}
	})
	t.Run("without it", func(t *testing.T) {
		res := query(t, "")
		if res.Up || len(res.Problems) != 1 || res.Problems[0].Reason != probe.ReasonResponderTLS {
			t.Errorf("up %v problems %v, want responder_tls", res.Up, res.Problems)
		}
	})
}

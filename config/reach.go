package config

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// The keys that say how an endpoint is reached: STARTTLS, client
// certificates, address family, TLS versions and groups, and a CONNECT
// proxy.

var ipFamilies = map[string]probe.IPFamily{"any": probe.IPAny, "ipv4": probe.IPv4, "ipv6": probe.IPv6}

// tlsGroups are the key-exchange groups tls_groups may name, by their
// IANA names (OpenSSL's -groups takes the same).
var tlsGroups = map[string]tls.CurveID{
	"X25519MLKEM768": tls.X25519MLKEM768,
	"X25519":         tls.X25519,
	"P-256":          tls.CurveP256,
	"P-384":          tls.CurveP384,
	"P-521":          tls.CurveP521,
}

// TLSGroupNames lists the names tls_groups accepts, for errors and docs.
func TLSGroupNames() []string {
	return []string{"X25519MLKEM768", "X25519", "P-256", "P-384", "P-521"}
}

var tlsVersions = map[string]uint16{
	"1.0": tls.VersionTLS10,
	"1.1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12,
	"1.3": tls.VersionTLS13,
}

// hostHeaderRE is a DNS name or IPv4 address with an optional port: what
// may go in a Host header.
var hostHeaderRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$`)

func (t *Target) validateReach(fail func(key, format string, args ...any)) {
	if t.StartTLS != "" {
		proto, err := starttls.ParseProtocol(t.StartTLS)
		switch {
		case err != nil:
			fail("starttls", "%v", err)
		case t.Endpoint == "":
			fail("starttls", "needs an endpoint")
		case t.startTLS != "" && t.startTLS != proto:
			fail("starttls", "%q contradicts the endpoint's scheme, which asks for %q", t.StartTLS, t.startTLS)
		default:
			t.startTLS = proto
		}
	}
	if (t.startTLS == starttls.XMPPClient || t.startTLS == starttls.XMPPServer) && t.ServerName == "" && isIPEndpoint(t.Endpoint) {
		fail("server_name", "STARTTLS %s puts the domain in the stream header: set server_name", t.startTLS)
	}
	switch {
	case (t.ClientCertFile == "") != (t.ClientKeyFile == ""):
		fail("client_cert_file", "client_cert_file and client_key_file go together")
	case t.ClientCertFile != "":
		if cert, err := loadKeyPair(t.ClientCertFile, t.ClientKeyFile); err != nil {
			fail("client_cert_file", "%v", err)
		} else {
			t.clientCert = []tls.Certificate{cert}
		}
	}
	if _, ok := ipFamilies[t.IPFamily]; !ok {
		fail("ip_family", "%q is not any, ipv4 or ipv6", t.IPFamily)
	}
	var ok bool
	if t.TLSMinVersion != "" {
		if t.tlsMin, ok = tlsVersions[t.TLSMinVersion]; !ok {
			fail("tls_min_version", "%q is not 1.0, 1.1, 1.2 or 1.3", t.TLSMinVersion)
		}
	}
	if t.TLSMaxVersion != "" {
		if t.tlsMax, ok = tlsVersions[t.TLSMaxVersion]; !ok {
			fail("tls_max_version", "%q is not 1.0, 1.1, 1.2 or 1.3", t.TLSMaxVersion)
		}
	}
	if t.TLSGroups != nil {
		t.tlsGroups = nil
		if len(t.TLSGroups) == 0 {
			fail("tls_groups", "is empty: no handshake can agree on a key exchange; leave it out for the default")
		}
		for _, name := range t.TLSGroups {
			id, ok := tlsGroups[name]
			switch {
			case !ok:
				fail("tls_groups", "%q is not one of %s", name, strings.Join(TLSGroupNames(), ", "))
			case slices.Contains(t.tlsGroups, id):
				fail("tls_groups", "%q is listed twice", name)
			default:
				t.tlsGroups = append(t.tlsGroups, id)
			}
		}
	}
	if t.tlsMin != 0 && t.tlsMax != 0 && t.tlsMin > t.tlsMax {
		fail("tls_min_version", "%s is above tls_max_version %s", t.TLSMinVersion, t.TLSMaxVersion)
	}
	if t.tlsMin == 0 && t.tlsMax != 0 && t.tlsMax < tls.VersionTLS12 {
		fail("tls_max_version", "%s is below the default minimum 1.2: set tls_min_version too", t.TLSMaxVersion)
	}
	if t.ProxyURL != "" {
		var err error
		switch t.proxy, err = parseProxyURL(t.ProxyURL); {
		case err != nil:
			fail("proxy_url", "%v", err)
		case t.Endpoint == "":
			fail("proxy_url", "needs an endpoint: it carries the TLS connection")
		case t.IPFamily != "any":
			fail("proxy_url", "the proxy resolves the endpoint, so ip_family %q cannot hold through it", t.IPFamily)
		case t.Addresses == "all":
			fail("proxy_url", "the proxy resolves the endpoint, so addresses = \"all\" cannot hold through it")
		}
	}
	if t.ResponderHost != "" && !hostHeaderRE.MatchString(t.ResponderHost) {
		fail("responder_host", "%q is not a host name with an optional :port", t.ResponderHost)
	}
}

func isIPEndpoint(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	return err == nil && net.ParseIP(host) != nil
}

// parseProxyURL accepts http://[user:password@]host[:port], with nothing
// after the authority.
func parseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" || !slices.Contains([]string{"", "/"}, u.Path) || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not a proxy URL such as http://proxy.example.com:3128", RedactProxyURL(s))
	}
	return u, nil
}

// RedactProxyURL keeps a proxy password out of error messages and out of
// the configuration the agent shows.
func RedactProxyURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := ReadRegularFile(certFile, MaxPEMBytes)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := ReadRegularFile(keyFile, MaxPEMBytes)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// ClientKey identifies what ClientOptions builds a client from, the
// contents of [responder] ca_file included, so a reload can tell whether
// a client built for the old configuration still serves the new one.
func (c *Config) ClientKey() string {
	var roots [sha256.Size]byte
	if c.Responder.CAFile != "" && c.files != nil {
		roots = c.files.sum(c.Responder.CAFile)
	}
	return fmt.Sprintf("%d|%q|%x|%q", c.Responder.MaxRedirects, c.Responder.CAFile, roots, c.Responder.ProxyURL)
}

// ClientOptions are the settings of the shared responder and CRL client
// that the configuration holds: [responder] ca_file and proxy_url.
func (c *Config) ClientOptions() probe.ClientOptions {
	return probe.ClientOptions{MaxRedirects: c.Responder.MaxRedirects, RootCAs: c.Responder.rootCAs, Proxy: c.Responder.proxy}
}

package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// DefaultPort is the port an endpoint gets when it names none.
const DefaultPort = "443"

var errEndpointShape = errors.New("must be HOST[:PORT] or SCHEME://HOST[:PORT] (https, smtp, imaps …), for example www.example.com:443")

// Endpoint is a parsed endpoint: where to connect, and the STARTTLS
// dialogue its scheme asks for (empty for TLS from the first byte).
type Endpoint struct {
	HostPort string
	StartTLS starttls.Protocol
	// Scheme is the URL scheme given, lower-cased; empty for HOST:PORT.
	Scheme string
}

// HTTPS reports whether the endpoint speaks HTTPS, as far as its form
// tells: a bare HOST:PORT or an https:// URL.
func (e Endpoint) HTTPS() bool { return e.StartTLS == "" && (e.Scheme == "" || e.Scheme == "https") }

// String is the endpoint in the form ParseEndpoint reads back to itself.
func (e Endpoint) String() string {
	if e.StartTLS == "" {
		return e.HostPort
	}
	return string(e.StartTLS) + "://" + e.HostPort
}

// ParseEndpoint is the one endpoint parser, shared by the configuration,
// `ocspwatch check` and /probe, so all three accept the same things:
// HOST, HOST:PORT, [IPv6]:PORT and SCHEME://HOST[:PORT][/path]. A scheme
// is https, a STARTTLS one (smtp, imap, ldap, postgres …) or an
// implicit-TLS one (smtps, imaps, pop3s, ldaps, mqtts …), and gives the
// default port (starttls.ProtocolForScheme). Ports are numbers from 1 to
// 65535; service names are refused because their meaning depends on the
// machine's /etc/services. HostPort has IPv6 literals bracketed.
func ParseEndpoint(s string) (Endpoint, error) {
	var ep Endpoint
	port := DefaultPort
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		proto, defaultPort, _, known := starttls.ProtocolForScheme(scheme)
		if !known {
			return Endpoint{}, fmt.Errorf("the scheme %q is not https nor a STARTTLS or implicit-TLS one (smtp, imap, smtps …)", scheme)
		}
		u, err := url.Parse("https://" + rest)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return Endpoint{}, errEndpointShape
		}
		s, ep.StartTLS, port, ep.Scheme = u.Host, proto, defaultPort, strings.ToLower(scheme)
		if u.Port() == "" && !strings.HasSuffix(u.Host, ":") {
			s = net.JoinHostPort(u.Hostname(), defaultPort)
		}
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") > 1 && net.ParseIP(s) != nil {
		host = s // a bare IPv6 literal
	} else if strings.Contains(s, ":") {
		return Endpoint{}, errEndpointShape
	}
	if host == "" || strings.ContainsAny(host, "/ []@?#") {
		return Endpoint{}, errEndpointShape
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return Endpoint{}, fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	ep.HostPort = net.JoinHostPort(host, port)
	return ep, nil
}

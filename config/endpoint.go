package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the port an endpoint gets when it names none.
const DefaultPort = "443"

var errEndpointShape = errors.New("must be HOST[:PORT] or https://HOST[:PORT], for example www.example.com:443")

// ParseEndpoint is the one endpoint parser, shared by the configuration,
// `ocspwatch check` and /probe, so all three accept the same things:
// HOST, HOST:PORT, [IPv6]:PORT and https://HOST[:PORT][/path]. Ports are
// numbers from 1 to 65535; service names are refused because their
// meaning depends on the machine's /etc/services. It returns host:port
// with IPv6 literals bracketed.
func ParseEndpoint(s string) (string, error) {
	if rest, ok := cutScheme(s); ok {
		u, err := url.Parse("https://" + rest)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", errEndpointShape
		}
		s = u.Host
	} else if strings.Contains(s, "://") {
		return "", fmt.Errorf("the scheme of %q is not https", s)
	}
	host, port := s, DefaultPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") > 1 && net.ParseIP(s) != nil {
		host = s // a bare IPv6 literal
	} else if strings.Contains(s, ":") {
		return "", errEndpointShape
	}
	if host == "" || strings.ContainsAny(host, "/ []@?#") {
		return "", errEndpointShape
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return net.JoinHostPort(host, port), nil
}

func cutScheme(s string) (string, bool) {
	if len(s) >= len("https://") && strings.EqualFold(s[:len("https://")], "https://") {
		return s[len("https://"):], true
	}
	return "", false
}

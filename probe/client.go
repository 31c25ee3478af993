package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// DefaultMaxRedirects caps redirects a responder may send us through.
const DefaultMaxRedirects = 3

// ClientOptions shape the shared responder client. Zero values mean the
// defaults: DefaultMaxRedirects, the system resolver and the system roots.
type ClientOptions struct {
	MaxRedirects int
	Resolver     *net.Resolver
	RootCAs      *x509.CertPool
}

var errTooManyRedirects = errors.New("too many redirects")

// NewHTTPClient builds the one client every responder query shares. It has
// no timeout of its own: each query's context bounds it. Keep-alives are
// off so every query measures a fresh connection, as a first-time client
// would see it. It dials only the first address a name resolves to, with
// no fallback to the next one, so a broken address or address family is
// reported rather than hidden by a silent retry.
func NewHTTPClient(opts ClientOptions) *http.Client {
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	resolver := opts.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	dialer := &net.Dialer{}
	dialFirst := func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ips, err := resolve(ctx, resolver, host)
		if err != nil {
			// Keep the resolver's own DNSError; name resolve's "no addresses".
			var dnsErr *net.DNSError
			if !errors.As(err, &dnsErr) {
				err = &net.DNSError{Err: err.Error(), Name: host, IsNotFound: true}
			}
			return nil, err
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             http.ProxyFromEnvironment,
			DialContext:       dialFirst,
			DisableKeepAlives: true,
			ForceAttemptHTTP2: false,
			TLSClientConfig:   &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("%w (%d)", errTooManyRedirects, opts.MaxRedirects)
			}
			return nil
		},
	}
}

package probe

import (
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
// would see it, and the IPv6-to-IPv4 fallback is off so a broken address
// family is not hidden.
func NewHTTPClient(opts ClientOptions) *http.Client {
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	dialer := &net.Dialer{FallbackDelay: -1, Resolver: opts.Resolver}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             http.ProxyFromEnvironment,
			DialContext:       dialer.DialContext,
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

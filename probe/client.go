package probe

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
)

// DefaultMaxRedirects caps redirects a responder may send us through.
const DefaultMaxRedirects = 3

// ClientOptions shape the shared responder client. MaxRedirects is taken
// as it is: zero means no redirect is followed.
type ClientOptions struct {
	MaxRedirects int
	// Resolver is nil for the system resolver; RootCAs nil for the
	// system roots.
	Resolver *net.Resolver
	RootCAs  *x509.CertPool
	// Proxy, when set, carries every query (proxy_url); otherwise
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY decide.
	Proxy *url.URL
}

var errTooManyRedirects = errors.New("too many redirects")

// NewHTTPClient builds the one client every responder query shares. It has
// no timeout of its own: each query's context bounds it. Keep-alives are
// off so every query measures a fresh connection, as a first-time client
// would see it. It dials only the first address a name resolves to, with
// no fallback to the next one, so a broken address or address family is
// reported rather than hidden by a silent retry. Every dial goes through
// the dial policy carried by the query's context.
func NewHTTPClient(opts ClientOptions) *http.Client {
	resolver := opts.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	dialer := newDialer()
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
			Proxy:             proxyUnderPolicy(opts.Proxy),
			DialContext:       dialFirst,
			DisableKeepAlives: true,
			ForceAttemptHTTP2: false,
			TLSClientConfig:   &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("%w (%d allowed)", errTooManyRedirects, opts.MaxRedirects)
			}
			// A redirect's target is remote input, whoever named the first URL.
			if s := scopeOf(req.Context()); s != nil {
				s.redirected.Store(true)
			}
			return nil
		},
	}
}

// newDialer is the one dialer for endpoints and responders: its Control
// hook applies the dial policy to the address actually dialled.
func newDialer() *net.Dialer {
	return &net.Dialer{ControlContext: controlDial}
}

type proxyOverrideKey struct{}

// withProxyOverride makes the client send this query through proxy,
// whatever its own setting; a nil proxy changes nothing.
func withProxyOverride(ctx context.Context, proxy *url.URL) context.Context {
	if proxy == nil {
		return ctx
	}
	return context.WithValue(ctx, proxyOverrideKey{}, proxy)
}

func proxyOverride(ctx context.Context) *url.URL {
	u, _ := ctx.Value(proxyOverrideKey{}).(*url.URL)
	return u
}

// proxyUnderPolicy returns the transport's proxy function: the
// configured proxy when there is one, else HTTP(S)_PROXY and NO_PROXY.
// Through a proxy the agent dials only the proxy, which the operator
// configured; a URL's host given as a literal address is still checked
// against the policy, since the proxy would connect to it on the agent's
// behalf.
func proxyUnderPolicy(configured *url.URL) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		proxy, err := cmp.Or(proxyOverride(req.Context()), configured), error(nil)
		if proxy == nil {
			proxy, err = http.ProxyFromEnvironment(req)
		}
		s := scopeOf(req.Context())
		// Every hop decides afresh whether it goes through the proxy: a
		// redirect to a NO_PROXY or loopback host is dialled directly,
		// and must be judged as the remote input it is.
		if s != nil {
			s.proxied.Store(err == nil && proxy != nil)
		}
		if err != nil || proxy == nil {
			return proxy, err
		}
		if s != nil {
			if addr, perr := netip.ParseAddr(req.URL.Hostname()); perr == nil {
				if err := s.policy.Check(addr, s.namedBy()); err != nil {
					return nil, err
				}
			}
		}
		return proxy, nil
	}
}

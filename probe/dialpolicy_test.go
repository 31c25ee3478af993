package probe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

func TestDialPolicyCheck(t *testing.T) {
	policy := NewDialPolicy(
		[]netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")},
		[]netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
	)
	cases := []struct {
		addr   string
		origin Origin
		denied bool
	}{
		{addr: "169.254.169.254", origin: OriginConfigured, denied: true},
		{addr: "::ffff:169.254.169.254", origin: OriginConfigured, denied: true},
		{addr: "fd00:ec2::254", origin: OriginConfigured, denied: true},
		{addr: "100.100.100.200", origin: OriginConfigured, denied: true},
		{addr: "fe80::1", origin: OriginConfigured, denied: true},
		{addr: "203.0.113.7", origin: OriginConfigured, denied: true},
		{addr: "10.0.0.1", origin: OriginConfigured},
		{addr: "127.0.0.1", origin: OriginConfigured},
		{addr: "10.0.0.1", origin: OriginRemote, denied: true},
		{addr: "10.1.2.3", origin: OriginRemote},
		{addr: "127.0.0.1", origin: OriginRemote, denied: true},
		{addr: "::1", origin: OriginRemote, denied: true},
		{addr: "192.168.1.1", origin: OriginRemote, denied: true},
		{addr: "fd12::1", origin: OriginRemote, denied: true},
		{addr: "0.0.0.0", origin: OriginRemote, denied: true},
		{addr: "93.184.215.14", origin: OriginRemote},
	}
	for _, c := range cases {
		err := policy.Check(netip.MustParseAddr(c.addr), c.origin)
		var denied *AddressDeniedError
		if got := errors.As(err, &denied); got != c.denied {
			t.Errorf("Check(%s, %s) = %v, want denied %v", c.addr, c.origin, err, c.denied)
		}
	}
	if err := (*DialPolicy)(nil).Check(netip.MustParseAddr("169.254.169.254"), OriginRemote); err != nil {
		t.Errorf("a nil policy denies: %v", err)
	}
}

// TestDeniedAddressesAreNeverDialled proves each refusal happens before a
// connection: the listener behind the denied address sees nothing.
func TestDeniedAddressesAreNeverDialled(t *testing.T) {
	p := testPKI(t)
	deny := NewDialPolicy(nil, []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	t.Run("configured endpoint in the deny list", func(t *testing.T) {
		target := loopback.Count(t, "127.0.0.3")
		res := Staple(ctx, StapleRequest{Endpoint: target.Addr, Now: frozen, Dial: deny})[0]
		if !hasReason(res.Problems, ReasonAddressDenied) {
			t.Errorf("problems %v, want address_denied", res.Problems)
		}
		if n := target.Connections(); n != 0 {
			t.Errorf("the denied endpoint saw %d connections", n)
		}
	})
	t.Run("ad-hoc endpoint on loopback", func(t *testing.T) {
		target := loopback.Count(t, "127.0.0.2")
		res := Staple(ctx, StapleRequest{Endpoint: target.Addr, Now: frozen, Dial: NewDialPolicy(nil, nil), Origin: OriginRemote})[0]
		if !hasReason(res.Problems, ReasonAddressDenied) || target.Connections() != 0 {
			t.Errorf("problems %v, connections %d; want address_denied and none", res.Problems, target.Connections())
		}
	})
	t.Run("certificate URL on loopback", func(t *testing.T) {
		target := loopback.Count(t, "127.0.0.2")
		res := Responder(ctx, testClient(), ResponderRequest{URL: "http://" + target.Addr + "/ocsp", Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
			Now: frozen, Dial: NewDialPolicy(nil, nil), Origin: OriginRemote})
		if !hasReason(res.Problems, ReasonAddressDenied) || target.Connections() != 0 {
			t.Errorf("problems %v, connections %d; want address_denied and none", res.Problems, target.Connections())
		}
	})
	t.Run("configured responder redirecting to loopback", func(t *testing.T) {
		target := loopback.Count(t, "127.0.0.2")
		redirector := httptest.NewServer(http.RedirectHandler("http://"+target.Addr+"/ocsp", http.StatusFound))
		defer redirector.Close()
		res := Responder(ctx, NewHTTPClient(ClientOptions{MaxRedirects: 3, Resolver: offlineResolver()}), ResponderRequest{URL: redirector.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
			Now: frozen, Dial: NewDialPolicy(nil, nil), Origin: OriginConfigured})
		if !hasReason(res.Problems, ReasonAddressDenied) || target.Connections() != 0 {
			t.Errorf("problems %v, connections %d; want address_denied and none", res.Problems, target.Connections())
		}
	})
	t.Run("allow list lets a certificate URL through", func(t *testing.T) {
		resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
		defer resp.Close()
		allow := NewDialPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil)
		res := Responder(ctx, testClient(), ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
			Now: frozen, Dial: allow, Origin: OriginRemote, Policy: VerifyPolicy{Skew: DefaultSkew}})
		if len(res.Problems) != 0 || !res.Up {
			t.Errorf("problems %v", res.Problems)
		}
	})
}

func TestMaxRedirectsZeroFollowsNone(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	redirector := httptest.NewServer(http.RedirectHandler(resp.URL, http.StatusFound))
	defer redirector.Close()
	res := Responder(context.Background(), NewHTTPClient(ClientOptions{MaxRedirects: 0, Resolver: offlineResolver()}),
		ResponderRequest{URL: redirector.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen})
	if !hasReason(res.Problems, ReasonResponderRedirects) || len(resp.Queries()) != 0 {
		t.Errorf("problems %v, responder queries %d; want responder_redirects and none", res.Problems, len(resp.Queries()))
	}
}

func hasReason(ps []Problem, r Reason) bool {
	for _, p := range ps {
		if p.Reason == r {
			return true
		}
	}
	return false
}

// TestRedirectThroughAProxyIsStillRemoteInput: a proxied responder that
// redirects to a loopback address must not reach it, through the proxy or
// around it.
func TestRedirectThroughAProxyIsStillRemoteInput(t *testing.T) {
	p := testPKI(t)
	inside := loopback.Count(t, "127.0.0.2")
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+inside.Addr+"/ocsp", http.StatusFound)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	client := NewHTTPClient(ClientOptions{MaxRedirects: 3, Resolver: offlineResolver(), Proxy: proxyURL})
	res := Responder(context.Background(), client, ResponderRequest{URL: "http://responder.example/ocsp", Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
		Now: frozen, Dial: NewDialPolicy(nil, nil), Origin: OriginRemote})
	if !hasReason(res.Problems, ReasonAddressDenied) || inside.Connections() != 0 {
		t.Errorf("problems %v, connections %d; want address_denied and none", res.Problems, inside.Connections())
	}
}

// TestCRLDownloadsFollowTheDialPolicy: a CRL URL from a certificate is
// remote input, like an OCSP URL, for downloads the CRL cache shares.
func TestCRLDownloadsFollowTheDialPolicy(t *testing.T) {
	p := testPKI(t)
	inside := loopback.Count(t, "127.0.0.2")
	policy := NewDialPolicy(nil, nil)
	pool := crl.NewPool(crl.PoolOptions{Client: testClient(), Now: frozen,
		Scope: func(ctx context.Context) context.Context { return WithDialPolicy(ctx, policy, OriginRemote) }})
	defer pool.Close()
	snap := pool.Get(context.Background(), "http://"+inside.Addr+"/ca.crl", p.inter.Cert)
	if snap.Up() || len(snap.Problems) == 0 || inside.Connections() != 0 {
		t.Errorf("problems %v, connections %d; want a refused download and no connection", snap.Problems, inside.Connections())
	}
}

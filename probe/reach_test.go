package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

func startSMTP(t *testing.T, leaf *testpki.Cert, staple []byte, offer bool, greeting string) *testpki.SMTPServer {
	t.Helper()
	s, err := testpki.NewSMTPServer(leaf, staple, testpki.SMTPOptions{NoSTARTTLS: !offer, Greeting: greeting})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func stapleOnce(t *testing.T, req StapleRequest) *StapleResult {
	t.Helper()
	if req.Now == nil {
		req.Now = frozen
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results := Staple(ctx, req)
	if len(results) != 1 {
		t.Fatalf("got %d results, want 1", len(results))
	}
	return results[0]
}

// TestStartTLSSameVerdicts probes the same certificate and staple over
// direct TLS and over SMTP STARTTLS: every verdict must match.
func TestStartTLSSameVerdicts(t *testing.T) {
	p := testPKI(t)
	cases := []struct {
		name   string
		leaf   *testpki.Cert
		staple []byte
	}{
		{name: "good", leaf: p.leaf, staple: good(p.leaf)},
		{name: "revoked", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter}.MustDER()},
		{name: "expired", leaf: p.leaf, staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-48*time.Hour), now.Add(-24*time.Hour))}, ProducedAt: now.Add(-48 * time.Hour), Signer: p.inter}.MustDER()},
		{name: "staple for another certificate", leaf: p.leaf, staple: good(p.mustLeaf)},
		{name: "no staple", leaf: p.leaf},
		{name: "must-staple without staple", leaf: p.mustLeaf},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			direct := startTLS(t, tc.leaf, tc.staple, testpki.ServerOptions{})
			smtp := startSMTP(t, tc.leaf, tc.staple, true, "")
			want := stapleOnce(t, StapleRequest{Endpoint: direct.Addr, ServerName: "localhost", Roots: p.root.Pool()})
			got := stapleOnce(t, StapleRequest{Endpoint: smtp.Addr, ServerName: "localhost", Roots: p.root.Pool(), StartTLS: starttls.SMTP})
			if !got.HandshakeOK || !want.HandshakeOK {
				t.Fatalf("handshakes: STARTTLS %v (%v), direct %v (%v)", got.HandshakeOK, got.Problems, want.HandshakeOK, want.Problems)
			}
			if g, w := reasonsOf(got.Problems), reasonsOf(want.Problems); !slices.Equal(g, w) {
				t.Errorf("STARTTLS reasons %v, direct %v", g, w)
			}
			if got.StaplePresent != want.StaplePresent || got.ChainVerified != want.ChainVerified || got.IssuerSource != want.IssuerSource {
				t.Errorf("STARTTLS present/chain/issuer %v/%v/%s, direct %v/%v/%s", got.StaplePresent, got.ChainVerified, got.IssuerSource,
					want.StaplePresent, want.ChainVerified, want.IssuerSource)
			}
			if want.Staple != nil && (got.Staple == nil || got.Staple.Valid != want.Staple.Valid || got.Staple.CertStatus != want.Staple.CertStatus) {
				t.Errorf("STARTTLS staple %+v, direct %+v", got.Staple, want.Staple)
			}
			if got.Timings.TLS <= 0 {
				t.Errorf("TLS timing %v, want the dialogue and handshake counted", got.Timings.TLS)
			}
		})
	}
}

func TestStartTLSFailures(t *testing.T) {
	p := testPKI(t)
	cases := []struct {
		name     string
		offer    bool
		greeting string
		want     Reason
		detail   string
	}{
		{
			name:   "not offered",
			offer:  false,
			want:   ReasonStartTLSRefused,
			detail: "250 HELP",
		},
		{
			name:     "turned away at the greeting",
			greeting: "554 no SMTP service here\r\n",
			want:     ReasonStartTLSFailed,
			detail:   "554 no SMTP service here",
		},
		{
			name:     "another protocol",
			greeting: "SSH-2.0-OpenSSH_9.6\r\n",
			want:     ReasonStartTLSFailed,
			detail:   "greeting",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSMTP(t, p.leaf, good(p.leaf), tc.offer, tc.greeting)
			r := stapleOnce(t, StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.root.Pool(), StartTLS: starttls.SMTP})
			if r.HandshakeOK || len(r.Problems) != 1 || r.Problems[0].Reason != tc.want {
				t.Fatalf("handshake %v, problems %v; want only %s", r.HandshakeOK, r.Problems, tc.want)
			}
			if !strings.Contains(r.Problems[0].Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", r.Problems[0].Detail, tc.detail)
			}
		})
	}
	t.Run("silent server times out", func(t *testing.T) {
		addr := loopback.Silent(t)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		r := Staple(ctx, StapleRequest{Endpoint: addr, ServerName: "localhost", StartTLS: starttls.SMTP, Now: frozen})[0]
		if got := reasonsOf(r.Problems); !slices.Equal(got, []Reason{ReasonTimeout}) {
			t.Errorf("reasons %v, want timeout (%v)", got, r.Problems)
		}
	})
}

// startMTLS starts a stapling TLS server that demands a client
// certificate issued under clientCA, and counts the handshakes in which
// it accepted one.
func startMTLS(t *testing.T, leaf *testpki.Cert, staple []byte, clientCA *x509.CertPool) (string, *atomic.Int32) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: leaf.ChainDER(), PrivateKey: leaf.Key, OCSPStaple: staple}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA,
		Time:         frozen,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var accepted atomic.Int32
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				tc := conn.(*tls.Conn)
				if tc.Handshake() == nil {
					if len(tc.ConnectionState().VerifiedChains) > 0 {
						accepted.Add(1)
					}
					_, _ = io.Copy(io.Discard, conn)
				}
			}()
		}
	}()
	return ln.Addr().String(), &accepted
}

func TestClientCertificate(t *testing.T) {
	p := testPKI(t)
	client, err := p.otherInter.NewLeaf(testpki.LeafOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	addr, accepted := startMTLS(t, p.leaf, good(p.leaf), client.Root().Pool())
	// waitAccepted waits for the server's side of the handshake, which
	// may finish after the probe's.
	waitAccepted := func(t *testing.T, want int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for accepted.Load() != want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := accepted.Load(); got != want {
			t.Errorf("the server accepted %d client certificates, want %d", got, want)
		}
	}
	withCert := []tls.Certificate{{Certificate: client.ChainDER(), PrivateKey: client.Key}}
	t.Run("TLS 1.2 without a certificate", func(t *testing.T) {
		r := stapleOnce(t, StapleRequest{Endpoint: addr, ServerName: "localhost", Roots: p.root.Pool(), TLSMaxVersion: tls.VersionTLS12})
		if got := reasonsOf(r.Problems); r.HandshakeOK || !slices.Equal(got, []Reason{ReasonTLSHandshake}) {
			t.Errorf("handshake %v, reasons %v; want tls_handshake", r.HandshakeOK, r.Problems)
		}
	})
	// In TLS 1.3 the client's handshake is complete, staple received,
	// before the server judges the client's certificate; its refusal
	// comes later, on a connection the probe no longer reads. The staple
	// is what is monitored, so it is reported.
	t.Run("TLS 1.3 without a certificate", func(t *testing.T) {
		r := stapleOnce(t, StapleRequest{Endpoint: addr, ServerName: "localhost", Roots: p.root.Pool(), TLSMinVersion: tls.VersionTLS13})
		if !r.HandshakeOK || r.Staple == nil || !r.Staple.Valid {
			t.Errorf("handshake %v, problems %v, staple %+v", r.HandshakeOK, r.Problems, r.Staple)
		}
		waitAccepted(t, 0)
	})
	for _, v := range tlsVersions {
		t.Run(v.name+"/with a certificate", func(t *testing.T) {
			r := stapleOnce(t, StapleRequest{Endpoint: addr, ServerName: "localhost", Roots: p.root.Pool(), TLSMaxVersion: v.version, ClientCertificates: withCert})
			if !r.HandshakeOK || len(r.Problems) != 0 || r.Staple == nil || !r.Staple.Valid || r.Staple.CertStatus != CertGood || !r.ChainVerified {
				t.Errorf("handshake %v, problems %v, staple %+v, chain %v", r.HandshakeOK, r.Problems, r.Staple, r.ChainVerified)
			}
			if want := tls.VersionName(v.version); r.TLSVersion != want {
				t.Errorf("version %s, want %s", r.TLSVersion, want)
			}
			if v.version == tls.VersionTLS12 {
				waitAccepted(t, 1)
			} else {
				waitAccepted(t, 2)
			}
		})
	}
}

// TestSkipChainVerify: an untrusted chain is not judged, but the staple
// still gets the full verdict against the served issuer.
func TestSkipChainVerify(t *testing.T) {
	p := testPKI(t)
	revoked := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Revoked, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter}.MustDER()
	cases := []struct {
		name   string
		staple []byte
		opts   testpki.ServerOptions
		issuer *x509.Certificate
		want   []Reason
	}{
		{name: "good staple", staple: good(p.leaf)},
		{name: "revoked staple", staple: revoked, want: []Reason{ReasonStapleRevoked}},
		{name: "staple by a foreign signer", staple: testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: p.foreignSigner, Embed: true}.MustDER(), want: []Reason{ReasonStapleUnauthorizedSigner}},
		{name: "leaf only, issuer configured", staple: good(p.leaf), opts: testpki.ServerOptions{LeafOnly: true}, issuer: p.inter.Cert},
		{name: "leaf only, no issuer", staple: good(p.leaf), opts: testpki.ServerOptions{LeafOnly: true}, want: []Reason{ReasonIssuerMissing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLS(t, p.leaf, tc.staple, tc.opts)
			// Roots that do not hold the chain's root: without the skip
			// the chain fails to verify.
			r := stapleOnce(t, StapleRequest{Endpoint: srv.Addr, ServerName: "localhost", Roots: p.otherRoot.Pool(), SkipChainVerify: true, Issuer: tc.issuer})
			if !r.ChainSkipped || r.ChainVerified {
				t.Errorf("chain skipped %v verified %v, want skipped and not verified", r.ChainSkipped, r.ChainVerified)
			}
			if got := reasonsOf(r.Problems); !slices.Equal(got, tc.want) {
				t.Errorf("reasons %v, want %v (%v)", got, tc.want, r.Problems)
			}
			if tc.want == nil && (r.Staple == nil || !r.Staple.Valid || r.Issuer == nil || len(r.Path) < 2) {
				t.Errorf("staple %+v, issuer %v, path %d", r.Staple, r.Issuer, len(r.Path))
			}
		})
	}
}

// TestIPFamily resolves one name to 127.0.0.1 and ::1, where two servers
// share a port, and checks each family reaches only its own address.
func TestIPFamily(t *testing.T) {
	p := testPKI(t)
	v4 := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	_, port, _ := net.SplitHostPort(v4.Addr)
	v6, err := testpki.NewTLSServer(p.leaf, good(p.leaf), testpki.ServerOptions{Addr: net.JoinHostPort("::1", port)})
	if err != nil {
		t.Fatalf("listen on [::1]:%s: %v", port, err)
	}
	t.Cleanup(v6.Close)
	resolver := loopback.Resolver(map[string][]net.IP{
		"dual.test":   {net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		"v4only.test": {net.ParseIP("127.0.0.1")},
		"v6only.test": {net.ParseIP("::1")},
	})
	cases := []struct {
		name     string
		host     string
		family   IPFamily
		want     []string
		wantDNS  bool
		inDetail string
	}{
		{name: "any, both", host: "dual.test", family: IPAny, want: []string{"127.0.0.1:" + port, "[::1]:" + port}},
		{name: "ipv4 of both", host: "dual.test", family: IPv4, want: []string{"127.0.0.1:" + port}},
		{name: "ipv6 of both", host: "dual.test", family: IPv6, want: []string{"[::1]:" + port}},
		{name: "ipv6 of an IPv4-only name", host: "v4only.test", family: IPv6, wantDNS: true, inDetail: "no ipv6 address"},
		{name: "ipv4 of an IPv6-only name", host: "v6only.test", family: IPv4, wantDNS: true, inDetail: "no ipv4 address"},
		{name: "ipv4 of an IPv6 literal", host: "::1", family: IPv4, wantDNS: true, inDetail: "no ipv4 address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			results := Staple(ctx, StapleRequest{Endpoint: net.JoinHostPort(tc.host, port), ServerName: "localhost", Roots: p.root.Pool(),
				Family: tc.family, AllAddresses: true, Resolver: resolver, Now: frozen})
			if tc.wantDNS {
				if len(results) != 1 || !slices.Equal(reasonsOf(results[0].Problems), []Reason{ReasonDNS}) || !strings.Contains(results[0].Problems[0].Detail, tc.inDetail) {
					t.Fatalf("results %+v, want one dns problem saying %q", results[0].Problems, tc.inDetail)
				}
				return
			}
			var got []string
			for _, r := range results {
				if !r.HandshakeOK || len(r.Problems) != 0 {
					t.Errorf("%s: handshake %v, problems %v", r.Address, r.HandshakeOK, r.Problems)
				}
				got = append(got, r.Address)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("addresses %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTLSVersionsAndCipher(t *testing.T) {
	p := testPKI(t)
	tls12 := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{MaxVersion: tls.VersionTLS12})
	tls13 := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{MinVersion: tls.VersionTLS13})
	cipherNames := map[string]bool{}
	for _, c := range tls.CipherSuites() {
		cipherNames[c.Name] = true
	}
	cases := []struct {
		name     string
		addr     string
		min, max uint16
		version  string
		fails    bool
	}{
		{name: "TLS 1.2 server, default range", addr: tls12.Addr, version: "TLS 1.2"},
		{name: "TLS 1.2 server, min 1.3", addr: tls12.Addr, min: tls.VersionTLS13, fails: true},
		{name: "TLS 1.3 server, default range", addr: tls13.Addr, version: "TLS 1.3"},
		{name: "TLS 1.3 server, max 1.2", addr: tls13.Addr, max: tls.VersionTLS12, fails: true},
		{name: "TLS 1.3 server, min 1.3", addr: tls13.Addr, min: tls.VersionTLS13, version: "TLS 1.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := stapleOnce(t, StapleRequest{Endpoint: tc.addr, ServerName: "localhost", Roots: p.root.Pool(), TLSMinVersion: tc.min, TLSMaxVersion: tc.max})
			if tc.fails {
				if r.HandshakeOK || !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonTLSHandshake}) {
					t.Errorf("handshake %v, problems %v; want tls_handshake", r.HandshakeOK, r.Problems)
				}
				return
			}
			if !r.HandshakeOK || r.TLSVersion != tc.version || !cipherNames[r.TLSCipher] {
				t.Errorf("handshake %v, version %q cipher %q; want %s and a crypto/tls cipher name (%v)", r.HandshakeOK, r.TLSVersion, r.TLSCipher, tc.version, r.Problems)
			}
		})
	}
}

// connectProxy is an HTTP CONNECT proxy on loopback that records each
// CONNECT target and tunnels to the address routes maps it to.
type connectProxy struct {
	Addr   string
	routes map[string]string
	// status replaces "200 Connection established" when set.
	status string

	mu       sync.Mutex
	targets  []string
	authList []string
}

func startConnectProxy(t *testing.T, routes map[string]string, status string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cp := &connectProxy{Addr: ln.Addr().String(), routes: routes, status: status}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				cp.serve(conn)
			}()
		}
	}()
	return cp
}

func (cp *connectProxy) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	fields := strings.Fields(line)
	auth := ""
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(h) == "" {
			break
		}
		if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, "Proxy-Authorization") {
			auth = strings.TrimSpace(value)
		}
	}
	if len(fields) != 3 || fields[0] != "CONNECT" {
		_, _ = io.WriteString(conn, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	cp.mu.Lock()
	cp.targets = append(cp.targets, fields[1])
	cp.authList = append(cp.authList, auth)
	cp.mu.Unlock()
	if cp.status != "" {
		_, _ = io.WriteString(conn, "HTTP/1.1 "+cp.status+"\r\n\r\n")
		return
	}
	upstream, err := net.Dial("tcp", cp.routes[fields[1]])
	if err != nil {
		_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer upstream.Close()
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n")
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(upstream, br)
		close(done)
	}()
	_, _ = io.Copy(conn, upstream)
	conn.Close()
	<-done
}

func (cp *connectProxy) seen() (targets, auth []string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.Clone(cp.targets), slices.Clone(cp.authList)
}

func TestConnectProxy(t *testing.T) {
	p := testPKI(t)
	direct := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{})
	smtp := startSMTP(t, p.leaf, good(p.leaf), true, "")
	// Names only the proxy can resolve: the probe must not look them up.
	routes := map[string]string{"www.internal.test:443": direct.Addr, "mail.internal.test:25": smtp.Addr}
	proxy := startConnectProxy(t, routes, "")
	proxyURL, _ := url.Parse("http://probe:s3cret@" + proxy.Addr)
	t.Run("TLS through the proxy", func(t *testing.T) {
		r := stapleOnce(t, StapleRequest{Endpoint: "www.internal.test:443", ServerName: "localhost", Roots: p.root.Pool(), Proxy: proxyURL, Resolver: offlineResolver()})
		if !r.HandshakeOK || len(r.Problems) != 0 || r.Staple == nil || !r.Staple.Valid {
			t.Fatalf("handshake %v problems %v", r.HandshakeOK, r.Problems)
		}
		if r.Address != "www.internal.test:443" {
			t.Errorf("address %q, want the endpoint as the proxy was asked for it", r.Address)
		}
	})
	t.Run("STARTTLS through the proxy", func(t *testing.T) {
		r := stapleOnce(t, StapleRequest{Endpoint: "mail.internal.test:25", ServerName: "localhost", Roots: p.root.Pool(), Proxy: proxyURL, StartTLS: starttls.SMTP, Resolver: offlineResolver()})
		if !r.HandshakeOK || len(r.Problems) != 0 || r.Staple == nil || !r.Staple.Valid {
			t.Fatalf("handshake %v problems %v", r.HandshakeOK, r.Problems)
		}
	})
	targets, auth := proxy.seen()
	if !slices.Equal(targets, []string{"www.internal.test:443", "mail.internal.test:25"}) {
		t.Errorf("proxy saw CONNECT %v", targets)
	}
	for _, a := range auth {
		if a != "Basic cHJvYmU6czNjcmV0" { // base64("probe:s3cret")
			t.Errorf("Proxy-Authorization %q", a)
		}
	}
	t.Run("proxy refuses", func(t *testing.T) {
		refusing := startConnectProxy(t, routes, "403 Forbidden")
		u, _ := url.Parse("http://" + refusing.Addr)
		r := stapleOnce(t, StapleRequest{Endpoint: "www.internal.test:443", ServerName: "localhost", Proxy: u})
		if r.HandshakeOK || !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonConnect}) || !strings.Contains(r.Problems[0].Detail, "403 Forbidden") {
			t.Errorf("problems %v, want connect naming the 403", r.Problems)
		}
	})
	t.Run("literal address denied before the proxy is asked", func(t *testing.T) {
		policy := NewDialPolicy(nil, nil)
		r := stapleOnce(t, StapleRequest{Endpoint: "169.254.169.254:443", Proxy: proxyURL, Dial: policy})
		if !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonAddressDenied}) {
			t.Errorf("problems %v, want address_denied", r.Problems)
		}
		if targets, _ := proxy.seen(); len(targets) != 2 {
			t.Errorf("the proxy was asked for %v", targets)
		}
	})
}

// forwardProxy is an HTTP forward proxy on loopback that records the
// request line's URL and the Host header of each request it forwards,
// and sends every request to upstream.
type forwardProxy struct {
	*httptest.Server
	mu    sync.Mutex
	urls  []string
	hosts []string
}

func startForwardProxy(t *testing.T, upstream string) *forwardProxy {
	t.Helper()
	fp := &forwardProxy{}
	fp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fp.mu.Lock()
		fp.urls = append(fp.urls, r.RequestURI)
		fp.hosts = append(fp.hosts, r.Host)
		fp.mu.Unlock()
		out, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
	}))
	t.Cleanup(fp.Close)
	return fp
}

func (fp *forwardProxy) seen() (urls, hosts []string) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return slices.Clone(fp.urls), slices.Clone(fp.hosts)
}

// TestResponderProxyAndHostHeader sends responder queries straight and
// through a configured proxy (which, not the agent, resolves the
// responder's name), with and without a Host override.
func TestResponderProxyAndHostHeader(t *testing.T) {
	p := testPKI(t)
	responder := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer responder.Close()
	proxy := startForwardProxy(t, responder.URL)
	proxyURL, _ := url.Parse(proxy.URL)
	proxied := NewHTTPClient(ClientOptions{Resolver: offlineResolver(), Proxy: proxyURL})
	// Straight to the responder: the connection goes to the URL's
	// address, the Host header names the override.
	t.Run("direct", func(t *testing.T) {
		recorder := startForwardProxy(t, responder.URL)
		for _, tc := range []struct{ host, want string }{
			{host: "", want: strings.TrimPrefix(recorder.URL, "http://")},
			{host: "ocsp.lb.test", want: "ocsp.lb.test"},
		} {
			res := Responder(context.Background(), NewHTTPClient(ClientOptions{}), ResponderRequest{URL: recorder.URL + "/ocsp", Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
				HostHeader: tc.host, Now: frozen})
			if !res.Up || len(res.Problems) != 0 {
				t.Fatalf("up %v problems %v", res.Up, res.Problems)
			}
			urls, hosts := recorder.seen()
			if last := hosts[len(hosts)-1]; last != tc.want || strings.HasPrefix(urls[len(urls)-1], "http://") {
				t.Errorf("Host %q request-target %q, want Host %q and an origin-form target", last, urls[len(urls)-1], tc.want)
			}
		}
	})
	// Through a forward proxy the request-target is an absolute URL, and
	// the proxy goes by it (RFC 9112 §3.2.2), so it names the override.
	cases := []struct {
		name     string
		host     string
		method   Method
		wantURL  string
		wantHost string
	}{
		{name: "GET, Host from the URL", method: MethodGET, wantURL: "http://ocsp.internal.test/ocsp/", wantHost: "ocsp.internal.test"},
		{name: "GET, Host overridden", method: MethodGET, host: "ocsp.lb.test", wantURL: "http://ocsp.lb.test/ocsp/", wantHost: "ocsp.lb.test"},
		{name: "POST, Host overridden", method: MethodPOST, host: "ocsp.lb.test:8080", wantURL: "http://ocsp.lb.test:8080/ocsp", wantHost: "ocsp.lb.test:8080"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Responder(context.Background(), proxied, ResponderRequest{URL: "http://ocsp.internal.test/ocsp", Leaf: p.leaf.Cert, Issuer: p.inter.Cert,
				Method: tc.method, HostHeader: tc.host, Now: frozen})
			if !res.Up || len(res.Problems) != 0 {
				t.Fatalf("up %v problems %v", res.Up, res.Problems)
			}
			urls, hosts := proxy.seen()
			if len(urls) != i+1 || !strings.HasPrefix(urls[i], tc.wantURL) {
				t.Fatalf("the proxy saw %v, want %s…", urls, tc.wantURL)
			}
			if hosts[i] != tc.wantHost {
				t.Errorf("Host %q, want %q", hosts[i], tc.wantHost)
			}
		})
	}
	t.Run("a target's proxy over the client's setting", func(t *testing.T) {
		res := Responder(context.Background(), NewHTTPClient(ClientOptions{Resolver: offlineResolver()}), ResponderRequest{URL: "http://ocsp.target.test/ocsp",
			Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Proxy: proxyURL, Now: frozen})
		if !res.Up || len(res.Problems) != 0 {
			t.Fatalf("up %v problems %v", res.Up, res.Problems)
		}
		urls, _ := proxy.seen()
		if !strings.HasPrefix(urls[len(urls)-1], "http://ocsp.target.test/ocsp/") {
			t.Errorf("the proxy saw %v", urls)
		}
	})
	t.Run("the pool keeps answers for different Host headers apart", func(t *testing.T) {
		pool := NewResponderPool(context.Background(), proxied, 0, time.Hour, frozen)
		for _, host := range []string{"a.lb.test", "b.lb.test", "a.lb.test"} {
			pool.Query(context.Background(), ResponderRequest{URL: "http://ocsp.internal.test/pool", Leaf: p.leaf.Cert, Issuer: p.inter.Cert, HostHeader: host})
		}
		_, hosts := proxy.seen()
		if got := hosts[len(cases)+1:]; !slices.Equal(got, []string{"a.lb.test", "b.lb.test"}) {
			t.Errorf("queries reached the proxy with Host %v, want a.lb.test then b.lb.test once each", got)
		}
	})
}

// By default a probe offers what crypto/tls offers, led by the
// X25519MLKEM768 hybrid as browsers do, so a server that accepts only it
// completes the handshake; Groups narrows the offer, and a server that
// cannot agree on any offered group fails it.
func TestKeyExchangeGroups(t *testing.T) {
	p := testPKI(t)
	hybridOnly := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{MinVersion: tls.VersionTLS13, Groups: []tls.CurveID{tls.X25519MLKEM768}})
	p256Only := startTLS(t, p.leaf, good(p.leaf), testpki.ServerOptions{Groups: []tls.CurveID{tls.CurveP256}})
	for _, tc := range []struct {
		name   string
		addr   string
		groups []tls.CurveID
		fails  bool
	}{
		{name: "default offer, hybrid-only server", addr: hybridOnly.Addr},
		{name: "classical offer, hybrid-only server", addr: hybridOnly.Addr, groups: []tls.CurveID{tls.X25519, tls.CurveP256}, fails: true},
		{name: "default offer, P-256-only server", addr: p256Only.Addr},
		{name: "X25519 only, P-256-only server", addr: p256Only.Addr, groups: []tls.CurveID{tls.X25519}, fails: true},
		{name: "P-256 offered, P-256-only server", addr: p256Only.Addr, groups: []tls.CurveID{tls.X25519, tls.CurveP256}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stapleOnce(t, StapleRequest{Endpoint: tc.addr, ServerName: "localhost", Roots: p.root.Pool(), Groups: tc.groups})
			if tc.fails {
				if r.HandshakeOK || !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonTLSHandshake}) {
					t.Errorf("handshake %v, problems %v; want tls_handshake", r.HandshakeOK, r.Problems)
				}
				return
			}
			if !r.HandshakeOK || r.Staple == nil || !r.Staple.Valid {
				t.Errorf("handshake %v, staple %+v, problems %v; want a valid staple", r.HandshakeOK, r.Staple, r.Problems)
			}
		})
	}
}

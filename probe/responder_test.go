package probe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func testClient() *http.Client {
	return NewHTTPClient(ClientOptions{Resolver: offlineResolver()})
}

// answerFor returns a responder answer about leaf with the given status,
// echoing the request's nonce.
func answerFor(leaf *testpki.Cert, status int) func(testpki.Query) []byte {
	return func(q testpki.Query) []byte {
		return testpki.Response{
			Entries:    []testpki.Entry{testpki.EntryFor(leaf, status, now.Add(-time.Hour), now.Add(7*time.Hour))},
			ProducedAt: now.Add(-time.Hour), Signer: leaf.Parent, Nonce: q.Nonce,
		}.MustDER()
	}
}

func TestNewRequestParses(t *testing.T) {
	p := testPKI(t)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		req, err := NewRequest(p.leaf.Cert, p.inter.Cert, h, true)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ocspParseRequest(req.DER)
		if err != nil {
			t.Fatalf("%v: x/crypto/ocsp rejects our request: %v", h, err)
		}
		if parsed.SerialNumber.Cmp(p.leaf.Cert.SerialNumber) != 0 || parsed.HashAlgorithm != h {
			t.Errorf("%v: parsed serial %x hash %v", h, parsed.SerialNumber, parsed.HashAlgorithm)
		}
		if got := testpki.RequestNonce(req.DER); !bytes.Equal(got, req.Nonce) || len(req.Nonce) != NonceSize {
			t.Errorf("%v: nonce %x, sent %x", h, got, req.Nonce)
		}
	}
	plain, err := NewRequest(p.leaf.Cert, p.inter.Cert, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Nonce != nil || testpki.RequestNonce(plain.DER) != nil {
		t.Error("a request without nonce carries one")
	}
}

func TestResponderVerdicts(t *testing.T) {
	p := testPKI(t)
	expired := func(q testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-48*time.Hour), now.Add(-time.Hour))}, ProducedAt: now.Add(-48 * time.Hour), Signer: p.inter}.MustDER()
	}
	signed := func(signer *testpki.Cert, key crypto.Signer) func(testpki.Query) []byte {
		return func(q testpki.Query) []byte {
			return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now, now.Add(time.Hour))}, ProducedAt: now, Signer: signer, Embed: signer != p.inter, SignWith: key}.MustDER()
		}
	}
	fixed := func(der []byte) func(testpki.Query) []byte { return func(testpki.Query) []byte { return der } }
	cases := []struct {
		name         string
		answer       func(testpki.Query) []byte
		method       Method
		nonce        bool
		requireNonce bool
		want         []Reason
		wantMethod   string
		wantNonce    NonceState
		wantStatus   ResponseStatus
		wantUp       bool
	}{
		{name: "good by GET", answer: answerFor(p.leaf, testpki.Good), wantMethod: "GET", wantNonce: NonceNotSent, wantStatus: StatusSuccessful, wantUp: true},
		{name: "good by forced POST", answer: answerFor(p.leaf, testpki.Good), method: MethodPOST, wantMethod: "POST", wantNonce: NonceNotSent, wantStatus: StatusSuccessful, wantUp: true},
		{name: "nonce echoed", answer: answerFor(p.leaf, testpki.Good), nonce: true, requireNonce: true, wantNonce: NonceEchoed, wantStatus: StatusSuccessful, wantUp: true},
		{name: "nonce ignored, not required", answer: expiredFree(p, nil), nonce: true, wantNonce: NonceMissing, wantStatus: StatusSuccessful, wantUp: true},
		{name: "nonce ignored, required", answer: expiredFree(p, nil), nonce: true, requireNonce: true, want: []Reason{ReasonNonceMissing}, wantNonce: NonceMissing, wantStatus: StatusSuccessful, wantUp: true},
		{name: "wrong nonce", answer: expiredFree(p, bytes.Repeat([]byte{7}, 32)), nonce: true, want: []Reason{ReasonNonceMismatch}, wantNonce: NonceMismatch, wantStatus: StatusSuccessful, wantUp: true},
		{name: "tryLater", answer: fixed(testpki.StatusOnly(3)), want: []Reason{ReasonResponseStatus}, wantStatus: StatusTryLater, wantNonce: NonceNotSent},
		{name: "unauthorized", answer: fixed(testpki.StatusOnly(6)), want: []Reason{ReasonResponseStatus}, wantStatus: StatusUnauthorized, wantNonce: NonceNotSent},
		{name: "truncated DER", answer: func(q testpki.Query) []byte { d := answerFor(p.leaf, testpki.Good)(q); return d[:len(d)/2] }, want: []Reason{ReasonResponseMalformed}, wantNonce: NonceNotSent},
		{name: "response for another certificate", answer: answerFor(p.mustLeaf, testpki.Good), want: []Reason{ReasonResponseWrongCert}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
		{name: "expired response", answer: expired, want: []Reason{ReasonResponseExpired}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
		{name: "signed by an unauthorised key", answer: signed(p.inter, p.otherInter.Key), want: []Reason{ReasonResponseBadSignature}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
		{name: "delegated signer without EKU", answer: signed(p.delegatedNoEKU, nil), want: []Reason{ReasonResponseUnauthorizedSigner}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
		{name: "revoked", answer: answerFor(p.leaf, testpki.Revoked), want: []Reason{ReasonResponseRevoked}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
		{name: "unknown", answer: answerFor(p.leaf, testpki.Unknown), want: []Reason{ReasonResponseUnknown}, wantStatus: StatusSuccessful, wantNonce: NonceNotSent, wantUp: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := testpki.NewResponder(tc.answer)
			defer resp.Close()
			res := Responder(context.Background(), testClient(), ResponderRequest{
				URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Method: tc.method,
				Nonce: tc.nonce, RequireNonce: tc.requireNonce, Now: frozen, Policy: VerifyPolicy{Skew: DefaultSkew}, UserAgent: "ocspwatch/test",
			})
			if got := reasonsOf(res.Problems); !slices.Equal(got, tc.want) {
				t.Errorf("reasons = %v, want %v (%v)", got, tc.want, res.Problems)
			}
			if tc.wantMethod != "" && res.Method != tc.wantMethod {
				t.Errorf("method = %s, want %s", res.Method, tc.wantMethod)
			}
			if res.Nonce != tc.wantNonce || res.ResponseStatus != tc.wantStatus || res.Up != tc.wantUp {
				t.Errorf("nonce %s status %q up %v, want %s %q %v", res.Nonce, res.ResponseStatus, res.Up, tc.wantNonce, tc.wantStatus, tc.wantUp)
			}
			if res.HTTPStatus != 200 || !res.ContentTypeOK {
				t.Errorf("HTTP %d content type %q", res.HTTPStatus, res.ContentType)
			}
			if qs := resp.Queries(); len(qs) != 1 || qs[0].Serial == nil || qs[0].Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 {
				t.Errorf("responder saw %d queries: %+v", len(qs), qs)
			}
		})
	}
}

// expiredFree answers good with a fixed nonce (nil: none), whatever was sent.
func expiredFree(p *pki, nonce []byte) func(testpki.Query) []byte {
	return func(q testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(p.leaf, testpki.Good, now.Add(-time.Hour), now.Add(time.Hour))}, ProducedAt: now, Signer: p.inter, Nonce: nonce}.MustDER()
	}
}

func TestResponderHostileHTTP(t *testing.T) {
	p := testPKI(t)
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	}))
	defer loop.Close()
	handler := func(status int, ctype string, body []byte) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
	}
	html := handler(200, "text/html", []byte("<html>maintenance</html>"))
	defer html.Close()
	fiveHundred := handler(500, "text/plain", []byte("oops"))
	defer fiveHundred.Close()
	huge := handler(200, "application/ocsp-response", bytes.Repeat([]byte{0x30}, 10<<20))
	defer huge.Close()
	untrustedTLS := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrustedTLS.Close()

	cases := []struct {
		name string
		url  string
		want Reason
		http int
	}{
		{"HTTP 500", fiveHundred.URL, ReasonResponderHTTPStatus, 500},
		{"HTML with 200", html.URL, ReasonResponderContentType, 200},
		{"10 MiB body", huge.URL, ReasonResponderBodyTooLarge, 200},
		{"accepts and never answers", "http://" + loopback.Silent(t), ReasonResponderTimeout, 0},
		{"redirect loop", loop.URL, ReasonResponderRedirects, 0},
		{"connection refused", "http://" + loopback.ClosedAddr(t), ReasonResponderConnect, 0},
		{"name does not resolve", "http://nowhere.invalid/", ReasonResponderDNS, 0},
		{"untrusted https", untrustedTLS.URL, ReasonResponderTLS, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Long enough for a TLS handshake on a loaded machine, short
			// enough that the silent server's timeout does not drag.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			res := Responder(ctx, testClient(), ResponderRequest{URL: tc.url, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen})
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("query took %s, past its 2s deadline", elapsed)
			}
			if got := reasonsOf(res.Problems); len(got) != 1 || got[0] != tc.want {
				t.Errorf("reasons = %v, want [%s]", res.Problems, tc.want)
			}
			if res.HTTPStatus != tc.http || res.Up {
				t.Errorf("HTTP status %d up %v, want %d and down", res.HTTPStatus, res.Up, tc.http)
			}
		})
	}
}

func TestResponderTimingsHeadersAndMethod(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(30 * time.Millisecond)
	resp.Header.Set("Cache-Control", "public, max-age=86400, no-transform")
	resp.Header.Set("ETag", `"abc"`)
	resp.Header.Set("Last-Modified", now.Add(-time.Hour).Format(http.TimeFormat))
	resp.Header.Set("Expires", now.Add(24*time.Hour).Format(http.TimeFormat))
	var userAgent atomic.Value
	wrapped := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userAgent.Store(r.Header.Get("User-Agent"))
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "//") {
			http.Error(w, "double slash", http.StatusBadRequest)
			return
		}
		resp.Config.Handler.ServeHTTP(w, r)
	}))
	defer wrapped.Close()

	res := Responder(context.Background(), testClient(), ResponderRequest{URL: wrapped.URL + "/ocsp/", Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen, UserAgent: "ocspwatch/1.2.3"})
	if len(res.Problems) != 0 || res.Method != "GET" {
		t.Fatalf("problems %v method %s", res.Problems, res.Method)
	}
	if ua, _ := userAgent.Load().(string); ua != "ocspwatch/1.2.3" {
		t.Errorf("User-Agent = %q", ua)
	}
	tm := res.Timings
	if tm.Connect <= 0 || tm.Processing < 30*time.Millisecond || tm.Total < tm.Processing || tm.TLS != 0 || tm.Resolve != 0 {
		t.Errorf("timings = %+v", tm)
	}
	c := res.Cache
	if c.MaxAge == nil || *c.MaxAge != 24*time.Hour || c.ETag != `"abc"` || c.LastModified == nil || c.Expires == nil {
		t.Fatalf("cache info = %+v", c)
	}
	if !c.MaxAgePastNextUpdate {
		t.Error("a max-age of 24h past a NextUpdate 7h away was not flagged")
	}

	// A nonce plus SHA-256 hashes make the request too long for GET.
	long := Responder(context.Background(), testClient(), ResponderRequest{URL: wrapped.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen, Hash: crypto.SHA512, Nonce: true})
	if long.Method != "POST" || len(long.Problems) != 0 {
		t.Errorf("long request: method %s problems %v", long.Method, long.Problems)
	}
}

func TestHTTPRequestMethodChoice(t *testing.T) {
	small := bytes.Repeat([]byte{1}, 100)
	big := bytes.Repeat([]byte{0xfb}, 180) // base64 of 0xfb is full of '+' and '/', which escape to 3 bytes
	for _, tc := range []struct {
		base   string
		der    []byte
		method Method
		want   string
	}{
		{"http://r.test", small, MethodAuto, "GET"},
		{"http://r.test/", small, MethodAuto, "GET"},
		{"http://r.test", big, MethodAuto, "POST"},
		{"http://r.test", big, MethodGET, "GET"},
		{"http://r.test", small, MethodPOST, "POST"},
	} {
		req, err := newHTTPRequest(context.Background(), tc.base, tc.der, tc.method)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != tc.want {
			t.Errorf("%s %d bytes %s: method %s, want %s", tc.base, len(tc.der), tc.method, req.Method, tc.want)
		}
		if req.Method == "GET" && strings.Contains(strings.TrimPrefix(req.URL.String(), "http://"), "//") {
			t.Errorf("GET URL %s has //", req.URL)
		}
		if req.Method == "POST" && req.Header.Get("Content-Type") != "application/ocsp-request" {
			t.Errorf("POST content type %q", req.Header.Get("Content-Type"))
		}
	}
	if _, err := newHTTPRequest(context.Background(), "ldap://r.test", small, MethodAuto); err == nil {
		t.Error("a non-http URL was accepted")
	}
}

func TestGETURLJoining(t *testing.T) {
	der := []byte{0xfb, 0xff, 0xfe} // base64 "+//+", every character escaped
	cases := []struct {
		base string
		want string
	}{
		{base: "http://r.test", want: "http://r.test/%2B%2F%2F%2B"},
		{base: "http://r.test/", want: "http://r.test/%2B%2F%2F%2B"},
		{base: "http://r.test/ocsp/", want: "http://r.test/ocsp/%2B%2F%2F%2B"},
		{base: "http://r.test/ocsp?key=a%2Fb", want: "http://r.test/ocsp/%2B%2F%2F%2B?key=a%2Fb"},
		{base: "http://r.test/o%20cs#frag", want: "http://r.test/o%20cs/%2B%2F%2F%2B"},
	}
	for _, c := range cases {
		req, err := newHTTPRequest(context.Background(), c.base, der, MethodGET)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.URL.String(); got != c.want {
			t.Errorf("GET for %q: %s, want %s", c.base, got, c.want)
		}
	}
}

// TestGETThresholdCountsTheWholeURL: RFC 5019 §5 counts scheme, host and
// path too, so a long responder URL tips a request over to POST.
func TestGETThresholdCountsTheWholeURL(t *testing.T) {
	der := bytes.Repeat([]byte{0}, 150) // 200 base64 bytes, none escaped
	for _, tc := range []struct {
		pathLen int
		want    string
	}{
		{pathLen: 255 - len("http://r.test/") - 200 - 1, want: "GET"},
		{pathLen: 255 - len("http://r.test/") - 200, want: "POST"},
	} {
		base := "http://r.test/" + strings.Repeat("p", tc.pathLen)
		req, err := newHTTPRequest(context.Background(), base, der, MethodAuto)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != tc.want {
			t.Errorf("base of %d bytes: %s (GET URL would be %d bytes), want %s", len(base), req.Method, len(getURL(req.URL, der)), tc.want)
		}
	}
}

// FuzzHTTPRequest builds requests for arbitrary responder URLs and
// request bytes: never a panic, a GET only when it fits or is asked for,
// and the request always recoverable from a GET URL.
func FuzzHTTPRequest(f *testing.F) {
	f.Add("http://r.test/ocsp", []byte{1, 2, 3}, uint8(0))
	f.Add("https://r.test:8443/a/b/?q=1#f", bytes.Repeat([]byte{0xfb}, 200), uint8(1))
	f.Add("http://[::1]/", []byte{}, uint8(2))
	f.Fuzz(func(t *testing.T, base string, der []byte, m uint8) {
		method := []Method{MethodAuto, MethodGET, MethodPOST}[int(m)%3]
		req, err := newHTTPRequest(context.Background(), base, der, method)
		if err != nil {
			return
		}
		switch {
		case req.Method == http.MethodGet && method == MethodPOST:
			t.Fatalf("GET although POST was asked for: %s", req.URL)
		case req.Method == http.MethodGet && method == MethodAuto && len(req.URL.String()) > maxGETLength:
			t.Fatalf("automatic GET of %d bytes", len(req.URL.String()))
		case req.Method == http.MethodGet:
			last := req.URL.EscapedPath()[strings.LastIndex(req.URL.EscapedPath(), "/")+1:]
			b64, err := url.QueryUnescape(last)
			if err != nil {
				t.Fatalf("GET URL %s: %v", req.URL, err)
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || !bytes.Equal(got, der) {
				t.Fatalf("GET URL %s does not carry the request", req.URL)
			}
		}
	})
}

func TestResponderPoolPoliteness(t *testing.T) {
	p := testPKI(t)
	clock := testpki.NewClock(now)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	resp.SetDelay(50 * time.Millisecond)
	pool := NewResponderPool(context.Background(), testClient(), 2, time.Minute, clock.Now)
	req := ResponderRequest{URL: resp.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Policy: VerifyPolicy{Skew: DefaultSkew}}

	var wg sync.WaitGroup
	results := make([]*ResponderResult, 8)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = pool.Query(context.Background(), req) }()
	}
	wg.Wait()
	if n := len(resp.Queries()); n != 1 {
		t.Fatalf("8 concurrent identical queries sent %d requests, want 1", n)
	}
	for _, r := range results {
		if !r.Up || len(r.Problems) != 0 {
			t.Fatalf("shared result: up %v problems %v", r.Up, r.Problems)
		}
	}
	clock.Advance(59 * time.Second)
	if r := pool.Query(context.Background(), req); !r.Cached || len(resp.Queries()) != 1 {
		t.Errorf("query within the interval: cached %v, requests %d", r.Cached, len(resp.Queries()))
	}
	clock.Advance(time.Second)
	if r := pool.Query(context.Background(), req); r.Cached || len(resp.Queries()) != 2 {
		t.Errorf("query after the interval: cached %v, requests %d", r.Cached, len(resp.Queries()))
	}
	// The cached copy's time window is judged when it is served.
	clock.Advance(7*time.Hour - DefaultSkew)
	pool.SetLimits(2, 24*time.Hour)
	if r := pool.Query(context.Background(), req); !r.Cached || !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonResponseExpired}) {
		t.Errorf("cached answer past NextUpdate: cached %v problems %v", r.Cached, r.Problems)
	}
}

func TestResponderPoolPerHostCap(t *testing.T) {
	p := testPKI(t)
	var inFlight, peak atomic.Int32
	answer := answerFor(p.leaf, testpki.Good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(40 * time.Millisecond)
		w.Header().Set("Content-Type", "application/ocsp-response")
		_, _ = w.Write(answer(testpki.Query{}))
	}))
	defer srv.Close()
	pool := NewResponderPool(context.Background(), testClient(), 2, 0, frozen)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Distinct paths defeat deduplication, one host shares the cap.
			pool.Query(context.Background(), ResponderRequest{URL: srv.URL + "/" + string(rune('a'+i)), Leaf: p.leaf.Cert, Issuer: p.inter.Cert})
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Errorf("peak concurrent requests to one host = %d, want 2", got)
	}
}

func TestResponderOverHTTPS(t *testing.T) {
	p := testPKI(t)
	plain := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer plain.Close()
	srv := httptest.NewTLSServer(plain.Config.Handler)
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	client := NewHTTPClient(ClientOptions{Resolver: offlineResolver(), RootCAs: roots})
	res := Responder(context.Background(), client, ResponderRequest{URL: srv.URL, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen})
	if !res.Up || len(res.Problems) != 0 {
		t.Fatalf("https responder: up %v problems %v", res.Up, res.Problems)
	}
	if res.Timings.TLS <= 0 || res.Timings.Connect <= 0 {
		t.Errorf("no tls or connect phase for an https responder: %+v", res.Timings)
	}
}

// The client dials the first address a name resolves to and nothing else:
// a broken first address is reported, not hidden by trying the next.
func TestResponderDialsOnlyTheFirstAddress(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	_, port, _ := net.SplitHostPort(resp.Listener.Addr().String())
	for _, tc := range []struct {
		name  string
		ips   []net.IP
		up    bool
		first string
	}{
		{"first address answers", []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 3)}, true, ""},
		{"first address is dead", []net.IP{net.IPv4(127, 0, 0, 3), net.IPv4(127, 0, 0, 1)}, false, "127.0.0.3:" + port},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := NewHTTPClient(ClientOptions{Resolver: loopback.Resolver(map[string][]net.IP{"ocsp.test": tc.ips})})
			res := Responder(context.Background(), client, ResponderRequest{URL: "http://ocsp.test:" + port, Leaf: p.leaf.Cert, Issuer: p.inter.Cert, Now: frozen})
			if res.Up != tc.up || res.Timings.Resolve <= 0 {
				t.Fatalf("up %v (want %v), resolve %s, problems %v", res.Up, tc.up, res.Timings.Resolve, res.Problems)
			}
			if !tc.up && (len(res.Problems) != 1 || res.Problems[0].Reason != ReasonResponderConnect || !strings.Contains(res.Problems[0].Detail, tc.first)) {
				t.Errorf("problems %v, want responder_connect naming %s", res.Problems, tc.first)
			}
		})
	}
}

// A reload changes the pool's limits while queries run; the race detector
// checks that every read of them is guarded.
func TestResponderPoolSetLimitsDuringQueries(t *testing.T) {
	p := testPKI(t)
	resp := testpki.NewResponder(answerFor(p.leaf, testpki.Good))
	defer resp.Close()
	pool := NewResponderPool(context.Background(), testClient(), 1, time.Minute, frozen)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				pool.SetLimits(1+i%3, time.Duration(i)*time.Second)
				return
			}
			if r := pool.Query(context.Background(), ResponderRequest{URL: resp.URL + "/" + strconv.Itoa(i), Leaf: p.leaf.Cert, Issuer: p.inter.Cert}); !r.Up {
				t.Errorf("query %d: %v", i, r.Problems)
			}
		}()
	}
	wg.Wait()
}

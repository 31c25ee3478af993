package testpki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Query is one OCSP request as the test responder saw it.
type Query struct {
	Method string
	Serial *big.Int
	// Nonce is the RFC 8954 nonce extension's value, nil when absent.
	Nonce []byte
	Raw   []byte
}

// Responder is an OCSP responder on loopback. Answer decides every reply;
// a nil answer yields malformedRequest.
type Responder struct {
	*httptest.Server
	Answer func(Query) []byte
	// Header is added to every successful reply.
	Header http.Header
	// Delay is waited before answering, to play a slow responder.
	Delay time.Duration

	mu      sync.Mutex
	queries []Query
}

// NewResponder starts a responder on 127.0.0.1.
func NewResponder(answer func(Query) []byte) *Responder {
	r := &Responder{Answer: answer, Header: http.Header{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// Queries returns the requests seen so far.
func (r *Responder) Queries() []Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Query(nil), r.queries...)
}

func (r *Responder) serve(w http.ResponseWriter, req *http.Request) {
	raw, err := readRequest(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := Query{Method: req.Method, Raw: raw}
	if parsed, err := ocsp.ParseRequest(raw); err == nil {
		q.Serial = parsed.SerialNumber
	}
	q.Nonce = RequestNonce(raw)
	r.mu.Lock()
	r.queries = append(r.queries, q)
	answer, header, delay := r.Answer, r.Header.Clone(), r.Delay
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	der := answer(q)
	if der == nil {
		der = StatusOnly(ocsp.Malformed)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(der)
}

// SetAnswer changes the answer function safely while the server runs.
func (r *Responder) SetAnswer(answer func(Query) []byte) {
	r.mu.Lock()
	r.Answer = answer
	r.mu.Unlock()
}

// SetDelay changes the delay safely while the server runs.
func (r *Responder) SetDelay(d time.Duration) {
	r.mu.Lock()
	r.Delay = d
	r.mu.Unlock()
}

func readRequest(req *http.Request) ([]byte, error) {
	switch req.Method {
	case http.MethodPost:
		return io.ReadAll(io.LimitReader(req.Body, 1<<16))
	case http.MethodGet:
		enc := strings.TrimPrefix(req.URL.EscapedPath(), "/")
		if i := strings.LastIndex(enc, "/"); i >= 0 {
			enc = enc[i+1:]
		}
		unescaped, err := url.PathUnescape(enc)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(unescaped)
	}
	return nil, errors.New("method not allowed")
}

// RequestNonce digs the nonce out of a request, which x/crypto/ocsp does
// not expose.
func RequestNonce(raw []byte) []byte {
	var outer struct {
		TBS asn1.RawValue
	}
	if _, err := asn1.Unmarshal(raw, &outer); err != nil {
		return nil
	}
	var tbs struct {
		Version    int           `asn1:"optional,explicit,tag:0,default:0"`
		Requestor  asn1.RawValue `asn1:"optional,explicit,tag:1"`
		List       []asn1.RawValue
		Extensions []pkix.Extension `asn1:"optional,explicit,tag:2"`
	}
	if _, err := asn1.Unmarshal(outer.TBS.FullBytes, &tbs); err != nil {
		return nil
	}
	for _, ext := range tbs.Extensions {
		if ext.Id.Equal(oidOCSPNonce) {
			var nonce []byte
			if _, err := asn1.Unmarshal(ext.Value, &nonce); err == nil {
				return nonce
			}
			return ext.Value
		}
	}
	return nil
}

// ServerOptions shape a stapling TLS server.
type ServerOptions struct {
	MinVersion, MaxVersion uint16
	// LeafOnly sends the leaf without its intermediates.
	LeafOnly bool
	// Addr to listen on; 127.0.0.1:0 when empty.
	Addr string
	// RequireALPN refuses a handshake whose ClientHello does not offer
	// this protocol, as grpc-go does for "h2".
	RequireALPN string
	// Groups limits the key exchanges the server accepts, as a server
	// built without ML-KEM (OpenSSL 3.0) does.
	Groups []tls.CurveID
}

// TLSServer is a TLS server on 127.0.0.1 that completes handshakes and
// staples whatever it currently holds.
type TLSServer struct {
	Addr   string
	ln     net.Listener
	staple atomic.Pointer[[]byte]
	wg     sync.WaitGroup
}

// NewTLSServer starts a server presenting leaf and stapling staple, which
// may be nil for no staple.
func NewTLSServer(leaf *Cert, staple []byte, opts ServerOptions) (*TLSServer, error) {
	chain := leaf.ChainDER()
	if opts.LeafOnly {
		chain = chain[:1]
	}
	s := &TLSServer{}
	s.SetStaple(staple)
	cfg := &tls.Config{
		MinVersion:       opts.MinVersion,
		MaxVersion:       opts.MaxVersion,
		CurvePreferences: opts.Groups,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: chain, PrivateKey: leaf.Key, OCSPStaple: *s.staple.Load()}, nil
		},
	}
	if opts.RequireALPN != "" {
		cfg.NextProtos = []string{opts.RequireALPN}
		base := cfg.Clone()
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if !slices.Contains(hello.SupportedProtos, opts.RequireALPN) {
				return nil, fmt.Errorf("testpki: the client did not offer ALPN %q", opts.RequireALPN)
			}
			return base, nil
		}
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	s.ln, s.Addr = tls.NewListener(ln, cfg), ln.Addr().String()
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// SetStaple replaces the staple served from the next handshake on.
func (s *TLSServer) SetStaple(der []byte) {
	der = bytes.Clone(der)
	s.staple.Store(&der)
}

func (s *TLSServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if tc, ok := conn.(*tls.Conn); ok {
				_ = tc.Handshake()
				// Hold the connection until the client hangs up, like a
				// real server waiting for a request.
				_, _ = io.Copy(io.Discard, tc)
			}
		}()
	}
}

// Close stops the server and waits for its connections to end.
func (s *TLSServer) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

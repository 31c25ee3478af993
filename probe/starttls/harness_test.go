package starttls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// pki is a CA chain, a leaf for localhost and 127.0.0.1 valid around now,
// and a good OCSP response for it: what a stapling server presents.
type pki struct {
	root, inter, leaf *testpki.Cert
	staple            []byte
	now               time.Time
}

func newPKI(t testing.TB, now time.Time) *pki {
	t.Helper()
	root, err := testpki.NewRoot("STARTTLS Test Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("STARTTLS Test Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.NewLeaf(testpki.LeafOptions{
		NotBefore: now.Add(-24 * time.Hour),
		NotAfter:  now.Add(30 * 24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	staple, err := testpki.Response{
		Entries:    []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(24*time.Hour))},
		ProducedAt: now.Add(-time.Hour),
		Signer:     inter,
	}.DER()
	if err != nil {
		t.Fatal(err)
	}
	return &pki{root: root, inter: inter, leaf: leaf, staple: staple, now: now}
}

// serverConfig serves the leaf with its intermediate and the staple.
func (p *pki) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{{
			Certificate: p.leaf.ChainDER(),
			PrivateKey:  p.leaf.Key,
			OCSPStaple:  p.staple,
		}},
	}
}

// handshake completes a verified TLS handshake on conn, as the probe does
// after Negotiate, checks that the server presented the test leaf and
// returns the connection's state, staple included.
func (p *pki) handshake(t testing.TB, conn net.Conn) tls.ConnectionState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := tls.Client(conn, &tls.Config{
		ServerName: "localhost",
		RootCAs:    p.root.Pool(),
		Time:       func() time.Time { return p.now },
	})
	if err := client.HandshakeContext(ctx); err != nil {
		t.Fatalf("TLS handshake after Negotiate: %v", err)
	}
	state := client.ConnectionState()
	if !state.PeerCertificates[0].Equal(p.leaf.Cert) {
		t.Fatalf("the server presented %s, not the test leaf", state.PeerCertificates[0].Subject)
	}
	return state
}

// checkStaple asserts that got is the good staple p's server sends.
func (p *pki) checkStaple(t testing.TB, got []byte) {
	t.Helper()
	if !bytes.Equal(got, p.staple) {
		t.Fatalf("staple after STARTTLS is %d bytes, want the %d served", len(got), len(p.staple))
	}
	resp, err := ocsp.ParseResponseForCert(got, p.leaf.Cert, p.inter.Cert)
	if err != nil {
		t.Fatalf("parse staple: %v", err)
	}
	if resp.Status != ocsp.Good {
		t.Fatalf("staple status %d, want good", resp.Status)
	}
}

// step is one move of a scripted server: send bytes, or expect the client
// to send exactly these bytes.
type step struct {
	send   string
	expect string
}

func send(s string) step   { return step{send: s} }
func expect(s string) step { return step{expect: s} }

// scriptedServer plays script to the first client on 127.0.0.1, then
// either starts TLS as a stapling server (startTLS) or holds the
// connection until the client hangs up. Mismatches fail the test when it
// ends.
type scriptedServer struct {
	addr string
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func serveScript(t *testing.T, p *pki, script []step, startTLS bool) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{addr: ln.Addr().String(), done: make(chan struct{})}
	conns := make(chan net.Conn, 1)
	go func() {
		defer close(s.done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		conns <- conn
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		s.setErr(play(conn, script))
		if startTLS {
			server := tls.Server(conn, p.serverConfig())
			if err := server.Handshake(); err != nil {
				s.setErr(fmt.Errorf("server TLS handshake: %w", err))
			}
		}
		// Hold the connection like a server waiting for its client.
		_, _ = io.Copy(io.Discard, conn)
	}()
	t.Cleanup(func() {
		// The client's conn closes first (cleanups run last-in,
		// first-out), which ends the server's script or its hold; a
		// server still busy after that is stopped by force.
		ln.Close()
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			select {
			case conn := <-conns:
				conn.Close()
			default:
			}
			<-s.done
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err != nil {
			t.Errorf("scripted server: %v", s.err)
		}
	})
	return s
}

func (s *scriptedServer) setErr(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func play(conn net.Conn, script []step) error {
	for i, st := range script {
		if st.send != "" {
			if _, err := conn.Write([]byte(st.send)); err != nil {
				// The client may rightly hang up on a server that breaks
				// the protocol; that is not the server's failure.
				return nil
			}
			continue
		}
		got := make([]byte, len(st.expect))
		if _, err := io.ReadFull(conn, got); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("step %d: client hung up before sending %q (got %q)", i, st.expect, got)
			}
			return fmt.Errorf("step %d: %w", i, err)
		}
		if string(got) != st.expect {
			return fmt.Errorf("step %d: client sent %q, want %q", i, got, st.expect)
		}
	}
	return nil
}

// dial connects to addr on loopback.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// negotiate runs Negotiate against addr with a bounded context and
// returns the conn and the error.
func negotiate(t testing.TB, addr string, proto Protocol, opts Options, timeout time.Duration) (net.Conn, error) {
	t.Helper()
	conn := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return conn, Negotiate(ctx, conn, proto, opts)
}

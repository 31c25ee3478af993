package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// serveCommand is the server process: a CA, stapling TLS listeners on
// every address of the fleet and an OCSP responder on 127.0.0.1. It runs
// apart from the agent so that the server side's CPU is not counted. It
// answers "count" on stdin with the handshakes completed so far, and
// exits when stdin closes, so it cannot outlive the benchmark.
type serveCommand struct {
	fleet fleet
	dir   string
}

// serverReady is the one line the server prints once it listens.
type serverReady struct {
	Port      int    `json:"port"`
	Responder string `json:"responder"`
	RootFile  string `json:"root_file"`
}

const rootFileName = "root.pem"

func (c *serveCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("serve", "Child process: serve the fleet's stapling endpoints.").Hidden()
	c.fleet.addFlags(cmd)
	cmd.Flag("dir", "Directory to write root.pem to.").Required().StringVar(&c.dir)
	return cmd
}

func (c *serveCommand) run(stdin io.Reader, stdout, stderr io.Writer) int {
	if err := c.fleet.validate(); err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench serve: %v\n", err)
		return exitError
	}
	srv, err := startServers(c.fleet, c.dir, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench serve: %v\n", err)
		return exitError
	}
	defer srv.close()
	if err := json.NewEncoder(stdout).Encode(srv.ready); err != nil {
		return exitError
	}
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		switch in.Text() {
		case "count":
			fmt.Fprintln(stdout, srv.handshakes.Load(), srv.distinct.Load())
		default:
			fmt.Fprintf(stdout, "error: unknown command %q\n", in.Text())
		}
	}
	return exitOK
}

type servers struct {
	ready      serverReady
	responder  *testpki.Responder
	listeners  []net.Listener
	handshakes atomic.Int64
	// seen marks targets that completed a handshake, so the first full
	// pass is known to cover every target, not only to add up to one.
	seen     []atomic.Bool
	distinct atomic.Int64
	conns    sync.WaitGroup
}

// startServers builds the PKI around now (the agent runs on the real
// clock), starts the responder, then listens on every address.
func startServers(f fleet, dir string, now time.Time) (s *servers, err error) {
	s = &servers{seen: make([]atomic.Bool, f.Targets)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	root, err := testpki.NewRoot("ocspwatch Bench Root", testpki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	inter, err := root.NewIntermediate("ocspwatch Bench Issuing CA", testpki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	signer, err := inter.NewResponder("ocspwatch Bench OCSP Signer", testpki.ResponderOptions{NoCheck: true})
	if err != nil {
		return nil, err
	}
	// Every leaf the responder is asked about is good; it answers from
	// this set, filled once the leaves, which name its URL, exist.
	var known sync.Map
	s.responder = testpki.NewResponder(func(q testpki.Query) []byte {
		if q.Serial == nil {
			return nil
		}
		status := testpki.Unknown
		if _, ok := known.Load(q.Serial.String()); ok {
			status = testpki.Good
		}
		t := time.Now()
		entry := testpki.Entry{Serial: q.Serial, Issuer: inter.Cert, Status: status, ThisUpdate: t.Add(-time.Hour), NextUpdate: t.Add(23 * time.Hour)}
		return testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: t.Add(-time.Hour), Signer: signer, Embed: true, Nonce: q.Nonce}.MustDER()
	})
	certs := make([]*tls.Certificate, f.Leaves)
	for i := range certs {
		leaf, err := inter.NewLeaf(testpki.LeafOptions{
			DNSNames:    []string{"*." + nameDomain},
			OCSPServers: []string{s.responder.URL},
			NotBefore:   now.Add(-24 * time.Hour),
			NotAfter:    now.Add(60 * 24 * time.Hour),
		})
		if err != nil {
			return nil, err
		}
		known.Store(leaf.Cert.SerialNumber.String(), true)
		staple := testpki.Response{
			Entries:    []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, now.Add(-time.Hour), now.Add(72*time.Hour))},
			ProducedAt: now.Add(-time.Hour),
			Signer:     signer,
			Embed:      true,
		}.MustDER()
		certs[i] = &tls.Certificate{Certificate: leaf.ChainDER(), PrivateKey: leaf.Key, OCSPStaple: staple, Leaf: leaf.Cert}
	}
	s.ready.RootFile = filepath.Join(dir, rootFileName)
	if err := os.WriteFile(s.ready.RootFile, root.PEM(), 0o644); err != nil {
		return nil, err
	}
	s.ready.Responder = s.responder.URL
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The probes never resume; tickets would only cost server CPU.
		SessionTicketsDisabled: true,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return certs[f.leafFor(hello.ServerName)], nil
		},
	}
	if err := s.listen(f, cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// listen binds one port on every address: the first bind picks it, the
// rest follow; a port already taken on some address means trying again.
func (s *servers) listen(f fleet, cfg *tls.Config) error {
	var lastErr error
	for range 10 {
		lns, port, err := listenAll(f.listenAddresses(), f.Port)
		if err == nil {
			s.ready.Port = port
			for _, ln := range lns {
				tl := tls.NewListener(ln, cfg)
				s.listeners = append(s.listeners, tl)
				s.conns.Add(1)
				go s.serve(f, tl)
			}
			return nil
		}
		lastErr = err
		if f.Port != 0 {
			break
		}
	}
	return lastErr
}

func listenAll(addresses, port int) ([]net.Listener, int, error) {
	var lns []net.Listener
	for a := range addresses {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip(a), strconv.Itoa(port)))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, 0, fmt.Errorf("listen on %s: %w", ip(a), err)
		}
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		lns = append(lns, ln)
	}
	return lns, port, nil
}

func (s *servers) serve(f fleet, ln net.Listener) {
	defer s.conns.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			tc := conn.(*tls.Conn)
			if tc.Handshake() != nil {
				return
			}
			s.handshakes.Add(1)
			if i, ok := f.index(tc.ConnectionState().ServerName); ok && i < len(s.seen) && !s.seen[i].Swap(true) {
				s.distinct.Add(1)
			}
			// Hold the connection until the client hangs up, like a
			// server waiting for a request.
			_, _ = io.Copy(io.Discard, tc)
		}()
	}
}

func (s *servers) close() {
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
	s.conns.Wait()
	if s.responder != nil {
		s.responder.Close()
	}
}

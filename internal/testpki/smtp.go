package testpki

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// SMTPOptions shape a scripted SMTP server.
type SMTPOptions struct {
	// NoSTARTTLS leaves STARTTLS out of the EHLO reply.
	NoSTARTTLS bool
	// Greeting replaces the 220 greeting; the server hangs up after it.
	Greeting string
}

// SMTPServer is a scripted SMTP server on 127.0.0.1 that offers STARTTLS
// and then runs a stapling crypto/tls server on the same connection, for
// tests of the probe's STARTTLS path without a mail daemon. Its lines are
// Exim 4.97's, as probe/starttls's transcripts record them.
type SMTPServer struct {
	Addr string
	opts SMTPOptions
	cfg  *tls.Config
	ln   net.Listener
	wg   sync.WaitGroup
}

// NewSMTPServer starts a server presenting leaf and stapling staple,
// which may be nil for no staple.
func NewSMTPServer(leaf *Cert, staple []byte, opts SMTPOptions) (*SMTPServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SMTPServer{Addr: ln.Addr().String(), opts: opts, ln: ln, cfg: &tls.Config{
		Certificates: []tls.Certificate{{Certificate: leaf.ChainDER(), PrivateKey: leaf.Key, OCSPStaple: staple}},
	}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				s.serve(conn)
			}()
		}
	}()
	return s, nil
}

// Close stops the server and waits for its connections to end.
func (s *SMTPServer) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *SMTPServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	greeting := "220 localhost ESMTP Exim 4.97 Thu, 26 Nov 2026 19:00:00 +0000\r\n"
	if s.opts.Greeting != "" {
		greeting = s.opts.Greeting
	}
	if _, err := io.WriteString(conn, greeting); err != nil || s.opts.Greeting != "" {
		return
	}
	br := bufio.NewReader(io.LimitReader(conn, 1<<16))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(verb, "EHLO"):
			reply := "250-localhost Hello localhost [127.0.0.1]\r\n250-SIZE 52428800\r\n250-PIPELINING\r\n"
			if !s.opts.NoSTARTTLS {
				reply += "250-STARTTLS\r\n"
			}
			_, _ = io.WriteString(conn, reply+"250 HELP\r\n")
		case verb == "STARTTLS" && !s.opts.NoSTARTTLS:
			_, _ = io.WriteString(conn, "220 TLS go ahead\r\n")
			tc := tls.Server(conn, s.cfg)
			if tc.Handshake() == nil {
				_, _ = io.Copy(io.Discard, tc)
			}
			return
		case verb == "QUIT":
			_, _ = io.WriteString(conn, "221 localhost closing connection\r\n")
			return
		default:
			_, _ = io.WriteString(conn, "500 unrecognized command\r\n")
		}
	}
}

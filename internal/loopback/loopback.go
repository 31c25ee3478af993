// Package loopback starts misbehaving TCP peers on 127.0.0.1 for tests:
// a port nobody listens on, a server that accepts and never speaks, and
// one that answers with the wrong protocol; and a resolver that answers
// from a table, so names can resolve to several loopback addresses.
package loopback

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// ClosedAddr returns an address on 127.0.0.1 where nothing listens.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Silent starts a server that accepts connections and never writes,
// holding them until the test ends.
func Silent(t testing.TB) string {
	return serve(t, nil)
}

// Banner starts a server that writes banner and hangs up, as a server of
// another protocol would.
func Banner(t testing.TB, banner string) string {
	return serve(t, []byte(banner))
}

func serve(t testing.TB, banner []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if banner != nil {
				_, _ = c.Write(banner)
				c.Close()
				continue
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Resolver answers A and AAAA lookups from records (IPv4 addresses in A,
// IPv6 ones in AAAA) and everything else with no answer, without sending a packet: Go's resolver talks to it through an
// in-memory pipe, framed as DNS over TCP.
func Resolver(records map[string][]net.IP) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go answerDNS(server, records)
		return client, nil
	}}
}

func answerDNS(conn net.Conn, records map[string][]net.IP) {
	defer conn.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		query := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		var p dnsmessage.Parser
		header, err := p.Start(query)
		if err != nil {
			return
		}
		q, err := p.Question()
		if err != nil {
			return
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: header.ID, Response: true, Authoritative: true})
		b.EnableCompression()
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		for _, ip := range records[strings.TrimSuffix(q.Name.String(), ".")] {
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			switch {
			case q.Type == dnsmessage.TypeA && ip.To4() != nil:
				_ = b.AResource(rh, dnsmessage.AResource{A: [4]byte(ip.To4())})
			case q.Type == dnsmessage.TypeAAAA && ip.To4() == nil && ip.To16() != nil:
				_ = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: [16]byte(ip.To16())})
			}
		}
		msg, err := b.Finish()
		if err != nil {
			return
		}
		binary.BigEndian.PutUint16(size[:], uint16(len(msg)))
		if _, err := conn.Write(append(size[:], msg...)); err != nil {
			return
		}
	}
}

// Counter is a listener that accepts and counts connections, to prove a
// refused address was never connected to.
type Counter struct {
	Addr string
	mu   sync.Mutex
	n    int
}

// Count starts a counting listener on host (a loopback address such as
// 127.0.0.2) and closes every connection it accepts.
func Count(t testing.TB, host string) *Counter {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Counter{Addr: ln.Addr().String()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.n++
			c.mu.Unlock()
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

// Connections is how many connections were accepted so far.
func (c *Counter) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

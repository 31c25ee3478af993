// Package loopback starts misbehaving TCP peers on 127.0.0.1 for tests:
// a port nobody listens on, a server that accepts and never speaks, and
// one that answers with the wrong protocol.
package loopback

import (
	"net"
	"sync"
	"testing"
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

package starttls

import (
	"context"
	"net"
	"testing"
	"time"
)

// BenchmarkNegotiate measures one whole dialogue over loopback, dial
// included, against a server replaying each protocol's ok transcript. The
// server stops at the go-ahead; no TLS follows.
func BenchmarkNegotiate(b *testing.B) {
	for _, tr := range transcripts() {
		b.Run(string(tr.proto), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer conn.Close()
						_ = play(conn, tr.ok)
					}()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				conn, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				if err := Negotiate(ctx, conn, tr.proto, tr.opts); err != nil {
					b.Fatal(err)
				}
				conn.Close()
			}
		})
	}
}

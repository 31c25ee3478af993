package starttls_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// A probe of smtp://mail.example.net dials the default port, runs the
// dialogue and hands the same conn to crypto/tls, which then sees the
// staple as on any direct-TLS port.
func ExampleNegotiate() {
	proto, port, implicitTLS, ok := starttls.ProtocolForScheme("smtp")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort("mail.example.net", port))
	if err != nil {
		return
	}
	defer conn.Close()
	if !implicitTLS {
		err := starttls.Negotiate(ctx, conn, proto, starttls.Options{ServerName: "mail.example.net"})
		var refused *starttls.RefusedError
		switch {
		case errors.As(err, &refused):
			fmt.Println("starttls_refused:", refused.Reply)
			return
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Println("timeout")
			return
		case err != nil:
			fmt.Println("starttls failed:", err)
			return
		}
	}
	client := tls.Client(conn, &tls.Config{ServerName: "mail.example.net"})
	if err := client.HandshakeContext(ctx); err != nil {
		return
	}
	fmt.Println(len(client.ConnectionState().OCSPResponse) > 0)
}

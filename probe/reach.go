package probe

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IPFamily limits which of a name's addresses an endpoint is probed at.
type IPFamily string

// Families. There is no fallback from one to the other: a probe pinned
// to IPv6 reports a broken IPv6 path rather than hiding it behind IPv4.
const (
	IPAny IPFamily = ""
	IPv4  IPFamily = "ipv4"
	IPv6  IPFamily = "ipv6"
)

// filter keeps the addresses of the family; none left is an error that
// names the family, reported as a DNS problem.
func (f IPFamily) filter(host string, addrs []net.IP) ([]net.IP, error) {
	if f == IPAny {
		return addrs, nil
	}
	var out []net.IP
	for _, ip := range addrs {
		if (ip.To4() != nil) == (f == IPv4) {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no %s address (ip_family = %q)", host, f, string(f))
	}
	return out, nil
}

// network is the dialer's network for the family, so even a dial the
// resolver did not filter cannot cross families.
func (f IPFamily) network() string {
	switch f {
	case IPv4:
		return "tcp4"
	case IPv6:
		return "tcp6"
	}
	return "tcp"
}

// connect opens the TCP connection for a handshake: straight to address,
// or through the CONNECT proxy. Both go through the one dialer and its
// dial policy.
func connect(ctx context.Context, req StapleRequest, address string) (net.Conn, error) {
	if req.Proxy == nil {
		return newDialer().DialContext(withDialScope(ctx, req.Dial, req.Origin), req.Family.network(), address)
	}
	return dialThroughProxy(ctx, req, address)
}

// Caps on a proxy's answer to CONNECT.
const (
	maxProxyLine    = 4 << 10
	maxProxyHeaders = 64
)

// ProxyError is a CONNECT the proxy did not grant.
type ProxyError struct {
	Proxy  string
	Status string
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("proxy %s answered CONNECT with %q", e.Proxy, e.Status)
}

// dialThroughProxy connects to the proxy, which the operator configured,
// and asks it for a tunnel to address. An address given as a literal is
// checked against the dial policy first, since the proxy would connect
// to it on the agent's behalf; a name is the proxy's to resolve.
func dialThroughProxy(ctx context.Context, req StapleRequest, address string) (net.Conn, error) {
	proxy := req.Proxy
	if ap, err := netip.ParseAddrPort(address); err == nil && req.Dial != nil {
		if err := req.Dial.Check(ap.Addr(), req.Origin); err != nil {
			return nil, err
		}
	}
	proxyAddr := proxy.Host
	if proxy.Port() == "" {
		proxyAddr = net.JoinHostPort(proxy.Hostname(), "80")
	}
	conn, err := newDialer().DialContext(withDialScope(ctx, req.Dial, OriginConfigured), "tcp", proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", proxyAddr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", address, address)
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		fmt.Fprintf(&b, "Proxy-Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		conn.Close()
		return nil, fmt.Errorf("proxy %s: %w", proxyAddr, err)
	}
	br := bufio.NewReaderSize(conn, maxProxyLine)
	if err := readConnectReply(br, proxyAddr); err != nil {
		conn.Close()
		return nil, err
	}
	// A server that speaks first (SMTP, IMAP …) may already have sent
	// its greeting through the tunnel, into br's buffer.
	return &bufferedConn{Conn: conn, r: br}, nil
}

// readConnectReply reads the proxy's status line and headers, bounded in
// line length and count, and accepts only a 2xx status.
func readConnectReply(br *bufio.Reader, proxyAddr string) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("proxy %s: reading the answer to CONNECT: %w", proxyAddr, err)
	}
	status := strings.TrimRight(string(line), "\r\n")
	proto, rest, _ := strings.Cut(status, " ")
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || n < 200 || n > 299 {
		return &ProxyError{Proxy: proxyAddr, Status: printable(status, 128)}
	}
	for range maxProxyHeaders {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("proxy %s: reading the answer to CONNECT: %w", proxyAddr, err)
		}
		if len(strings.TrimRight(string(line), "\r\n")) == 0 {
			return nil
		}
	}
	return errors.New("proxy " + proxyAddr + ": more than 64 header lines in the answer to CONNECT")
}

// printable keeps at most n bytes of printable ASCII from remote text.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bufferedConn reads first what a bufio.Reader already took off conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

package starttls

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func FuzzParseReplyLine(f *testing.F) {
	for _, seed := range []string{"250-STARTTLS", "220 ready", "220", "", "999-x", "2\x00\x00 "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		code, more, text, ok := parseReplyLine(line)
		if !ok {
			if code != 0 || more || text != "" {
				t.Fatalf("rejected line %q returned %d %v %q", line, code, more, text)
			}
			return
		}
		if code < 100 || code > 599 || !strings.HasSuffix(line, text) || len(text) > len(line) {
			t.Fatalf("parseReplyLine(%q) = %d %v %q", line, code, more, text)
		}
	})
}

func FuzzParseLDAPExtendedResponse(f *testing.F) {
	for _, seed := range []string{
		"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00",
		"\x30\x2a\x02\x01\x01\x78\x25\x0a\x01\x02\x04\x00\x04\x1eunsupported extended operation",
		"\x30\x84\x00\x00\x00\x10\x02\x01\x01\x78\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00",
		"\x30\x84\xff\xff\xff\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, message []byte) {
		r, err := parseLDAPExtendedResponse(message)
		if err == nil && r.messageID != 1 {
			t.Fatalf("accepted a reply to message %d", r.messageID)
		}
		if len(r.diagnosticMessage) > maxReplyText+3 {
			t.Fatalf("diagnostic message of %d bytes passes the cap", len(r.diagnosticMessage))
		}
	})
}

func FuzzParseMySQLGreeting(f *testing.F) {
	f.Add([]byte(mysqlGreeting(0xfffe)[4:]))
	f.Add([]byte(mysqlGreeting(0xf7fe)[4:]))
	f.Add([]byte("\xff\x6a\x04Host is not allowed"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		flags, err := parseMySQLGreeting(payload)
		if err == nil && flags&mysqlClientProtocol41 == 0 {
			t.Fatalf("accepted a pre-4.1 greeting, flags %#x", flags)
		}
	})
}

// FuzzNegotiate plays arbitrary server bytes to every dialogue through an
// in-memory pipe: Negotiate must neither panic nor read past its cap, and
// every failure must be one of the two typed errors.
func FuzzNegotiate(f *testing.F) {
	for i, tr := range transcripts() {
		for _, script := range [][]step{tr.ok, tr.notOffered, tr.refused, tr.garbage, tr.flood} {
			var server strings.Builder
			for _, st := range script {
				server.WriteString(st.send)
			}
			f.Add(uint8(i), []byte(server.String()))
		}
	}
	protos := Protocols()
	const maxBytes = 4096
	f.Fuzz(func(t *testing.T, which uint8, serverBytes []byte) {
		proto := protos[int(which)%len(protos)]
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			// Drain the client's writes, which net.Pipe would block.
			_, _ = io.Copy(io.Discard, server)
		}()
		go func() {
			_, _ = server.Write(serverBytes)
			server.Close()
		}()
		counted := &countingConn{Conn: client}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := Negotiate(ctx, counted, proto, Options{ServerName: "localhost", MaxBytes: maxBytes, MaxLineLength: 512})
		if counted.read > maxBytes {
			t.Fatalf("%s read %d bytes past a cap of %d", proto, counted.read, maxBytes)
		}
		if err == nil {
			return
		}
		var refused *RefusedError
		var dialogue *DialogueError
		if !errors.As(err, &refused) && !errors.As(err, &dialogue) {
			t.Fatalf("%s: untyped error %T: %v", proto, err, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s waited for its deadline on a closed pipe: %v", proto, err)
		}
	})
}

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	read int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += n
	return n, err
}

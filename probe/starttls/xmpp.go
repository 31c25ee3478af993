package starttls

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// XML namespaces of the XMPP stream (RFC 6120).
const (
	xmppStreamsNS = "http://etherx.jabber.org/streams"
	xmppTLSNS     = "urn:ietf:params:xml:ns:xmpp-tls"
)

// XMPP client-to-server (jabber:client) and server-to-server
// (jabber:server) STARTTLS, RFC 6120 §5: open a stream to ServerName,
// find <starttls/> among the stream features, ask for it and wait for
// <proceed/> or <failure/>.
func xmppDialogue(contentNS string) func(*session) error {
	return func(s *session) error {
		if s.opts.ServerName == "" {
			return s.fail("stream header", ErrServerNameRequired)
		}
		var to strings.Builder
		_ = xml.EscapeText(&to, []byte(s.opts.ServerName))
		header := "<?xml version='1.0'?><stream:stream to='" + to.String() +
			"' version='1.0' xmlns='" + contentNS + "' xmlns:stream='" + xmppStreamsNS + "'"
		if contentNS == "jabber:server" {
			header += " xmlns:db='jabber:server:dialback'"
		}
		if err := s.write("stream header", []byte(header+">")); err != nil {
			return err
		}
		// A decoder would wait for the '<' that ends text; a server of
		// another protocol must be told apart at its first byte instead.
		if err := s.expectByte("stream header", '<'); err != nil {
			return err
		}
		// The decoder reads s.r one byte at a time (bufio.Reader is an
		// io.ByteReader), so it never consumes a byte past <proceed/>.
		d := xml.NewDecoder(s.r)
		d.Strict = true
		x := &xmppReader{s: s, d: d}
		start, err := x.nextStart("stream header")
		if err != nil {
			return err
		}
		if start.Name != (xml.Name{Space: xmppStreamsNS, Local: "stream"}) {
			return s.fail("stream header", ErrBadGreeting, "<"+start.Name.Local+">")
		}
		start, err = x.nextStart("stream features")
		if err != nil {
			return err
		}
		if start.Name.Space == xmppStreamsNS && start.Name.Local == "error" {
			return s.fail("stream features", ErrBadGreeting, x.streamError())
		}
		if start.Name != (xml.Name{Space: xmppStreamsNS, Local: "features"}) {
			return s.fail("stream features", ErrBadGreeting, "<"+start.Name.Local+">")
		}
		features, err := x.childNames("stream features")
		if err != nil {
			return err
		}
		if !slices.Contains(features, xml.Name{Space: xmppTLSNS, Local: "starttls"}) {
			return s.refused(false, "features: "+nameList(features))
		}
		if err := s.write("starttls", []byte("<starttls xmlns='"+xmppTLSNS+"'/>")); err != nil {
			return err
		}
		start, err = x.nextStart("starttls")
		if err != nil {
			return err
		}
		switch start.Name {
		case xml.Name{Space: xmppTLSNS, Local: "proceed"}:
			// The element is self-closing or closed right away; reading
			// its end tag consumes "/>" or "</proceed>" and nothing more.
			if err := d.Skip(); err != nil {
				return s.fail("starttls", x.cause(err))
			}
			return nil
		case xml.Name{Space: xmppTLSNS, Local: "failure"}:
			return s.refused(true, "<failure/>")
		}
		return s.fail("starttls", ErrBadReply, "<"+start.Name.Local+">")
	}
}

// xmppReader walks the server's half of the stream.
type xmppReader struct {
	s *session
	d *xml.Decoder
}

// cause turns the decoder's error into a DialogueError cause: the
// session's own errors pass through, XML syntax errors are ErrBadReply.
func (x *xmppReader) cause(err error) error {
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		if strings.Contains(syntax.Msg, "unexpected EOF") {
			return ErrConnectionClosed
		}
		return fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	return err
}

// nextStart skips the XML declaration, whitespace and comments to the next
// start element. An end element there means the server closed its stream.
func (x *xmppReader) nextStart(step string) (xml.StartElement, error) {
	for range x.s.opts.MaxReplyLines {
		tok, err := x.d.Token()
		if err != nil {
			if err == io.EOF {
				err = ErrConnectionClosed
			}
			return xml.StartElement{}, x.s.fail(step, x.cause(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, x.s.fail(step, ErrBadReply, "</"+t.Name.Local+">")
		case xml.CharData:
			if text := strings.TrimSpace(string(t)); text != "" {
				if step == "stream header" {
					return xml.StartElement{}, x.s.fail(step, ErrBadGreeting, text)
				}
				return xml.StartElement{}, x.s.fail(step, ErrBadReply, text)
			}
		}
	}
	return xml.StartElement{}, x.s.fail(step, ErrTooManyLines)
}

// childNames reads the current element to its end and returns the names
// of its direct children.
func (x *xmppReader) childNames(step string) ([]xml.Name, error) {
	var names []xml.Name
	depth := 1
	for depth > 0 {
		tok, err := x.d.Token()
		if err != nil {
			if err == io.EOF {
				err = ErrConnectionClosed
			}
			return nil, x.s.fail(step, x.cause(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				if len(names) >= x.s.opts.MaxReplyLines {
					return nil, x.s.fail(step, ErrTooManyLines)
				}
				names = append(names, t.Name)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return names, nil
}

// streamError names the condition of a <stream:error>, for the reply text.
func (x *xmppReader) streamError() string {
	names, err := x.childNames("stream error")
	if err != nil {
		return "<stream:error>"
	}
	return "stream error: " + nameList(names)
}

func nameList(names []xml.Name) string {
	local := make([]string, 0, len(names))
	for _, n := range names {
		local = append(local, n.Local)
	}
	return strings.Join(local, " ")
}

// expectByte fails with ErrBadGreeting unless the first byte after any
// whitespace is want, which it leaves unread.
func (s *session) expectByte(step string, want byte) error {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return s.fail(step, err)
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case want:
			if err := s.r.UnreadByte(); err != nil {
				return s.fail(step, err)
			}
			return nil
		}
		line, _ := s.r.Peek(min(s.r.Buffered(), 64))
		return s.fail(step, ErrBadGreeting, string(b)+string(line))
	}
}

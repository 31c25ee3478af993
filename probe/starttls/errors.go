package starttls

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Causes of a *DialogueError, matched with errors.Is. A timeout or a
// cancelled context is matched with context.DeadlineExceeded or
// context.Canceled instead.
var (
	// ErrUnknownProtocol means Negotiate was given a Protocol outside
	// Protocols, such as the empty one of an implicit-TLS scheme.
	ErrUnknownProtocol = errors.New("unknown STARTTLS protocol")
	// ErrServerNameRequired means XMPP was asked for without a ServerName
	// to put in the stream header.
	ErrServerNameRequired = errors.New("XMPP needs a server name for the stream header")
	// ErrBadGreeting means the server's first words were not this
	// protocol's greeting, or were a greeting that turns clients away.
	ErrBadGreeting = errors.New("the server's greeting is not this protocol's")
	// ErrBadReply means a later reply broke the protocol.
	ErrBadReply = errors.New("the server's reply breaks the protocol")
	// ErrLineTooLong means a reply line passed Options.MaxLineLength.
	ErrLineTooLong = errors.New("a reply line is longer than the cap")
	// ErrTooManyLines means a reply passed Options.MaxReplyLines.
	ErrTooManyLines = errors.New("a reply has more lines than the cap")
	// ErrTooManyBytes means the dialogue passed Options.MaxBytes.
	ErrTooManyBytes = errors.New("the server sent more bytes than the cap")
	// ErrTrailingData means the server sent bytes after agreeing to start
	// TLS and before the client's ClientHello: either a broken server or
	// an attempt to inject plain text into the TLS session.
	ErrTrailingData = errors.New("the server sent data after agreeing to start TLS")
	// ErrConnectionClosed means the server hung up mid-dialogue.
	ErrConnectionClosed = errors.New("the server closed the connection")
)

// RefusedError means the server does not offer STARTTLS or refused it.
// Callers map it to the reason starttls_refused.
type RefusedError struct {
	Protocol Protocol
	// Offered tells a server that knows STARTTLS and said no (true) from
	// one that does not offer it (false), as far as the protocol lets a
	// client tell: from the advertisement where there is one (SMTP,
	// LMTP, IMAP, POP3's CAPA, NNTP, ManageSieve, XMPP, MySQL's flags),
	// from the reply code otherwise (FTP's 431/534, LDAP's resultCode
	// other than protocolError). PostgreSQL's 'N' is always false.
	Offered bool
	// Reply is the server's answer, sanitised and truncated: for people
	// and debug output only, never a label.
	Reply string
}

func (e *RefusedError) Error() string {
	what := "does not offer STARTTLS"
	if e.Offered {
		what = "refused STARTTLS"
	}
	if e.Reply == "" {
		return string(e.Protocol) + ": the server " + what
	}
	return string(e.Protocol) + ": the server " + what + ": " + e.Reply
}

// DialogueError is any failure other than a refusal. Err is the cause:
// one of the Err* values, context.DeadlineExceeded, context.Canceled, or
// the network error as the conn returned it.
type DialogueError struct {
	Protocol Protocol
	// Step names what the client was doing, e.g. "greeting" or "EHLO".
	Step string
	// Reply is the offending server text, sanitised and truncated, when
	// there was one.
	Reply string
	Err   error
}

func (e *DialogueError) Error() string {
	msg := string(e.Protocol) + " " + e.Step + ": " + e.Err.Error()
	if e.Reply != "" {
		msg += ": " + e.Reply
	}
	return msg
}

func (e *DialogueError) Unwrap() error { return e.Err }

// maxReplyText caps the reply text kept in errors.
const maxReplyText = 256

// sanitize makes server text safe to print: printable ASCII only, lines
// joined with " | ", at most maxReplyText bytes.
func sanitize(lines ...string) string {
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteString(" | ")
		}
		for _, r := range line {
			switch {
			case r == utf8.RuneError:
				b.WriteByte('?')
			case r == '\t':
				b.WriteByte(' ')
			case r < 0x20 || r == 0x7f:
				b.WriteByte('?')
			case r > 0x7e:
				b.WriteByte('?')
			default:
				b.WriteRune(r)
			}
			if b.Len() > maxReplyText {
				return b.String()[:maxReplyText] + "..."
			}
		}
	}
	return b.String()
}

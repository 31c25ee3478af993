package starttls

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// Protocol names one STARTTLS dialogue. The set is closed: Protocols lists
// every value and ParseProtocol accepts nothing else.
type Protocol string

// The protocols Negotiate speaks.
const (
	SMTP       Protocol = "smtp"
	LMTP       Protocol = "lmtp"
	IMAP       Protocol = "imap"
	POP3       Protocol = "pop3"
	FTP        Protocol = "ftp"
	LDAP       Protocol = "ldap"
	Postgres   Protocol = "postgres"
	MySQL      Protocol = "mysql"
	XMPPClient Protocol = "xmpp-client"
	XMPPServer Protocol = "xmpp-server"
	NNTP       Protocol = "nntp"
	Sieve      Protocol = "sieve"
)

// Protocols returns every protocol in a fixed order, for help texts and
// documentation tests.
func Protocols() []Protocol {
	return []Protocol{SMTP, LMTP, IMAP, POP3, FTP, LDAP, Postgres, MySQL, XMPPClient, XMPPServer, NNTP, Sieve}
}

// ParseProtocol returns the protocol named s, which must be one of
// Protocols exactly as spelt there.
func ParseProtocol(s string) (Protocol, error) {
	for _, p := range Protocols() {
		if string(p) == s {
			return p, nil
		}
	}
	names := make([]string, 0, len(Protocols()))
	for _, p := range Protocols() {
		names = append(names, string(p))
	}
	return "", fmt.Errorf("unknown STARTTLS protocol %q (want one of %s)", s, strings.Join(names, ", "))
}

type scheme struct {
	proto       Protocol
	port        string
	implicitTLS bool
}

var schemes = map[string]scheme{
	"smtp":        {SMTP, "25", false},
	"submission":  {SMTP, "587", false},
	"lmtp":        {LMTP, "24", false},
	"imap":        {IMAP, "143", false},
	"pop3":        {POP3, "110", false},
	"ftp":         {FTP, "21", false},
	"ldap":        {LDAP, "389", false},
	"postgres":    {Postgres, "5432", false},
	"postgresql":  {Postgres, "5432", false},
	"mysql":       {MySQL, "3306", false},
	"xmpp":        {XMPPClient, "5222", false},
	"xmpp-client": {XMPPClient, "5222", false},
	"xmpp-server": {XMPPServer, "5269", false},
	"nntp":        {NNTP, "119", false},
	"sieve":       {Sieve, "4190", false},
	"https":       {"", "443", true},
	"smtps":       {"", "465", true},
	"submissions": {"", "465", true},
	"imaps":       {"", "993", true},
	"pop3s":       {"", "995", true},
	"ldaps":       {"", "636", true},
	"ftps":        {"", "990", true},
	"nntps":       {"", "563", true},
	"mqtts":       {"", "8883", true},
}

// ProtocolForScheme maps a URL scheme (case-insensitive) to the dialogue
// it needs and its default port. Schemes that speak TLS from the first
// byte (smtps, imaps, pop3s, ldaps, mqtts, https, …) report implicitTLS
// with an empty proto: they need no dialogue. ok is false for a scheme
// this package does not know.
func ProtocolForScheme(s string) (proto Protocol, defaultPort string, implicitTLS bool, ok bool) {
	sc, ok := schemes[strings.ToLower(s)]
	return sc.proto, sc.port, sc.implicitTLS, ok
}

// Defaults for the zero fields of Options.
const (
	DefaultMaxLineLength = 4 << 10
	DefaultMaxBytes      = 64 << 10
	DefaultMaxReplyLines = 100
	DefaultHeloName      = "localhost"
)

// Options shape one dialogue. The zero value is usable for every protocol
// except XMPP, which needs ServerName.
type Options struct {
	// ServerName is the domain the client wants to reach: the `to` of
	// XMPP's stream header. Callers pass the target's server_name.
	ServerName string
	// HeloName is the client's own name, sent in SMTP's EHLO and LMTP's
	// LHLO (RFC 5321 §4.1.1.1 wants the client's domain there, not the
	// server's). DefaultHeloName when empty.
	HeloName string
	// MaxLineLength caps one reply line, CRLF included. XMPP and the
	// binary protocols (LDAP, PostgreSQL, MySQL) have no lines; MaxBytes
	// bounds them.
	MaxLineLength int
	// MaxBytes caps everything read from the server during the dialogue.
	MaxBytes int
	// MaxReplyLines caps the lines of one multi-line reply.
	MaxReplyLines int
}

func (o Options) withDefaults() Options {
	if o.HeloName == "" {
		o.HeloName = DefaultHeloName
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxReplyLines <= 0 {
		o.MaxReplyLines = DefaultMaxReplyLines
	}
	return o
}

// Negotiate runs proto's STARTTLS dialogue on conn and returns once the
// server has agreed to start TLS, leaving conn at the byte where the TLS
// ClientHello goes. The dialogue ends with ctx: conn's deadline is set
// from ctx while Negotiate runs and cleared when it returns.
//
// A server that does not offer STARTTLS, or refuses it, yields a
// *RefusedError. Every other failure is a *DialogueError.
func Negotiate(ctx context.Context, conn net.Conn, proto Protocol, opts Options) error {
	negotiate, ok := dialogues[proto]
	if !ok {
		return &DialogueError{Protocol: proto, Step: "start", Err: ErrUnknownProtocol}
	}
	if err := ctx.Err(); err != nil {
		return &DialogueError{Protocol: proto, Step: "start", Err: err}
	}
	opts = opts.withDefaults()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return &DialogueError{Protocol: proto, Step: "start", Err: err}
		}
	}
	// A cancelled ctx interrupts a blocked read by moving the deadline
	// into the past; Negotiate waits for that to finish before clearing
	// the deadline, so the two never race.
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0))
		close(interrupted)
	})
	defer func() {
		if !stop() {
			<-interrupted
		}
		_ = conn.SetDeadline(time.Time{})
	}()
	s := newSession(ctx, conn, proto, opts)
	if err := negotiate(s); err != nil {
		return err
	}
	return s.finish()
}

// dialogues is built once: Negotiate looks one up per handshake.
var dialogues = map[Protocol]func(*session) error{
	SMTP:       smtpDialogue("EHLO"),
	LMTP:       smtpDialogue("LHLO"),
	IMAP:       imapDialogue,
	POP3:       pop3Dialogue,
	FTP:        ftpDialogue,
	LDAP:       ldapDialogue,
	Postgres:   postgresDialogue,
	MySQL:      mysqlDialogue,
	XMPPClient: xmppDialogue("jabber:client"),
	XMPPServer: xmppDialogue("jabber:server"),
	NNTP:       nntpDialogue,
	Sieve:      sieveDialogue,
}

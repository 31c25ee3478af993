package starttls

import (
	"strings"
	"testing"
)

func TestParseProtocol(t *testing.T) {
	for _, proto := range Protocols() {
		got, err := ParseProtocol(string(proto))
		if err != nil || got != proto {
			t.Errorf("ParseProtocol(%q) = %q, %v", proto, got, err)
		}
		if _, ok := dialogues[proto]; !ok {
			t.Errorf("%q has no dialogue", proto)
		}
	}
	if len(dialogues) != len(Protocols()) {
		t.Errorf("%d dialogues for %d protocols", len(dialogues), len(Protocols()))
	}
	for _, bad := range []string{"", "SMTP", "smtps", "xmpp", "postgresql", "http"} {
		if got, err := ParseProtocol(bad); err == nil {
			t.Errorf("ParseProtocol(%q) = %q, want an error", bad, got)
		}
	}
}

func TestProtocolForScheme(t *testing.T) {
	tests := []struct {
		scheme      string
		proto       Protocol
		port        string
		implicitTLS bool
		ok          bool
	}{
		{scheme: "smtp", proto: SMTP, port: "25", ok: true},
		{scheme: "SMTP", proto: SMTP, port: "25", ok: true},
		{scheme: "submission", proto: SMTP, port: "587", ok: true},
		{scheme: "lmtp", proto: LMTP, port: "24", ok: true},
		{scheme: "imap", proto: IMAP, port: "143", ok: true},
		{scheme: "pop3", proto: POP3, port: "110", ok: true},
		{scheme: "ftp", proto: FTP, port: "21", ok: true},
		{scheme: "ldap", proto: LDAP, port: "389", ok: true},
		{scheme: "postgres", proto: Postgres, port: "5432", ok: true},
		{scheme: "postgresql", proto: Postgres, port: "5432", ok: true},
		{scheme: "mysql", proto: MySQL, port: "3306", ok: true},
		{scheme: "xmpp", proto: XMPPClient, port: "5222", ok: true},
		{scheme: "xmpp-client", proto: XMPPClient, port: "5222", ok: true},
		{scheme: "xmpp-server", proto: XMPPServer, port: "5269", ok: true},
		{scheme: "nntp", proto: NNTP, port: "119", ok: true},
		{scheme: "sieve", proto: Sieve, port: "4190", ok: true},
		{scheme: "https", port: "443", implicitTLS: true, ok: true},
		{scheme: "smtps", port: "465", implicitTLS: true, ok: true},
		{scheme: "submissions", port: "465", implicitTLS: true, ok: true},
		{scheme: "imaps", port: "993", implicitTLS: true, ok: true},
		{scheme: "pop3s", port: "995", implicitTLS: true, ok: true},
		{scheme: "ldaps", port: "636", implicitTLS: true, ok: true},
		{scheme: "ftps", port: "990", implicitTLS: true, ok: true},
		{scheme: "nntps", port: "563", implicitTLS: true, ok: true},
		{scheme: "mqtts", port: "8883", implicitTLS: true, ok: true},
		{scheme: "http"},
		{scheme: "mqtt"},
		{scheme: ""},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			proto, port, implicitTLS, ok := ProtocolForScheme(tt.scheme)
			if proto != tt.proto || port != tt.port || implicitTLS != tt.implicitTLS || ok != tt.ok {
				t.Fatalf("ProtocolForScheme(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
					tt.scheme, proto, port, implicitTLS, ok, tt.proto, tt.port, tt.implicitTLS, tt.ok)
			}
		})
	}
	// Every STARTTLS protocol is reachable from a scheme of its own name.
	for _, proto := range Protocols() {
		if got, _, _, ok := ProtocolForScheme(string(proto)); !ok || got != proto {
			t.Errorf("scheme %q maps to %q, %v", proto, got, ok)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{
			name:  "plain",
			lines: []string{"454 TLS currently unavailable"},
			want:  "454 TLS currently unavailable",
		},
		{
			name:  "lines joined",
			lines: []string{"250-a", "250 b"},
			want:  "250-a | 250 b",
		},
		{
			name:  "control bytes, escapes and invalid UTF-8",
			lines: []string{"a\x1b[2Jb\x00c\xffd\te"},
			want:  "a?[2Jb?c?d e",
		},
		{
			name:  "non-ASCII",
			lines: []string{"caf\u00e9 \u202e"},
			want:  "caf? ?",
		},
		{
			name:  "truncated",
			lines: []string{strings.Repeat("x", 1000)},
			want:  strings.Repeat("x", maxReplyText) + "...",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitize(tt.lines...); got != tt.want {
				t.Fatalf("sanitize = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseReplyLine(t *testing.T) {
	tests := []struct {
		line string
		code int
		more bool
		text string
		ok   bool
	}{
		{line: "250-STARTTLS", code: 250, more: true, text: "STARTTLS", ok: true},
		{line: "220 ready", code: 220, text: "ready", ok: true},
		{line: "220", code: 220, ok: true},
		{line: "220ready"},
		{line: "22"},
		{line: "099 low"},
		{line: "600 high"},
		{line: "2a0 x"},
		{line: ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			code, more, text, ok := parseReplyLine(tt.line)
			if code != tt.code || more != tt.more || text != tt.text || ok != tt.ok {
				t.Fatalf("parseReplyLine(%q) = %d, %v, %q, %v", tt.line, code, more, text, ok)
			}
		})
	}
}

func TestParseLDAPExtendedResponse(t *testing.T) {
	tests := []struct {
		name    string
		message string
		code    int64
		diag    string
		wantErr bool
	}{
		{
			name:    "slapd success",
			message: "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00",
		},
		{
			name:    "slapd protocolError",
			message: "\x30\x2a\x02\x01\x01\x78\x25\x0a\x01\x02\x04\x00\x04\x1eunsupported extended operation",
			code:    2,
			diag:    "unsupported extended operation",
		},
		{
			name:    "long-form lengths as liblber writes them",
			message: "\x30\x84\x00\x00\x00\x10\x02\x01\x01\x78\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00",
		},
		{
			name:    "responseName and controls are ignored",
			message: "\x30\x26\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16" + ldapStartTLSOID + "\xa0\x00",
		},
		{
			name:    "notice of disconnection",
			message: "\x30\x12\x02\x01\x00\x78\x0d\x0a\x01\x34\x04\x00\x04\x06going!",
			wantErr: true,
		},
		{
			name:    "another operation",
			message: "\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00",
			wantErr: true,
		},
		{
			name:    "length past the end",
			message: "\x30\x0c\x02\x01\x01\x78\x09\x0a\x01\x00\x04\x00\x04\x00",
			wantErr: true,
		},
		{
			name:    "indefinite length",
			message: "\x30\x80\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00\x00\x00",
			wantErr: true,
		},
		{
			name:    "trailing bytes",
			message: "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00\x00",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseLDAPExtendedResponse([]byte(tt.message))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (r.resultCode != tt.code || r.diagnosticMessage != tt.diag) {
				t.Fatalf("got resultCode %d %q, want %d %q", r.resultCode, r.diagnosticMessage, tt.code, tt.diag)
			}
		})
	}
}

func TestParseMySQLGreeting(t *testing.T) {
	payload := func(packet string) []byte { return []byte(packet[4:]) }
	tests := []struct {
		name    string
		payload []byte
		ssl     bool
		wantErr bool
	}{
		{
			name:    "MariaDB with TLS",
			payload: payload(mysqlGreeting(0xfffe)),
			ssl:     true,
		},
		{
			name:    "MariaDB without TLS",
			payload: payload(mysqlGreeting(0xf7fe)),
		},
		{
			name:    "ERR packet",
			payload: []byte("\xff\x6a\x04Host '10.0.0.1' is not allowed to connect to this MariaDB server"),
			wantErr: true,
		},
		{
			name:    "protocol 9",
			payload: []byte("\x093.22\x00"),
			wantErr: true,
		},
		{
			name:    "no NUL after the version",
			payload: []byte("\x0a5.7"),
			wantErr: true,
		},
		{
			name:    "cut before the flags",
			payload: []byte("\x0a5.7\x00\x01\x00\x00\x00abcdefgh\x00"),
			wantErr: true,
		},
		{
			name:    "pre-4.1 server",
			payload: []byte("\x0a5.7\x00\x01\x00\x00\x00abcdefgh\x00\x00\x08"),
			wantErr: true,
		},
		{
			name:    "empty",
			wantErr: true,
		},
	}
	if n := len(payload(mysqlGreeting(0xfffe))); n != 100 {
		t.Fatalf("the transcript's greeting payload is %d bytes, MariaDB's was 100", n)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags, err := parseMySQLGreeting(tt.payload)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (flags&mysqlClientSSL != 0) != tt.ssl {
				t.Fatalf("flags %#x, want CLIENT_SSL %v", flags, tt.ssl)
			}
		})
	}
}

package starttls

import (
	"encoding/binary"
	"strings"
)

// transcript is one protocol's scripted dialogues. The bytes are copied
// from the real daemon named in source, talking to a client on loopback;
// where a daemon cannot be made to say something (a refusal after an
// advertisement, say), the line is spliced in from that daemon's own
// reply to the same command, or from the RFC named in source.
type transcript struct {
	proto  Protocol
	opts   Options
	source string
	// ok ends with the server's go-ahead.
	ok []step
	// notOffered is a server that does not advertise STARTTLS (or, with
	// no advertisement in the protocol, does not know it).
	notOffered []step
	// refused is a server that knows STARTTLS and says no.
	refused []step
	// garbage is another protocol's server; garbageErr is what the
	// client must report: ErrBadGreeting when the server speaks first.
	garbage    []step
	garbageErr error
	// longLine sends a line past the 4 KiB default cap; nil for binary
	// protocols and XMPP, which have no lines.
	longLine []step
	// flood sends more than floodCap bytes inside a well-formed reply.
	flood []step
	// manyLines sends one reply of more than manyLinesCap lines; nil for
	// protocols whose replies are one line or one packet.
	manyLines []step
}

// Caps the flood and manyLines scripts are written against.
const (
	floodCap     = 2048
	manyLinesCap = 5
)

const httpReply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"

// repeatLines returns n lines of prefix followed by filler, CRLF-ended.
func repeatLines(prefix string, n int) string {
	return strings.Repeat(prefix+strings.Repeat("x", 90)+"\r\n", n)
}

func longLine(prefix string) string { return prefix + strings.Repeat("A", 5000) + "\r\n" }

func transcripts() []transcript {
	return []transcript{
		smtpTranscript(),
		lmtpTranscript(),
		imapTranscript(),
		pop3Transcript(),
		ftpTranscript(),
		ldapTranscript(),
		postgresTranscript(),
		mysqlTranscript(),
		xmppClientTranscript(),
		xmppServerTranscript(),
		nntpTranscript(),
		sieveTranscript(),
	}
}

func smtpTranscript() transcript {
	const greeting = "220 localhost ESMTP Exim 4.96 Thu, 26 Nov 2026 19:12:12 +0000\r\n"
	const ehloStart = "250-localhost Hello localhost [127.0.0.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n250-CHUNKING\r\n"
	return transcript{
		proto: SMTP,
		source: "Exim 4.96 (Debian 12 exim4-daemon-heavy): tls_advertise_hosts = * for ok; " +
			"an unreadable key for refused (454); tls_advertise_hosts empty for notOffered",
		ok: []step{
			send(greeting),
			expect("EHLO localhost\r\n"),
			send(ehloStart + "250-STARTTLS\r\n250-SMTPUTF8\r\n250 HELP\r\n"),
			expect("STARTTLS\r\n"),
			send("220 TLS go ahead\r\n"),
		},
		notOffered: []step{
			send(greeting),
			expect("EHLO localhost\r\n"),
			send(ehloStart + "250-SMTPUTF8\r\n250 HELP\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("EHLO localhost\r\n"),
			send(ehloStart + "250-STARTTLS\r\n250-SMTPUTF8\r\n250 HELP\r\n"),
			expect("STARTTLS\r\n"),
			send("454 TLS currently unavailable\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("220 "))},
		flood:      []step{send(repeatLines("220-", 40))},
		manyLines: []step{
			send(greeting),
			expect("EHLO localhost\r\n"),
			send(repeatLines("250-", 10)),
		},
	}
}

func lmtpTranscript() transcript {
	const greeting = "220 vm Dovecot (Debian) ready.\r\n"
	const lhloStart = "250-vm\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n"
	return transcript{
		proto:  LMTP,
		source: "Dovecot 2.3.19.1 lmtp (Debian 12 dovecot-lmtpd): ssl = yes for ok, ssl = no for notOffered and refused (502)",
		ok: []step{
			send(greeting),
			expect("LHLO localhost\r\n"),
			send(lhloStart + "250-PIPELINING\r\n250 STARTTLS\r\n"),
			expect("STARTTLS\r\n"),
			send("220 2.0.0 Begin TLS negotiation now.\r\n"),
		},
		notOffered: []step{
			send(greeting),
			expect("LHLO localhost\r\n"),
			send(lhloStart + "250 PIPELINING\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("LHLO localhost\r\n"),
			send(lhloStart + "250-PIPELINING\r\n250 STARTTLS\r\n"),
			expect("STARTTLS\r\n"),
			send("502 5.5.1 TLS support is not enabled.\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("220 "))},
		flood:      []step{send(repeatLines("220-", 40))},
		manyLines: []step{
			send(greeting),
			expect("LHLO localhost\r\n"),
			send(repeatLines("250-", 10)),
		},
	}
}

func imapTranscript() transcript {
	const greeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n"
	const capability = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN\r\n" +
		"a1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	return transcript{
		proto:  IMAP,
		source: "Dovecot 2.3.19.1 imap-login (Debian 12 dovecot-imapd): ssl = yes for ok, ssl = no for notOffered and for refused's BAD",
		ok: []step{
			send(greeting),
			expect("a1 CAPABILITY\r\n"),
			send(capability),
			expect("a2 STARTTLS\r\n"),
			send("a2 OK Begin TLS negotiation now.\r\n"),
		},
		notOffered: []step{
			send("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\r\n"),
			expect("a1 CAPABILITY\r\n"),
			send("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\n" +
				"a1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("a1 CAPABILITY\r\n"),
			send(capability),
			expect("a2 STARTTLS\r\n"),
			send("a2 BAD TLS support isn't enabled.\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("* OK "))},
		flood: []step{
			send(greeting),
			expect("a1 CAPABILITY\r\n"),
			send(repeatLines("* ", 40)),
		},
		manyLines: []step{
			send(greeting),
			expect("a1 CAPABILITY\r\n"),
			send(repeatLines("* ", 10)),
		},
	}
}

func pop3Transcript() transcript {
	const greeting = "+OK Dovecot (Debian) ready.\r\n"
	const capa = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n"
	return transcript{
		proto:  POP3,
		source: "Dovecot 2.3.19.1 pop3-login (Debian 12 dovecot-pop3d): ssl = yes for ok, ssl = no for notOffered and for refused's -ERR",
		ok: []step{
			send(greeting),
			expect("CAPA\r\n"),
			send(capa + "STLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
			expect("STLS\r\n"),
			send("+OK Begin TLS negotiation now.\r\n"),
		},
		notOffered: []step{
			send(greeting),
			expect("CAPA\r\n"),
			send(capa + "USER\r\nSASL PLAIN\r\n.\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("CAPA\r\n"),
			send(capa + "STLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
			expect("STLS\r\n"),
			send("-ERR TLS support isn't enabled.\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("+OK "))},
		flood: []step{
			send(greeting),
			expect("CAPA\r\n"),
			send("+OK\r\n" + repeatLines("X-", 40)),
		},
		manyLines: []step{
			send(greeting),
			expect("CAPA\r\n"),
			send("+OK\r\n" + repeatLines("X-", 10)),
		},
	}
}

func ftpTranscript() transcript {
	const greeting = "220 (vsFTPd 3.0.3)\r\n"
	return transcript{
		proto:  FTP,
		source: "vsftpd 3.0.3 (Debian 12 vsftpd): ssl_enable=YES for ok, ssl_enable=NO for notOffered (530); refused's 534 is RFC 4217 §6",
		ok: []step{
			send(greeting),
			expect("AUTH TLS\r\n"),
			send("234 Proceed with negotiation.\r\n"),
		},
		notOffered: []step{
			send(greeting),
			expect("AUTH TLS\r\n"),
			send("530 Please login with USER and PASS.\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("AUTH TLS\r\n"),
			send("534 Request denied for policy reasons.\r\n"),
		},
		// vsftpd's own answer when its config is unusable.
		garbage:    []step{send("500 OOPS: vsftpd: both local and anonymous access disabled!\r\n")},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("220 "))},
		flood:      []step{send("220-Welcome\r\n" + repeatLines("", 40))},
		manyLines:  []step{send("220-Welcome\r\n" + repeatLines("", 10))},
	}
}

// ldapStartTLSExpect is the request Negotiate must send, as slapd reads it.
const ldapStartTLSExpect = "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + ldapStartTLSOID

func ldapTranscript() transcript {
	return transcript{
		proto: LDAP,
		source: "OpenLDAP slapd 2.5.13 (Debian 12 slapd): TLSCertificateFile set for ok, unset for notOffered " +
			"(protocolError 2); refused's unavailable (52) is RFC 4511 §4.14.2",
		ok: []step{
			expect(ldapStartTLSExpect),
			send("\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),
		},
		notOffered: []step{
			expect(ldapStartTLSExpect),
			send("\x30\x2a\x02\x01\x01\x78\x25\x0a\x01\x02\x04\x00\x04\x1eunsupported extended operation"),
		},
		refused: []step{
			expect(ldapStartTLSExpect),
			send("\x30\x1a\x02\x01\x01\x78\x15\x0a\x01\x34\x04\x00\x04\x0eTLS not ready."),
		},
		garbage: []step{
			expect(ldapStartTLSExpect),
			send(httpReply),
		},
		garbageErr: ErrBadReply,
		// A long-form length of 64 KiB, past the flood cap.
		flood: []step{
			expect(ldapStartTLSExpect),
			send("\x30\x84\x00\x01\x00\x00\x02\x01\x01" + strings.Repeat("\x00", 3000)),
		},
	}
}

// postgresSSLRequest is the 8-byte SSLRequest as the server reads it.
const postgresSSLRequest = "\x00\x00\x00\x08\x04\xd2\x16\x2f"

func postgresTranscript() transcript {
	return transcript{
		proto:  Postgres,
		source: "PostgreSQL 15.18 (Debian 12 postgresql-15): ssl=on for ok, ssl=off for notOffered",
		ok: []step{
			expect(postgresSSLRequest),
			send("S"),
		},
		notOffered: []step{
			expect(postgresSSLRequest),
			send("N"),
		},
		garbage: []step{
			expect(postgresSSLRequest),
			send(httpReply),
		},
		garbageErr: ErrBadReply,
	}
}

// mysqlPacket frames payload as a MySQL packet with sequence id seq.
func mysqlPacket(seq byte, payload string) string {
	var header [4]byte
	binary.LittleEndian.PutUint32(header[:], uint32(len(payload)))
	header[3] = seq
	return string(header[:]) + payload
}

// mysqlGreeting is MariaDB 10.11.19's HandshakeV10 packet (sequence id
// 0) as captured, with CLIENT_SSL set in the lower capability flags
// (0xf7fe without it); the flag bytes are the 20th and 21st after the
// version's NUL.
func mysqlGreeting(lowerFlags uint16) string {
	return mysqlPacket(0, "\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00"+
		"\x03\x00\x00\x00"+"UW7HFeK("+"\x00"+
		string([]byte{byte(lowerFlags), byte(lowerFlags >> 8)})+
		"\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00"+
		"&#zaUf\"r;m4Z\x00mysql_native_password\x00")
}

// mysqlSSLRequest is the 32-byte SSLRequest Negotiate sends.
func mysqlSSLRequest() string {
	return mysqlPacket(1, "\x01\x8a\x00\x00"+"\x00\x00\x00\x01"+"\x21"+strings.Repeat("\x00", 23))
}

func mysqlTranscript() transcript {
	return transcript{
		proto:  MySQL,
		source: "MariaDB 10.11.19 (Debian 12 mariadb-server-core): --ssl-cert set for ok (flags 0xfffe), unset for notOffered (0xf7fe)",
		ok: []step{
			send(mysqlGreeting(0xfffe)),
			expect(mysqlSSLRequest()),
		},
		notOffered: []step{
			send(mysqlGreeting(0xf7fe)),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		flood:      []step{send(mysqlPacket(0, "\x0a"+strings.Repeat("x", 3000)))},
	}
}

const (
	xmppClientHeader = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	xmppServerHeader = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>"
	xmppStartTLS     = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	xmppProceed      = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	// xmppFailure is RFC 6120 §5.4.2.2's refusal.
	xmppFailure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"
)

func xmppClientTranscript() transcript {
	const serverHeader = "<?xml version='1.0'?><stream:stream xml:lang='en' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='397f0339-b0fa-4f78-bbc7-2d28a3de93a6' from='localhost'>"
	const features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	return transcript{
		proto: XMPPClient,
		opts:  Options{ServerName: "localhost"},
		source: "Prosody 0.12.3 c2s (Debian 12 prosody): mod_tls with a certificate for ok, without mod_tls for notOffered; " +
			"refused's <failure/> is RFC 6120 §5.4.2.2",
		ok: []step{
			expect(xmppClientHeader),
			send(serverHeader + features),
			expect(xmppStartTLS),
			send(xmppProceed),
		},
		notOffered: []step{
			expect(xmppClientHeader),
			send(serverHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
		},
		refused: []step{
			expect(xmppClientHeader),
			send(serverHeader + features),
			expect(xmppStartTLS),
			send(xmppFailure),
		},
		garbage: []step{
			expect(xmppClientHeader),
			send(httpReply),
		},
		garbageErr: ErrBadGreeting,
		flood: []step{
			expect(xmppClientHeader),
			send(serverHeader + "<stream:features>" + strings.Repeat("<feature xmlns='urn:example:padding'/>", 100)),
		},
	}
}

func xmppServerTranscript() transcript {
	const serverHeader = "<?xml version='1.0'?><stream:stream id='9d6b16a9-0368-4e85-a082-3e4dadcbe75a' xml:lang='en' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' xmlns:db='jabber:server:dialback' version='1.0' to='' from='localhost'>"
	const features = "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	return transcript{
		proto: XMPPServer,
		opts:  Options{ServerName: "localhost"},
		source: "Prosody 0.12.3 s2s (Debian 12 prosody); notOffered drops <starttls/> from its features; " +
			"refused's <failure/> is RFC 6120 §5.4.2.2",
		ok: []step{
			expect(xmppServerHeader),
			send(serverHeader + features),
			expect(xmppStartTLS),
			send(xmppProceed),
		},
		notOffered: []step{
			expect(xmppServerHeader),
			send(serverHeader + "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>"),
		},
		refused: []step{
			expect(xmppServerHeader),
			send(serverHeader + features),
			expect(xmppStartTLS),
			send(xmppFailure),
		},
		garbage: []step{
			expect(xmppServerHeader),
			send(httpReply),
		},
		garbageErr: ErrBadGreeting,
		flood: []step{
			expect(xmppServerHeader),
			send(serverHeader + "<stream:features>" + strings.Repeat("<feature xmlns='urn:example:padding'/>", 100)),
		},
	}
}

func nntpTranscript() transcript {
	const greeting = "200 NNTP Service Ready\r\n"
	const capabilities = "101 Capability list:\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nLIST ACTIVE NEWSGROUPS\r\n"
	return transcript{
		proto: NNTP,
		source: "written after RFC 4642 §2.2 (STARTTLS, 382 and 580) and RFC 3977 §5.2 (CAPABILITIES), " +
			"not captured: INN 2.7, Debian's only NNTP server with STARTTLS, does not install on a host " +
			"whose name does not resolve, and its nnrpd would not serve from a temp dir",
		ok: []step{
			send(greeting),
			expect("CAPABILITIES\r\n"),
			send(capabilities + "STARTTLS\r\n.\r\n"),
			expect("STARTTLS\r\n"),
			send("382 Continue with TLS negotiation\r\n"),
		},
		notOffered: []step{
			send(greeting),
			expect("CAPABILITIES\r\n"),
			send(capabilities + ".\r\n"),
		},
		refused: []step{
			send(greeting),
			expect("CAPABILITIES\r\n"),
			send(capabilities + "STARTTLS\r\n.\r\n"),
			expect("STARTTLS\r\n"),
			send("580 Can not initiate TLS negotiation\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("200 "))},
		flood: []step{
			send(greeting),
			expect("CAPABILITIES\r\n"),
			send("101 Capability list:\r\n" + repeatLines("X-", 40)),
		},
		manyLines: []step{
			send(greeting),
			expect("CAPABILITIES\r\n"),
			send("101 Capability list:\r\n" + repeatLines("X-", 10)),
		},
	}
}

func sieveTranscript() transcript {
	const capabilities = "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n" +
		"\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress comparator-i;ascii-numeric relational regex imap4flags copy include variables body enotify environment mailbox date index ihave duplicate mime foreverypart extracttext\"\r\n" +
		"\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"PLAIN\"\r\n"
	return transcript{
		proto:  Sieve,
		source: "Dovecot 2.3.19.1 Pigeonhole managesieve-login (Debian 12 dovecot-managesieved): ssl = yes for ok, ssl = no for notOffered and for refused's NO",
		ok: []step{
			send(capabilities + "\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot (Debian) ready.\"\r\n"),
			expect("STARTTLS\r\n"),
			send("OK \"Begin TLS negotiation now.\"\r\n"),
		},
		notOffered: []step{
			send(capabilities + "\"VERSION\" \"1.0\"\r\nOK \"Dovecot (Debian) ready.\"\r\n"),
		},
		refused: []step{
			send(capabilities + "\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot (Debian) ready.\"\r\n"),
			expect("STARTTLS\r\n"),
			send("NO \"TLS support isn't enabled.\"\r\n"),
		},
		garbage:    []step{send(httpReply)},
		garbageErr: ErrBadGreeting,
		longLine:   []step{send(longLine("\"SIEVE\" "))},
		flood:      []step{send(repeatLines("\"X-", 40))},
		manyLines:  []step{send(repeatLines("\"X-", 10))},
	}
}

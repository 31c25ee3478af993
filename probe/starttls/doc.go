// Package starttls runs the plain-text dialogue that comes before a TLS
// handshake on services that upgrade a connection in place: SMTP and LMTP,
// IMAP, POP3, FTP, LDAP, PostgreSQL, MySQL, XMPP, NNTP and ManageSieve.
//
// Negotiate takes a connected net.Conn and leaves it positioned at the
// byte where the client's TLS ClientHello must go, so the caller wraps it
// in tls.Client and sees the same handshake, and the same OCSP staple, as
// on a direct-TLS port. ProtocolForScheme maps URL schemes to a protocol
// and its default port, and names the schemes that speak TLS at once.
//
// Every read is bounded by the context's deadline, by a cap on line
// length, by a cap on the lines of one reply and by a cap on the total
// bytes read. Failures are typed: a server that does not offer or refuses
// STARTTLS yields *RefusedError; everything else is a *DialogueError whose
// cause is matched with errors.Is against the Err* values of this package,
// context.DeadlineExceeded or context.Canceled. Reply text kept in errors
// is sanitised and truncated, for people to read; it is never meant to be
// a metric label.
package starttls

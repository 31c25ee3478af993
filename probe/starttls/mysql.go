package starttls

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// MySQL capability flags (MySQL client/server protocol, "Capabilities").
const (
	mysqlClientLongPassword     = 0x00000001
	mysqlClientProtocol41       = 0x00000200
	mysqlClientSSL              = 0x00000800
	mysqlClientSecureConnection = 0x00008000
	// mysqlCharsetUTF8 is utf8_general_ci, which every server knows.
	mysqlCharsetUTF8 = 33
)

// MySQL and MariaDB: the server speaks first with a HandshakeV10 packet
// whose capability flags must include CLIENT_SSL; the client answers with
// a 32-byte SSLRequest packet and starts TLS without waiting for a reply.
func mysqlDialogue(s *session) error {
	payload, err := s.readMySQLPacket("greeting")
	if err != nil {
		return err
	}
	capabilities, err := parseMySQLGreeting(payload)
	if err != nil {
		return s.fail("greeting", fmt.Errorf("%w: %w", ErrBadGreeting, err), string(payload[:min(len(payload), 128)]))
	}
	if capabilities&mysqlClientSSL == 0 {
		return s.refused(false, fmt.Sprintf("capability flags %#08x lack CLIENT_SSL", capabilities))
	}
	var request [4 + 32]byte
	request[0] = 32 // payload length, 3 bytes little-endian
	request[3] = 1  // sequence id: the greeting was 0
	binary.LittleEndian.PutUint32(request[4:8], mysqlClientLongPassword|mysqlClientProtocol41|mysqlClientSSL|mysqlClientSecureConnection)
	binary.LittleEndian.PutUint32(request[8:12], 1<<24) // max packet size
	request[12] = mysqlCharsetUTF8
	// request[13:36] is the 23-byte zero filler.
	return s.write("SSLRequest", request[:])
}

// readMySQLPacket reads one packet: a 3-byte little-endian payload length,
// a sequence id, and the payload.
func (s *session) readMySQLPacket(step string) ([]byte, error) {
	var header [4]byte
	if err := s.readFull(step, header[:]); err != nil {
		return nil, err
	}
	if step == "greeting" && header[3] != 0 {
		return nil, s.fail(step, fmt.Errorf("%w: sequence id %d", ErrBadGreeting, header[3]))
	}
	n := int(header[0]) | int(header[1])<<8 | int(header[2])<<16
	if n > s.opts.MaxBytes {
		return nil, s.fail(step, ErrTooManyBytes)
	}
	payload := make([]byte, n)
	if err := s.readFull(step, payload); err != nil {
		return nil, err
	}
	return payload, nil
}

// parseMySQLGreeting returns the capability flags of a HandshakeV10
// payload. An ERR packet (0xff), which a server sends instead of a
// greeting to a host it will not serve, is an error carrying its message.
func parseMySQLGreeting(p []byte) (uint32, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("empty packet")
	}
	if p[0] == 0xff {
		msg := p[1:]
		if len(msg) >= 2 {
			msg = msg[2:] // error code
		}
		return 0, fmt.Errorf("ERR packet: %s", sanitize(string(msg)))
	}
	if p[0] != 10 {
		return 0, fmt.Errorf("protocol version %d, want 10", p[0])
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		return 0, fmt.Errorf("server version is not NUL-terminated")
	}
	rest := p[1+end+1:]
	// connection id (4), auth-plugin-data part 1 (8), filler (1).
	if len(rest) < 4+8+1+2 {
		return 0, fmt.Errorf("greeting too short for capability flags")
	}
	rest = rest[13:]
	capabilities := uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2:]
	// character set (1) and status flags (2) precede the upper flags.
	if len(rest) >= 5 {
		capabilities |= uint32(binary.LittleEndian.Uint16(rest[3:])) << 16
	}
	if capabilities&mysqlClientProtocol41 == 0 {
		return 0, fmt.Errorf("server predates protocol 4.1 (capability flags %#08x)", capabilities)
	}
	return capabilities, nil
}

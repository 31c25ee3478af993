package starttls

import (
	"encoding/binary"
)

// sslRequestCode is PostgreSQL's SSLRequest code: 1234 in the high 16
// bits and 5679 in the low 16, chosen to collide with no protocol version.
const sslRequestCode = 80877103

// PostgreSQL's SSLRequest (protocol docs, "SSL Session Encryption"): an
// 8-byte message, answered by one byte, 'S' to go ahead or 'N' to refuse.
func postgresDialogue(s *session) error {
	var request [8]byte
	binary.BigEndian.PutUint32(request[0:4], 8)
	binary.BigEndian.PutUint32(request[4:8], sslRequestCode)
	if err := s.write("SSLRequest", request[:]); err != nil {
		return err
	}
	var answer [1]byte
	if err := s.readFull("SSLRequest", answer[:]); err != nil {
		return err
	}
	switch answer[0] {
	case 'S':
		return nil
	case 'N':
		return s.refused(false, "N")
	}
	// 'E' is an ErrorResponse from a server too old for SSLRequest, and
	// anything else is not PostgreSQL.
	return s.fail("SSLRequest", ErrBadReply, string(answer[:]))
}

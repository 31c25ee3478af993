package starttls

import (
	"fmt"
)

// ldapStartTLSOID names the StartTLS extended operation (RFC 4511 §4.14).
const ldapStartTLSOID = "1.3.6.1.4.1.1466.20037"

// ldapStartTLSRequest is the whole LDAPMessage, BER by hand:
//
//	SEQUENCE { messageID 1, [APPLICATION 23] { [0] ldapStartTLSOID } }
func ldapStartTLSRequest() []byte {
	return append([]byte{
		0x30, 0x1d, // LDAPMessage
		0x02, 0x01, 0x01, // messageID 1
		0x77, 0x18, // ExtendedRequest
		0x80, 0x16, // requestName
	}, ldapStartTLSOID...)
}

// BER tags the client reads.
const (
	berSequence      = 0x30
	berInteger       = 0x02
	berEnumerated    = 0x0a
	berOctetString   = 0x04
	ldapExtendedResp = 0x78 // [APPLICATION 24], constructed
)

// LDAP's StartTLS extended operation. The server says no with a non-zero
// resultCode: protocolError (2) from one that does not know the
// operation, unavailable (52) or similar from one that will not.
func ldapDialogue(s *session) error {
	if err := s.write("StartTLS", ldapStartTLSRequest()); err != nil {
		return err
	}
	message, err := s.readBERElement("StartTLS")
	if err != nil {
		return err
	}
	resp, err := parseLDAPExtendedResponse(message)
	if err != nil {
		return s.fail("StartTLS", fmt.Errorf("%w: %w", ErrBadReply, err))
	}
	if resp.resultCode != 0 {
		return s.refused(resp.resultCode != 2, fmt.Sprintf("resultCode %d: %s", resp.resultCode, resp.diagnosticMessage))
	}
	return nil
}

// readBERElement reads one whole definite-length BER element, tag and
// length included. The length may use the long form, non-minimally, as
// OpenLDAP's liblber writes it.
func (s *session) readBERElement(step string) ([]byte, error) {
	var head [2]byte
	if err := s.readFull(step, head[:]); err != nil {
		return nil, err
	}
	if head[0] != berSequence {
		return nil, s.fail(step, fmt.Errorf("%w: BER tag %#02x is not an LDAPMessage", ErrBadReply, head[0]))
	}
	element := head[:]
	length := int(head[1])
	if head[1] >= 0x80 {
		n := int(head[1] & 0x7f)
		if n == 0 || n > 4 {
			return nil, s.fail(step, fmt.Errorf("%w: BER length of %d bytes", ErrBadReply, n))
		}
		long := make([]byte, n)
		if err := s.readFull(step, long); err != nil {
			return nil, err
		}
		element = append(element, long...)
		length = 0
		for _, b := range long {
			length = length<<8 | int(b)
		}
	}
	if length < 0 || length > s.opts.MaxBytes {
		return nil, s.fail(step, ErrTooManyBytes)
	}
	body := make([]byte, length)
	if err := s.readFull(step, body); err != nil {
		return nil, err
	}
	return append(element, body...), nil
}

// ldapResult is the part of an ExtendedResponse the client needs.
type ldapResult struct {
	messageID         int64
	resultCode        int64
	diagnosticMessage string
}

// parseLDAPExtendedResponse parses an LDAPMessage holding the
// ExtendedResponse to message 1. A Notice of Disconnection (message 0) or
// any other operation is an error.
func parseLDAPExtendedResponse(b []byte) (ldapResult, error) {
	var r ldapResult
	tag, message, rest, err := berNext(b)
	if err != nil {
		return r, err
	}
	if tag != berSequence || len(rest) != 0 {
		return r, fmt.Errorf("not an LDAPMessage")
	}
	tag, id, message, err := berNext(message)
	if err != nil {
		return r, err
	}
	if tag != berInteger {
		return r, fmt.Errorf("messageID is not an INTEGER")
	}
	if r.messageID, err = berInt(id); err != nil {
		return r, err
	}
	tag, op, _, err := berNext(message) // controls may follow; ignored
	if err != nil {
		return r, err
	}
	if tag != ldapExtendedResp {
		return r, fmt.Errorf("protocolOp tag %#02x is not an ExtendedResponse", tag)
	}
	tag, code, op, err := berNext(op)
	if err != nil {
		return r, err
	}
	if tag != berEnumerated {
		return r, fmt.Errorf("resultCode is not ENUMERATED")
	}
	if r.resultCode, err = berInt(code); err != nil {
		return r, err
	}
	tag, _, op, err = berNext(op) // matchedDN
	if err != nil || tag != berOctetString {
		return r, fmt.Errorf("matchedDN missing")
	}
	tag, diag, _, err := berNext(op)
	if err != nil || tag != berOctetString {
		return r, fmt.Errorf("diagnosticMessage missing")
	}
	r.diagnosticMessage = sanitize(string(diag))
	if r.messageID != 1 {
		return r, fmt.Errorf("reply to message %d, not 1 (resultCode %d: %s)", r.messageID, r.resultCode, r.diagnosticMessage)
	}
	return r, nil
}

// berNext splits the first definite-length element off b, with a
// single-byte tag.
func berNext(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("truncated BER element")
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, fmt.Errorf("multi-byte BER tag")
	}
	length, b := int(b[1]), b[2:]
	if length >= 0x80 {
		n := length & 0x7f
		if n == 0 || n > 4 || len(b) < n {
			return 0, nil, nil, fmt.Errorf("bad BER length")
		}
		length = 0
		for _, c := range b[:n] {
			length = length<<8 | int(c)
		}
		b = b[n:]
	}
	if length < 0 || length > len(b) {
		return 0, nil, nil, fmt.Errorf("BER length %d past the end", length)
	}
	return tag, b[:length], b[length:], nil
}

// berInt decodes a two's complement INTEGER or ENUMERATED of up to 8
// bytes.
func berInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, fmt.Errorf("BER integer of %d bytes", len(b))
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

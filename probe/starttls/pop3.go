package starttls

import (
	"strings"
)

// POP3 (RFC 1939) with CAPA and STLS (RFC 2449, RFC 2595). A server that
// answers CAPA with -ERR predates RFC 2449; it is still asked for STLS.
func pop3Dialogue(s *session) error {
	greeting, err := s.readLine("greeting")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(greeting, "+OK") {
		return s.fail("greeting", ErrBadGreeting, greeting)
	}
	if err := s.command("CAPA", "CAPA"); err != nil {
		return err
	}
	status, err := s.readLine("CAPA")
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(status, "+OK"):
		capabilities, err := s.readDotTerminated("CAPA")
		if err != nil {
			return err
		}
		if !listOffers(capabilities, "STLS") {
			return s.refused(false, capabilities...)
		}
	case strings.HasPrefix(status, "-ERR"):
	default:
		return s.fail("CAPA", ErrBadReply, status)
	}
	if err := s.command("STLS", "STLS"); err != nil {
		return err
	}
	reply, err := s.readLine("STLS")
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(reply, "+OK"):
		return nil
	case strings.HasPrefix(reply, "-ERR"):
		return s.refused(status[0] == '+', reply)
	}
	return s.fail("STLS", ErrBadReply, reply)
}

// readDotTerminated reads the body of a POP3 or NNTP multi-line reply up
// to the line holding a single dot, undoing dot-stuffing.
func (s *session) readDotTerminated(step string) ([]string, error) {
	var lines []string
	for {
		line, err := s.readLine(step)
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		lines = append(lines, strings.TrimPrefix(line, "."))
		if len(lines) >= s.opts.MaxReplyLines {
			return nil, s.fail(step, ErrTooManyLines, lines[0])
		}
	}
}

// listOffers reports whether a capability list has a line whose first
// word is keyword, in any case.
func listOffers(lines []string, keyword string) bool {
	for _, line := range lines {
		first, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.EqualFold(first, keyword) {
			return true
		}
	}
	return false
}

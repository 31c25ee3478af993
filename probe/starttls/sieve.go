package starttls

import (
	"strings"
)

// ManageSieve (RFC 5804). The greeting is the capability list itself:
// quoted capability names, one a line, closed by an OK line.
func sieveDialogue(s *session) error {
	status, capabilities, err := s.readSieveResponse("greeting")
	if err != nil {
		return err
	}
	if status != "OK" {
		return s.fail("greeting", ErrBadGreeting, capabilities...)
	}
	if !sieveOffersSTARTTLS(capabilities) {
		return s.refused(false, capabilities...)
	}
	if err := s.command("STARTTLS", "STARTTLS"); err != nil {
		return err
	}
	status, lines, err := s.readSieveResponse("STARTTLS")
	if err != nil {
		return err
	}
	if status != "OK" {
		return s.refused(true, lines...)
	}
	return nil
}

// readSieveResponse reads lines up to one starting with OK, NO or BYE and
// returns that word and every line read.
func (s *session) readSieveResponse(step string) (status string, lines []string, err error) {
	for {
		line, err := s.readLine(step)
		if err != nil {
			return "", nil, err
		}
		lines = append(lines, line)
		word, _, _ := strings.Cut(line, " ")
		switch word = strings.ToUpper(word); word {
		case "OK", "NO", "BYE":
			return word, lines, nil
		}
		if !strings.HasPrefix(line, `"`) {
			return "", nil, s.badReply(step, lines...)
		}
		if len(lines) >= s.opts.MaxReplyLines {
			return "", nil, s.fail(step, ErrTooManyLines, lines[0])
		}
	}
}

// sieveOffersSTARTTLS looks for a capability line whose quoted name is
// STARTTLS.
func sieveOffersSTARTTLS(lines []string) bool {
	for _, line := range lines {
		name, _, _ := strings.Cut(strings.TrimPrefix(line, `"`), `"`)
		if strings.EqualFold(name, "STARTTLS") && strings.HasPrefix(line, `"`) {
			return true
		}
	}
	return false
}

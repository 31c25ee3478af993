package starttls

import (
	"strings"
)

// IMAP (RFC 9051, STARTTLS since RFC 2595). The client asks for
// CAPABILITY even when the greeting carries it, because a greeting's
// capability list is optional and may be partial.
func imapDialogue(s *session) error {
	greeting, err := s.readLine("greeting")
	if err != nil {
		return err
	}
	if !hasPrefixFold(greeting, "* OK") {
		// "* PREAUTH" would skip the not-authenticated state where
		// STARTTLS lives, and "* BYE" turns the client away.
		return s.fail("greeting", ErrBadGreeting, greeting)
	}
	status, untagged, err := s.imapCommand("CAPABILITY", "a1")
	if err != nil {
		return err
	}
	if status != "OK" {
		return s.fail("CAPABILITY", ErrBadReply, append(untagged, status)...)
	}
	if !imapOffersSTARTTLS(untagged) {
		return s.refused(false, untagged...)
	}
	status, untagged, err = s.imapCommand("STARTTLS", "a2")
	if err != nil {
		return err
	}
	if status != "OK" {
		return s.refused(true, untagged...)
	}
	return nil
}

// imapCommand sends "tag command" and reads untagged lines up to the
// tagged completion. status is OK, NO or BAD; the lines returned are the
// untagged ones followed by the tagged one.
func (s *session) imapCommand(command, tag string) (status string, lines []string, err error) {
	if err := s.command(command, tag+" "+command); err != nil {
		return "", nil, err
	}
	for {
		line, err := s.readLine(command)
		if err != nil {
			return "", nil, err
		}
		lines = append(lines, line)
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			status, _, _ = strings.Cut(rest, " ")
			status = strings.ToUpper(status)
			if status != "OK" && status != "NO" && status != "BAD" {
				return "", nil, s.fail(command, ErrBadReply, lines...)
			}
			return status, lines, nil
		}
		if !strings.HasPrefix(line, "* ") && !strings.HasPrefix(line, "+ ") {
			return "", nil, s.fail(command, ErrBadReply, lines...)
		}
		if len(lines) >= s.opts.MaxReplyLines {
			return "", nil, s.fail(command, ErrTooManyLines, lines[0])
		}
	}
}

// imapOffersSTARTTLS looks for STARTTLS in the untagged CAPABILITY lines.
func imapOffersSTARTTLS(lines []string) bool {
	for _, line := range lines {
		rest, ok := cutPrefixFold(line, "* CAPABILITY ")
		if !ok {
			continue
		}
		for _, atom := range strings.Fields(rest) {
			if strings.EqualFold(atom, "STARTTLS") {
				return true
			}
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	_, ok := cutPrefixFold(s, prefix)
	return ok
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

package starttls

import (
	"strings"
)

// SMTP (RFC 5321, STARTTLS in RFC 3207) and LMTP (RFC 2033), which
// differs only in saying LHLO where SMTP says EHLO.
func smtpDialogue(hello string) func(*session) error {
	return func(s *session) error {
		code, lines, err := s.readCodedReply("greeting")
		if err != nil {
			return err
		}
		if code != 220 {
			return s.fail("greeting", ErrBadGreeting, lines...)
		}
		if err := s.command(hello, hello+" "+s.opts.HeloName); err != nil {
			return err
		}
		code, lines, err = s.readCodedReply(hello)
		if err != nil {
			return err
		}
		if code != 250 {
			return s.fail(hello, ErrBadReply, lines...)
		}
		if !ehloOffersSTARTTLS(lines) {
			return s.refused(false, lines...)
		}
		if err := s.command("STARTTLS", "STARTTLS"); err != nil {
			return err
		}
		code, lines, err = s.readCodedReply("STARTTLS")
		if err != nil {
			return err
		}
		if code != 220 {
			return s.refused(true, lines...)
		}
		return nil
	}
}

// ehloOffersSTARTTLS looks for the STARTTLS keyword among the EHLO reply's
// extension lines; the first line is the server's greeting, not an
// extension.
func ehloOffersSTARTTLS(lines []string) bool {
	for _, line := range lines[1:] {
		_, _, text, _ := parseReplyLine(line)
		keyword, _, _ := strings.Cut(text, " ")
		if strings.EqualFold(keyword, "STARTTLS") {
			return true
		}
	}
	return false
}

// readCodedReply reads one SMTP-style reply: lines of a three-digit code
// followed by '-' on every line but the last, which has ' ' or nothing.
// Every line must carry the same code. NNTP and LMTP use it too.
func (s *session) readCodedReply(step string) (code int, lines []string, err error) {
	for {
		line, err := s.readLine(step)
		if err != nil {
			return 0, nil, err
		}
		lines = append(lines, line)
		c, more, _, ok := parseReplyLine(line)
		if !ok || (len(lines) > 1 && c != code) {
			return 0, nil, s.badReply(step, lines...)
		}
		code = c
		if !more {
			return code, lines, nil
		}
		if len(lines) >= s.opts.MaxReplyLines {
			return 0, nil, s.fail(step, ErrTooManyLines, lines[0])
		}
	}
}

// parseReplyLine splits "250-SIZE 1000" into 250, more=true and "SIZE
// 1000". ok is false when the line does not start with a reply code
// between 100 and 599 followed by '-', ' ' or the end of the line.
func parseReplyLine(line string) (code int, more bool, text string, ok bool) {
	if len(line) < 3 {
		return 0, false, "", false
	}
	for i := range 3 {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", false
		}
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if code < 100 || code > 599 {
		return 0, false, "", false
	}
	if len(line) == 3 {
		return code, false, "", true
	}
	switch line[3] {
	case '-':
		return code, true, line[4:], true
	case ' ':
		return code, false, line[4:], true
	}
	return 0, false, "", false
}

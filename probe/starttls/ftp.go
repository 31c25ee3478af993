package starttls

// FTP with AUTH TLS (RFC 4217). FEAT is optional in FTP, so the client
// sends AUTH TLS straight away and reads the answer.
func ftpDialogue(s *session) error {
	code, lines, err := s.readFTPReply("greeting")
	if err != nil {
		return err
	}
	if code != 220 {
		return s.fail("greeting", ErrBadGreeting, lines...)
	}
	if err := s.command("AUTH TLS", "AUTH TLS"); err != nil {
		return err
	}
	code, lines, err = s.readFTPReply("AUTH TLS")
	if err != nil {
		return err
	}
	if code != 234 {
		// 500/502/504 say the server does not know AUTH TLS; 431/534
		// say it knows and will not.
		return s.refused(code == 431 || code == 534, lines...)
	}
	return nil
}

// readFTPReply reads one FTP reply (RFC 959 §4.2): "ddd text", or a
// "ddd-" line, free-form lines, and a closing "ddd " line with the same
// code.
func (s *session) readFTPReply(step string) (int, []string, error) {
	first, err := s.readLine(step)
	if err != nil {
		return 0, nil, err
	}
	lines := []string{first}
	code, more, _, ok := parseReplyLine(first)
	if !ok {
		return 0, nil, s.badReply(step, first)
	}
	for more {
		if len(lines) >= s.opts.MaxReplyLines {
			return 0, nil, s.fail(step, ErrTooManyLines, first)
		}
		line, err := s.readLine(step)
		if err != nil {
			return 0, nil, err
		}
		lines = append(lines, line)
		if c, m, _, ok := parseReplyLine(line); ok && c == code && !m {
			more = false
		}
	}
	return code, lines, nil
}

package starttls

// NNTP (RFC 3977) with STARTTLS (RFC 4642). A server that does not know
// CAPABILITIES is still asked for STARTTLS.
func nntpDialogue(s *session) error {
	code, lines, err := s.readCodedReply("greeting")
	if err != nil {
		return err
	}
	if code != 200 && code != 201 {
		return s.fail("greeting", ErrBadGreeting, lines...)
	}
	if err := s.command("CAPABILITIES", "CAPABILITIES"); err != nil {
		return err
	}
	code, lines, err = s.readCodedReply("CAPABILITIES")
	if err != nil {
		return err
	}
	advertised := code == 101
	if advertised {
		capabilities, err := s.readDotTerminated("CAPABILITIES")
		if err != nil {
			return err
		}
		if !listOffers(capabilities, "STARTTLS") {
			return s.refused(false, capabilities...)
		}
	}
	if err := s.command("STARTTLS", "STARTTLS"); err != nil {
		return err
	}
	code, lines, err = s.readCodedReply("STARTTLS")
	if err != nil {
		return err
	}
	if code != 382 {
		return s.refused(advertised, lines...)
	}
	return nil
}

package starttls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// session is one dialogue: the conn, its bounded reader and the options.
type session struct {
	ctx   context.Context
	conn  net.Conn
	proto Protocol
	opts  Options
	r     *bufio.Reader
}

func newSession(ctx context.Context, conn net.Conn, proto Protocol, opts Options) *session {
	capped := &cappedReader{r: conn, left: opts.MaxBytes}
	return &session{ctx: ctx, conn: conn, proto: proto, opts: opts,
		r: bufio.NewReaderSize(capped, opts.MaxLineLength)}
}

// cappedReader fails with ErrTooManyBytes once left bytes have been read
// and more are wanted.
type cappedReader struct {
	r    io.Reader
	left int
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, ErrTooManyBytes
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

// badReply fails step for a reply that breaks the protocol: a bad
// greeting when it is the server's first words, a bad reply after.
func (s *session) badReply(step string, reply ...string) error {
	if step == "greeting" {
		return s.fail(step, ErrBadGreeting, reply...)
	}
	return s.fail(step, ErrBadReply, reply...)
}

// fail wraps err as a DialogueError of step, turning deadline and
// cancellation into the context's error so callers match those alone.
func (s *session) fail(step string, err error, reply ...string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrConnectionClosed
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The conn's deadline comes from ctx, and it can fire a hair
		// before ctx's own timer does. Real time is right here: it is
		// the clock the conn's deadline runs on.
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if dl, ok := s.ctx.Deadline(); ok && !time.Now().Before(dl) {
			err = context.DeadlineExceeded
		}
	}
	return &DialogueError{Protocol: s.proto, Step: step, Err: err, Reply: sanitize(reply...)}
}

func (s *session) refused(offered bool, reply ...string) error {
	return &RefusedError{Protocol: s.proto, Offered: offered, Reply: sanitize(reply...)}
}

// write sends p whole.
func (s *session) write(step string, p []byte) error {
	if _, err := s.conn.Write(p); err != nil {
		return s.fail(step, err)
	}
	return nil
}

// command sends line followed by CRLF.
func (s *session) command(step, line string) error {
	return s.write(step, []byte(line+"\r\n"))
}

// readLine reads one line, without its line ending. A bare LF ends a
// line too, since some servers send one.
func (s *session) readLine(step string) (string, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", s.fail(step, ErrLineTooLong, string(line[:min(len(line), 64)]))
	}
	if err != nil {
		return "", s.fail(step, err, string(line))
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	return string(line), nil
}

// readFull reads exactly len(p) bytes.
func (s *session) readFull(step string, p []byte) error {
	if _, err := io.ReadFull(s.r, p); err != nil {
		return s.fail(step, err)
	}
	return nil
}

// finish checks that nothing follows the server's go-ahead: the next
// bytes on the wire must be the server's answer to our ClientHello.
func (s *session) finish() error {
	if n := s.r.Buffered(); n > 0 {
		extra, _ := s.r.Peek(min(n, 64))
		return s.fail("after STARTTLS", ErrTrailingData, string(extra))
	}
	return nil
}

package starttls

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestScriptedDialogues plays each protocol's transcripts to Negotiate
// over loopback: the go-ahead, followed by a real TLS handshake that must
// see the server's staple, and every way a dialogue can fail.
func TestScriptedDialogues(t *testing.T) {
	now := time.Now()
	p := newPKI(t, now)
	for _, tr := range transcripts() {
		t.Run(string(tr.proto), func(t *testing.T) {
			t.Run("ok", func(t *testing.T) {
				srv := serveScript(t, p, tr.ok, true)
				conn, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
				if err != nil {
					t.Fatalf("Negotiate: %v", err)
				}
				p.checkStaple(t, p.handshake(t, conn).OCSPResponse)
			})
			t.Run("not offered", func(t *testing.T) {
				if tr.notOffered == nil {
					t.Fatalf("transcript has no notOffered dialogue")
				}
				srv := serveScript(t, p, tr.notOffered, false)
				_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
				checkRefused(t, err, tr.proto, false)
			})
			if tr.refused != nil {
				t.Run("refused", func(t *testing.T) {
					srv := serveScript(t, p, tr.refused, false)
					_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
					checkRefused(t, err, tr.proto, true)
				})
			}
			t.Run("garbage", func(t *testing.T) {
				srv := serveScript(t, p, tr.garbage, false)
				_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
				checkDialogueError(t, err, tr.proto, tr.garbageErr)
			})
			if tr.longLine != nil {
				t.Run("long line", func(t *testing.T) {
					srv := serveScript(t, p, tr.longLine, false)
					_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
					checkDialogueError(t, err, tr.proto, ErrLineTooLong)
				})
			}
			if tr.flood != nil {
				t.Run("byte cap", func(t *testing.T) {
					opts := tr.opts
					opts.MaxBytes = floodCap
					srv := serveScript(t, p, tr.flood, false)
					_, err := negotiate(t, srv.addr, tr.proto, opts, 5*time.Second)
					checkDialogueError(t, err, tr.proto, ErrTooManyBytes)
				})
			}
			if tr.manyLines != nil {
				t.Run("line count cap", func(t *testing.T) {
					opts := tr.opts
					opts.MaxReplyLines = manyLinesCap
					srv := serveScript(t, p, tr.manyLines, false)
					_, err := negotiate(t, srv.addr, tr.proto, opts, 5*time.Second)
					checkDialogueError(t, err, tr.proto, ErrTooManyLines)
				})
			}
			t.Run("silent server", func(t *testing.T) {
				// The server reads what the client sends and never
				// answers; the context's deadline must end the dialogue.
				srv := serveScript(t, p, nil, false)
				start := time.Now()
				_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 200*time.Millisecond)
				checkDialogueError(t, err, tr.proto, context.DeadlineExceeded)
				if took := time.Since(start); took > 3*time.Second {
					t.Fatalf("Negotiate took %s past a 200ms deadline", took)
				}
			})
			t.Run("data after go-ahead", func(t *testing.T) {
				script := append([]step(nil), tr.ok...)
				last := len(script) - 1
				for script[last].send == "" {
					last--
				}
				// For MySQL that is the greeting: nothing may follow it
				// before the client's SSLRequest either.
				script[last].send += "\x16\x03\x01 injected"
				srv := serveScript(t, p, script, false)
				_, err := negotiate(t, srv.addr, tr.proto, tr.opts, 5*time.Second)
				checkDialogueError(t, err, tr.proto, ErrTrailingData)
			})
		})
	}
}

func checkRefused(t *testing.T, err error, proto Protocol, offered bool) {
	t.Helper()
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v (%T), want *RefusedError", err, err)
	}
	if refused.Protocol != proto || refused.Offered != offered {
		t.Fatalf("RefusedError{Protocol: %q, Offered: %v}, want {%q, %v}", refused.Protocol, refused.Offered, proto, offered)
	}
	if refused.Reply == "" {
		t.Fatalf("RefusedError has no reply text")
	}
	t.Logf("%v", err)
}

func checkDialogueError(t *testing.T, err error, proto Protocol, want error) {
	t.Helper()
	var dialogue *DialogueError
	if !errors.As(err, &dialogue) {
		t.Fatalf("err = %v (%T), want *DialogueError", err, err)
	}
	if dialogue.Protocol != proto {
		t.Fatalf("DialogueError.Protocol = %q, want %q", dialogue.Protocol, proto)
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want one that is %v", err, want)
	}
	if len(dialogue.Reply) > maxReplyText+3 {
		t.Fatalf("reply text of %d bytes passes the cap", len(dialogue.Reply))
	}
	t.Logf("%v", err)
}

// TestNegotiateCancel checks that cancelling the context, not only its
// deadline, ends a blocked read.
func TestNegotiateCancel(t *testing.T) {
	p := newPKI(t, time.Now())
	srv := serveScript(t, p, nil, false)
	conn := dial(t, srv.addr)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := Negotiate(ctx, conn, SMTP, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestNegotiateClearsDeadline checks that the conn is left without the
// dialogue's deadline, so the caller's TLS handshake sets its own.
func TestNegotiateClearsDeadline(t *testing.T) {
	now := time.Now()
	p := newPKI(t, now)
	srv := serveScript(t, p, smtpTranscript().ok, true)
	conn := dial(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := Negotiate(ctx, conn, SMTP, Options{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the dialogue's deadline
	p.checkStaple(t, p.handshake(t, conn).OCSPResponse)
}

func TestNegotiateRejectsBadCalls(t *testing.T) {
	p := newPKI(t, time.Now())
	tests := []struct {
		name  string
		proto Protocol
		opts  Options
		want  error
	}{
		{
			name:  "unknown protocol",
			proto: "gopher",
			want:  ErrUnknownProtocol,
		},
		{
			name:  "xmpp without a server name",
			proto: XMPPClient,
			want:  ErrServerNameRequired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serveScript(t, p, nil, false)
			_, err := negotiate(t, srv.addr, tt.proto, tt.opts, 5*time.Second)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRefusedReplyIsSanitised checks that hostile reply text is made
// printable and short before it reaches an error.
func TestRefusedReplyIsSanitised(t *testing.T) {
	p := newPKI(t, time.Now())
	hostile := "454 \x1b[31mred\x1b[0m \xff\xfe " + strings.Repeat("z", 1000) + "\r\n"
	srv := serveScript(t, p, []step{
		send("220 ready\r\n"),
		expect("EHLO localhost\r\n"),
		send("250-ready\r\n250 STARTTLS\r\n"),
		expect("STARTTLS\r\n"),
		send(hostile),
	}, false)
	_, err := negotiate(t, srv.addr, SMTP, Options{}, 5*time.Second)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v, want *RefusedError", err)
	}
	if len(refused.Reply) > maxReplyText+3 {
		t.Fatalf("reply is %d bytes, want at most %d", len(refused.Reply), maxReplyText+3)
	}
	for _, r := range refused.Reply {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("reply %q holds %q", refused.Reply, r)
		}
	}
	if !strings.HasPrefix(refused.Reply, "454 ?[31mred?[0m ?? zzz") {
		t.Fatalf("reply = %q", refused.Reply)
	}
}

package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestGracefulShutdown sends SIGTERM to a running agent: it must stop
// serving, cancel its probes and exit 0 promptly.
func TestGracefulShutdown(t *testing.T) {
	agent := startAgent(t, "demo")
	start := time.Now()
	if err := agent.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	proc.WaitFor(t, 5*time.Second, "ocspwatch to exit after SIGTERM", agent.Exited)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if code := agent.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, agent.Output())
	}
	if out := agent.Output(); !strings.Contains(out, "shutting down") || !strings.Contains(out, "agent stopped") {
		t.Errorf("the log does not show a graceful shutdown:\n%s", out)
	}
}

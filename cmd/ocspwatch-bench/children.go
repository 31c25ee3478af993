package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// childEnv marks a process started by the benchmark itself. The test
// binary looks for it to act as the benchmark instead of running tests.
const childEnv = "OCSPWATCH_BENCH_CHILD"

// child prepares this same executable with a hidden subcommand.
func child(ctx context.Context, stderr io.Writer, args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// runJSON runs a child to completion and decodes the JSON it prints.
func runJSON(ctx context.Context, stderr io.Writer, out any, args ...string) error {
	cmd, err := child(ctx, stderr, args...)
	if err != nil {
		return err
	}
	stdout, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		return fmt.Errorf("%s printed %q: %w", args[0], stdout, err)
	}
	return nil
}

// serverProcess is the running `serve` child and its control pipe.
type serverProcess struct {
	cmd   *exec.Cmd
	ready serverReady

	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader
}

func startServerProcess(ctx context.Context, stderr io.Writer, f fleet, dir string) (*serverProcess, error) {
	cmd, err := child(ctx, stderr, append([]string{"serve", "--dir", dir}, f.args()...)...)
	if err != nil {
		return nil, err
	}
	s := &serverProcess{cmd: cmd}
	if s.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.out = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := s.out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &s.ready)
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("server process did not start: %v", err)
	}
	return s, nil
}

// handshakeCounts are the server's counters: handshakes completed, and
// distinct targets that completed one.
type handshakeCounts struct {
	Total, Distinct int64
}

func (s *serverProcess) count() (handshakeCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, "count\n"); err != nil {
		return handshakeCounts{}, err
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		return handshakeCounts{}, err
	}
	fields := strings.Fields(line)
	if len(fields) != 2 {
		return handshakeCounts{}, fmt.Errorf("server answered %q", line)
	}
	var c handshakeCounts
	if c.Total, err = strconv.ParseInt(fields[0], 10, 64); err != nil {
		return c, err
	}
	c.Distinct, err = strconv.ParseInt(fields[1], 10, 64)
	return c, err
}

// close ends the server by closing its stdin, then waits for it.
func (s *serverProcess) close() {
	_ = s.in.Close()
	_ = s.cmd.Wait()
}

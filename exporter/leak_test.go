package exporter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
)

// TestNoGoroutineLeaks runs a few thousand failing probes and a few
// hundred reloads, stops the agent, and checks that every goroutine it
// started has ended.
func TestNoGoroutineLeaks(t *testing.T) {
	// Registered first, so it runs last, after every other cleanup.
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	l := newLab(t)
	srv := l.server(t, time.Hour)
	closed := loopback.ClosedAddr(t)
	silent := loopback.Silent(t)
	base := l.target("www", srv.Addr, "") +
		"\n[[target]]\nname = \"closed\"\nendpoint = \"" + closed + "\"\nschedule = \"@every 1s\"\n" +
		"\n[[target]]\nname = \"silent\"\nendpoint = \"" + silent + "\"\ntimeout = \"500ms\"\nschedule = \"@every 1s\"\n"
	ra := startAgent(t, base, func() time.Time { return l.now })

	var wg sync.WaitGroup
	for worker := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				name := "closed"
				if worker == 0 {
					name = "silent"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				if _, _, err := ra.ProbeNow(ctx, name); err != nil {
					t.Error(err)
				}
				cancel()
			}
		}()
	}
	for i := range 200 {
		writeConfig(t, ra.path, base+fmt.Sprintf("\n[[target]]\nname = \"flap\"\nendpoint = \"%s\"\ntimeout = \"%dms\"\n", closed, 500+i))
		if err := ra.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	ra.stop()
}

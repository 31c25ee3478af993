package exporter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// reloadFleet is the size of the reload benchmarks: the bar is a
// reload under 200 ms at 50,000 targets when one of them changes.
const reloadFleet = 50000

// writeFleetTarget renders target i as an operator writes it; changed
// gives it another timeout.
func writeFleetTarget(b *strings.Builder, i int, caFile string, changed bool) {
	fmt.Fprintf(b, "\n[[target]]\nname = \"t%06d\"\nendpoint = \"127.1.%d.%d:8443\"\nserver_name = \"t%06d.bench.ocspwatch.test\"\nca_file = %q\n",
		i, i/250%250, i%250+1, i, caFile)
	if changed {
		b.WriteString("timeout = \"9s\"\n")
	}
}

// benchAgent builds an agent on path whose root context is already
// cancelled: apply and reload run in full, but no target is ever probed,
// so the benchmark measures the reload alone and dials nothing.
func benchAgent(b *testing.B, path string) *Agent {
	b.Helper()
	a, err := New(Options{ConfigFile: path})
	if err != nil {
		b.Fatal(err)
	}
	a.cancel()
	a.applyConfig(a.pending)
	a.pending = nil
	b.Cleanup(a.sched.stop)
	return a
}

func benchRoot(b *testing.B, dir string) string {
	b.Helper()
	root, err := testpki.NewRoot("bench root", testpki.ECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	caFile := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(caFile, root.PEM(), 0o644); err != nil {
		b.Fatal(err)
	}
	return caFile
}

// BenchmarkReload50kOneFile rewrites a single 50,000-target file with
// one target's timeout flipped and reloads: what a fleet in one file pays.
func BenchmarkReload50kOneFile(b *testing.B) {
	dir := b.TempDir()
	caFile := benchRoot(b, dir)
	path := filepath.Join(dir, "ocspwatch.toml")
	render := func(flip bool) []byte {
		var sb strings.Builder
		sb.WriteString("default_schedule = \"@every 1m\"\n")
		for i := range reloadFleet {
			writeFleetTarget(&sb, i, caFile, flip && i == 0)
		}
		return []byte(sb.String())
	}
	texts := [2][]byte{render(false), render(true)}
	if err := os.WriteFile(path, texts[0], 0o644); err != nil {
		b.Fatal(err)
	}
	a := benchAgent(b, path)
	flip := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		flip = 1 - flip
		if err := os.WriteFile(path, texts[flip], 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := a.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}

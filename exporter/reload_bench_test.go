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
func BenchmarkReload50kOneFile(b *testing.B) { benchmarkReloadOneFile(b, true) }

// BenchmarkReload50kOneFileUnchanged rewrites the same file unchanged:
// a SIGHUP, or a target file change next to a big main file.
func BenchmarkReload50kOneFileUnchanged(b *testing.B) { benchmarkReloadOneFile(b, false) }

func benchmarkReloadOneFile(b *testing.B, change bool) {
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
	texts := [2][]byte{render(false), render(change)}
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

// reloadFilesPerFleet splits the fleet one file per thousand targets.
const reloadFilesPerFleet = reloadFleet / 1000

// BenchmarkReload50kTargetFiles lays the fleet out as target files of a
// thousand targets each, flips one target's timeout in the first file
// and reloads: the issue-11 bar, under 200 ms.
func BenchmarkReload50kTargetFiles(b *testing.B) {
	dir := b.TempDir()
	caFile := benchRoot(b, dir)
	if err := os.Mkdir(filepath.Join(dir, "targets.d"), 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ocspwatch.toml")
	if err := os.WriteFile(path, []byte("default_schedule = \"@every 1m\"\ntarget_files = [\"targets.d/*.toml\"]\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	per := reloadFleet / reloadFilesPerFleet
	render := func(file int, flip bool) []byte {
		var sb strings.Builder
		for i := file * per; i < (file+1)*per; i++ {
			writeFleetTarget(&sb, i, caFile, flip && i == 0)
		}
		return []byte(sb.String())
	}
	fileName := func(file int) string { return filepath.Join(dir, "targets.d", fmt.Sprintf("%03d.toml", file)) }
	for f := range reloadFilesPerFleet {
		if err := os.WriteFile(fileName(f), render(f, false), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	texts := [2][]byte{render(0, false), render(0, true)}
	a := benchAgent(b, path)
	if n := len(a.sched.config().Targets); n != reloadFleet {
		b.Fatalf("%d targets loaded, want %d", n, reloadFleet)
	}
	flip := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		flip = 1 - flip
		if err := os.WriteFile(fileName(0), texts[flip], 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := a.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}

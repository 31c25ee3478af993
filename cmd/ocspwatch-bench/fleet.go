package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// nameDomain holds every target's SNI name; the leaves carry a wildcard
// for it, so each target has a name of its own and still verifies.
const nameDomain = "bench.ocspwatch.test"

// maxTargetFiles is the most target files the agent reads.
const maxTargetFiles = 10000

// maxAddresses keeps every address inside 127.1.0.0/16 with host parts
// 1..250 (x.y, never .0 or .255, which read like network addresses).
const maxAddresses = 250 * 256

// fleet is the layout both sides agree on: target i is named
// t<i>.bench.ocspwatch.test and served on address i mod addresses.
// Linux routes all of 127.0.0.0/8 to the loopback interface, so the
// addresses need no setup.
type fleet struct {
	Targets   int
	Addresses int
	Port      int
	Leaves    int
	// TargetFiles splits the targets over this many TOML target files,
	// which the main file names with target_files; 0 writes every target
	// in the main file.
	TargetFiles int
}

// targetsPerFile is the default layout: one target file per thousand
// targets, as a fleet generated per team or per service might be.
const targetsPerFile = 1000

// defaultTargetFiles is the number of target files for n targets.
func defaultTargetFiles(n int) int { return (n + targetsPerFile - 1) / targetsPerFile }

// addFlags registers the layout flags a child process receives.
func (f *fleet) addFlags(cmd *kingpin.CmdClause) {
	cmd.Flag("targets", "Number of targets.").Required().IntVar(&f.Targets)
	cmd.Flag("addresses", "Loopback addresses to spread the targets over.").Required().IntVar(&f.Addresses)
	cmd.Flag("port", "Port every address listens on.").IntVar(&f.Port)
	cmd.Flag("leaves", "Distinct leaf certificates, assigned round-robin.").Default("1").IntVar(&f.Leaves)
	cmd.Flag("target-files", "TOML target files the targets are split over; 0 puts them all in the main file.").IntVar(&f.TargetFiles)
}

func (f fleet) args() []string {
	return []string{
		"--targets", strconv.Itoa(f.Targets),
		"--addresses", strconv.Itoa(f.Addresses),
		"--port", strconv.Itoa(f.Port),
		"--leaves", strconv.Itoa(f.Leaves),
		"--target-files", strconv.Itoa(f.TargetFiles),
	}
}

func (f fleet) validate() error {
	switch {
	case f.Targets < 1:
		return fmt.Errorf("--targets must be at least 1")
	case f.Addresses < 1 || f.Addresses > maxAddresses:
		return fmt.Errorf("--addresses must be between 1 and %d", maxAddresses)
	case f.Leaves < 1:
		return fmt.Errorf("--leaves must be at least 1")
	case f.TargetFiles < 0 || f.TargetFiles > maxTargetFiles:
		return fmt.Errorf("--target-files must be between 0 and %d", maxTargetFiles)
	}
	return nil
}

// listenAddresses is how many addresses are in use: no more than targets.
func (f fleet) listenAddresses() int { return min(f.Targets, f.Addresses) }

// ip returns the a-th loopback address, 127.1.0.1 onwards.
func ip(a int) string {
	return net.IPv4(127, 1, byte(a/250), byte(a%250+1)).String()
}

func targetName(i int) string { return fmt.Sprintf("t%06d", i) }

func (f fleet) serverName(i int) string { return targetName(i) + "." + nameDomain }

func (f fleet) endpoint(i int) string {
	return net.JoinHostPort(ip(i%f.listenAddresses()), strconv.Itoa(f.Port))
}

// index maps an SNI name back to its target.
func (f fleet) index(serverName string) (int, bool) {
	label, ok := strings.CutSuffix(serverName, "."+nameDomain)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimPrefix(label, "t"))
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// leafFor is the leaf a server name is served with.
func (f fleet) leafFor(serverName string) int {
	i, _ := f.index(serverName)
	return i % f.Leaves
}

// configOptions shape the agent's configuration file.
type configOptions struct {
	RootFile       string
	Schedule       time.Duration
	QueryResponder bool
	// ChangedTarget, when >= 0, gets a different timeout, so a reload
	// sees exactly one changed target.
	ChangedTarget int
	// AllowLoopback writes a [network] table that lets certificates name
	// the loopback responder, for agents whose network policy denies
	// loopback addresses that come from remote input.
	AllowLoopback bool
}

// config renders the agent's TOML with every target in it: one
// [[target]] per member, as an operator would write it.
func (f fleet) config(o configOptions) []byte {
	var b strings.Builder
	f.writeHeader(&b, o)
	for i := range f.Targets {
		f.writeTarget(&b, i, o)
	}
	return []byte(b.String())
}

func (f fleet) writeHeader(b *strings.Builder, o configOptions) {
	fmt.Fprintf(b, "# Written by ocspwatch-bench: %d targets on %d loopback addresses.\n", f.Targets, f.listenAddresses())
	fmt.Fprintf(b, "region = \"bench\"\ndefault_schedule = \"@every %s\"\ndefault_timeout = \"10s\"\n", o.Schedule)
	if o.AllowLoopback {
		b.WriteString("\n# The responder the certificates name is on loopback.\n[network]\nallow = [\"127.0.0.0/8\"]\n")
	}
}

func (f fleet) writeTarget(b *strings.Builder, i int, o configOptions) {
	fmt.Fprintf(b, "\n[[target]]\nname = %q\nendpoint = %q\nserver_name = %q\nca_file = %q\nquery_responder = %t\n",
		targetName(i), f.endpoint(i), f.serverName(i), o.RootFile, o.QueryResponder)
	if i == o.ChangedTarget {
		b.WriteString("timeout = \"9s\"\n")
	}
}

// mainFile is the configuration file's name in the agent's directory.
const mainFile = "ocspwatch.toml"

// layout is the configuration as files, by path relative to the agent's
// directory: the main file alone, or the main file naming
// targets.d/*.toml and the targets split evenly over f.TargetFiles files
// in order, so that changing one target changes one file.
func (f fleet) layout(o configOptions) map[string][]byte {
	if f.TargetFiles == 0 {
		return map[string][]byte{mainFile: f.config(o)}
	}
	var b strings.Builder
	// target_files is a top-level key, so it goes before any table.
	b.WriteString("target_files = [\"targets.d/*.toml\"]\n")
	f.writeHeader(&b, o)
	files := map[string][]byte{mainFile: []byte(b.String())}
	per := (f.Targets + f.TargetFiles - 1) / f.TargetFiles
	for k := range f.TargetFiles {
		b.Reset()
		for i := k * per; i < min((k+1)*per, f.Targets); i++ {
			f.writeTarget(&b, i, o)
		}
		files[filepath.Join("targets.d", fmt.Sprintf("%05d.toml", k))] = []byte(b.String())
	}
	return files
}

// writeLayout writes the layout under dir. Unless rewrite is set, it
// leaves alone the files whose bytes are already there, as an operator
// changing one target would.
func (f fleet) writeLayout(dir string, o configOptions, rewrite bool) error {
	if err := os.MkdirAll(filepath.Join(dir, "targets.d"), 0o755); err != nil {
		return err
	}
	for name, data := range f.layout(o) {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); !rewrite && err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

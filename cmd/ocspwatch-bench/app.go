package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 2
)

// command is one subcommand: it registers its flags, then runs.
type command interface {
	register(app *kingpin.Application) *kingpin.CmdClause
	run(stdin io.Reader, stdout, stderr io.Writer) int
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New("ocspwatch-bench", "Load benchmark for the ocspwatch agent: CPU per probe against a bare handshake, probe rate, memory, scrape and reload, at several fleet sizes.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(nil)
	app.HelpFlag.Short('h')
	commands := map[string]command{}
	for _, c := range []command{&benchCommand{}, &measureCommand{}, &serveCommand{}, &floorCommand{}, &scrapeCommand{}} {
		commands[c.register(app).FullCommand()] = c
	}
	selected, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench: %v\n", err)
		return exitError
	}
	if selected == "" || helpRequested(args) {
		return exitOK
	}
	return commands[selected].run(stdin, stdout, stderr)
}

// helpRequested reports a help flag: kingpin, told not to exit, prints the
// help and still returns the default command.
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--help", "-h", "--help-long", "--help-man":
			return true
		case "--":
			return false
		}
	}
	return false
}

// benchCommand is the default: one measuring process per fleet size,
// then the tables.
type benchCommand struct {
	targets        string
	duration       time.Duration
	schedule       time.Duration
	quick          bool
	queryResponder bool
	fleet          fleet
	concurrency    int
	jsonFile       string
	profileDir     string
	floorPaced     bool
	// targetFiles is "auto" (one target file per thousand targets) or a
	// number of files, 0 for every target in the main file.
	targetFiles string

	targetsSet, durationSet, scheduleSet bool
}

func (c *benchCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("run", "Run the load benchmark (the default command).").Default()
	cmd.Flag("targets", "Fleet sizes, comma-separated; one size is fine.").Default("1000,10000,50000").IsSetByUser(&c.targetsSet).StringVar(&c.targets)
	cmd.Flag("duration", "Steady-state measurement per size: 3 rounds of an agent window and a floor window, each duration/6.").Default("2m").IsSetByUser(&c.durationSet).DurationVar(&c.duration)
	cmd.Flag("schedule", "Every target's schedule, written as \"@every <schedule>\".").Default("1m").IsSetByUser(&c.scheduleSet).DurationVar(&c.schedule)
	cmd.Flag("quick", "A short run: 200 targets, 20s, every 10s (flags given explicitly win).").BoolVar(&c.quick)
	cmd.Flag("query-responder", "Targets also query the OCSP responder (--no-query-responder for staples only).").Default("true").BoolVar(&c.queryResponder)
	cmd.Flag("addresses", "Loopback addresses 127.1.x.y to spread targets over; each serves many SNI names.").Default("1000").IntVar(&c.fleet.Addresses)
	cmd.Flag("leaves", "Distinct leaf certificates, assigned to targets round-robin.").Default("1").IntVar(&c.fleet.Leaves)
	cmd.Flag("target-files", "TOML target files to split the targets over (target_files); auto is one per 1,000 targets, 0 puts every target in the main file. With target files, reloads are also timed with every target in the main file.").Default("auto").StringVar(&c.targetFiles)
	cmd.Flag("concurrency", "Raw-floor handshakes in flight at most (the agent's default max_concurrent_probes).").Default("32").IntVar(&c.concurrency)
	cmd.Flag("floor-paced", "Pace the raw floor at the agent's scheduled rate instead of running it flat out.").BoolVar(&c.floorPaced)
	cmd.Flag("json", "Also write the results, per round, to this JSON file.").PlaceHolder("FILE").StringVar(&c.jsonFile)
	cmd.Flag("profile-dir", "Write the agent's CPU profile of the rounds (cpu-N.pprof) and its heap profile (heap-N.pprof) here.").PlaceHolder("DIR").StringVar(&c.profileDir)
	return cmd
}

func (c *benchCommand) run(_ io.Reader, stdout, stderr io.Writer) int {
	if c.quick {
		if !c.targetsSet {
			c.targets = "200"
		}
		if !c.durationSet {
			c.duration = 20 * time.Second
		}
		if !c.scheduleSet {
			c.schedule = 10 * time.Second
		}
	}
	sizes, err := parseSizes(c.targets)
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench: --targets: %v\n", err)
		return exitError
	}
	if c.schedule < time.Second || c.duration < time.Duration(2*rounds)*time.Second {
		fmt.Fprintf(stderr, "ocspwatch-bench: --schedule must be at least 1s and --duration at least %ds\n", 2*rounds)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var results []*result
	for _, n := range sizes {
		f := c.fleet
		f.Targets = n
		if f.TargetFiles, err = parseTargetFiles(c.targetFiles, n); err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench: --target-files: %v\n", err)
			return exitError
		}
		if err := f.validate(); err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench: %v\n", err)
			return exitError
		}
		responder := "--query-responder"
		if !c.queryResponder {
			responder = "--no-query-responder"
		}
		args := append([]string{"measure",
			"--duration", c.duration.String(),
			"--schedule", c.schedule.String(),
			"--concurrency", strconv.Itoa(c.concurrency),
			responder}, f.args()...)
		if c.floorPaced {
			args = append(args, "--floor-paced")
		}
		if c.profileDir != "" {
			dir, err := filepath.Abs(c.profileDir)
			if err == nil {
				err = os.MkdirAll(dir, 0o755)
			}
			if err != nil {
				fmt.Fprintf(stderr, "ocspwatch-bench: --profile-dir: %v\n", err)
				return exitError
			}
			args = append(args, "--profile-dir", dir)
		}
		var r result
		if err := runJSON(ctx, stderr, &r, args...); err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench: %d targets: %v\n", n, err)
			return exitError
		}
		results = append(results, &r)
	}
	printReport(stdout, results)
	if c.jsonFile != "" {
		data, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			err = os.WriteFile(c.jsonFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench: --json: %v\n", err)
			return exitError
		}
	}
	return exitOK
}

// parseTargetFiles reads --target-files for a fleet of n targets.
func parseTargetFiles(s string, n int) (int, error) {
	if s == "auto" {
		return defaultTargetFiles(n), nil
	}
	files, err := strconv.Atoi(s)
	if err != nil || files < 0 {
		return 0, fmt.Errorf("%q is not auto nor a number of files (0 for none)", s)
	}
	return files, nil
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for field := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(field, "_", "")))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number of targets", field)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

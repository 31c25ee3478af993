package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitProblem = 1
	exitError   = 2
)

// command is one subcommand: it registers its flags, then runs.
type command interface {
	register(app *kingpin.Application) *kingpin.CmdClause
	run(stdout, stderr io.Writer) int
}

// newApp builds the command line; the docs test reads its model.
func newApp(stdout, stderr io.Writer) (*kingpin.Application, map[string]command) {
	app := kingpin.New("ocspwatch", "Synthetic OCSP monitoring: stapled responses, OCSP responders, Prometheus metrics.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Terminate(nil)
	app.HelpFlag.Short('h')
	app.Version(version.Print("ocspwatch"))
	commands := map[string]command{}
	for _, c := range []command{&agentCommand{}, &checkCommand{}, &checkConfigCommand{}, &demoCommand{}, &versionCommand{}, &lintCommand{}} {
		clause := c.register(app)
		commands[clause.FullCommand()] = c
	}
	return app, commands
}

func run(args []string, stdout, stderr io.Writer) int {
	version.Version = buildVersion()
	if version.Revision == "" {
		version.Revision = buildRevision()
	}
	app, commands := newApp(stdout, stderr)
	selected, err := app.Parse(args)
	if err != nil {
		if nagiosRequested(args) {
			// A plugin's usage error is UNKNOWN, on stdout, where the
			// monitoring system reads it.
			fmt.Fprintf(stdout, "OCSP UNKNOWN - %s\n", nagiosText(err.Error()))
			return int(sevUnknown)
		}
		fmt.Fprintf(stderr, "ocspwatch: %s\n", oneLine(err.Error()))
		return exitError
	}
	if selected == "" || helpRequested(args) || versionRequested(args) {
		return exitOK
	}
	return commands[selected].run(stdout, stderr)
}

func helpRequested(args []string) bool {
	for _, a := range args {
		if a == "--help" || a == "-h" || a == "--help-long" || a == "--help-man" {
			return true
		}
		if a == "--" {
			return false
		}
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type versionCommand struct{}

func (v *versionCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	return app.Command("version", "Print the version and exit.")
}

func (v *versionCommand) run(stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, version.Print("ocspwatch"))
	return exitOK
}

// versionRequested: kingpin prints the version for --version but, with
// Terminate(nil), goes on to select the default command; the version is
// all that was asked for.
func versionRequested(args []string) bool {
	for _, a := range args {
		if a == "--version" {
			return true
		}
		if a == "--" {
			return false
		}
	}
	return false
}

// nagiosRequested tells a usage error meant for a monitoring system,
// which must be UNKNOWN (exit 3), from one meant for a person.
func nagiosRequested(args []string) bool {
	for i, a := range args {
		if a == "--output=nagios" || (a == "--output" && i+1 < len(args) && args[i+1] == "nagios") {
			return true
		}
		if a == "--" {
			return false
		}
	}
	return false
}

package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// kingpin's own enum, duration and file values report bad input without
// naming the flag; these do, so a typo gets a one-line error that says
// which flag to fix.

type enumFlag struct {
	name    string
	allowed []string
	target  *string
}

func (f *enumFlag) Set(s string) error {
	if !slices.Contains(f.allowed, s) {
		return fmt.Errorf("--%s: %q is not one of %s", f.name, s, strings.Join(f.allowed, ", "))
	}
	*f.target = s
	return nil
}

func (f *enumFlag) String() string { return *f.target }

type durationFlag struct {
	name   string
	target *time.Duration
}

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("--%s: %q is not a positive duration such as 10s or 1m", f.name, s)
	}
	*f.target = d
	return nil
}

func (f *durationFlag) String() string { return f.target.String() }

type fileFlag struct {
	name   string
	target *string
}

func (f *fileFlag) Set(s string) error {
	info, err := os.Stat(s)
	switch {
	case err != nil:
		return fmt.Errorf("--%s: %w", f.name, err)
	case info.IsDir():
		return fmt.Errorf("--%s: %s is a directory, not a file", f.name, s)
	}
	*f.target = s
	return nil
}

func (f *fileFlag) String() string { return *f.target }

func enumVar(cmd *kingpin.CmdClause, name, help, def string, target *string, allowed ...string) {
	*target = def
	cmd.Flag(name, help+" One of: "+strings.Join(allowed, ", ")+".").Default(def).SetValue(&enumFlag{name: name, allowed: allowed, target: target})
}

func durationVar(cmd *kingpin.CmdClause, name, help, def string, target *time.Duration) {
	cmd.Flag(name, help).Default(def).SetValue(&durationFlag{name: name, target: target})
}

func fileVar(cmd *kingpin.CmdClause, name, help string, target *string) *kingpin.FlagClause {
	f := cmd.Flag(name, help).PlaceHolder("FILE")
	f.SetValue(&fileFlag{name: name, target: target})
	return f
}

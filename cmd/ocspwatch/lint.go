package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/lint"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// Bounds on what lint reads: a bundle is a few kilobytes, and a directory
// of them a few hundred files at most.
const (
	maxBundleBytes = 1 << 20
	maxBundles     = 1000
)

// lintCommand checks certificate bundles before they are deployed, for
// CI: offline unless --online asks the responders too.
type lintCommand struct {
	paths   []string
	keyFile string
	hosts   []string
	warn    time.Duration
	crit    time.Duration
	require string
	online  bool
	timeout time.Duration
	output  string
	strict  bool
}

func (c *lintCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("lint", "Check certificate bundles before deploy: chain order, the leaf, revocation URLs and the key. Exit 1 on a critical finding.")
	cmd.Arg("path", "Bundle files (PEM, leaf first, then the chain; or one DER certificate), or directories to walk for *.pem and *.crt.").StringsVar(&c.paths)
	fileVar(cmd, "key", "PEM private key that must belong to the leaf; needs exactly one bundle. A key inside a bundle is checked too.", &c.keyFile)
	cmd.Flag("host", "Host name or IP address the leaf must cover; repeatable.").PlaceHolder("NAME").StringsVar(&c.hosts)
	daysVar(cmd, "warn", "Warn when a certificate expires within this long, such as 30d or 72h.", "30d", &c.warn)
	daysVar(cmd, "crit", "Fail when a certificate expires within this long.", "7d", &c.crit)
	enumVar(cmd, "require", "Which revocation URL the leaf must name; any exempts certificates valid for 10 days or less.", "any", &c.require, "any", "ocsp", "crl", "none")
	cmd.Flag("online", "Also query the leaf's OCSP responders, through the same code as check --cert.").BoolVar(&c.online)
	durationVar(cmd, "timeout", "With --online, give up on one bundle's responders after this long.", "10s", &c.timeout)
	enumVar(cmd, "output", "Output format.", "text", &c.output, "text", "json", "junit")
	cmd.Flag("strict", "Fail on warnings too.").BoolVar(&c.strict)
	return cmd
}

func (c *lintCommand) run(stdout, stderr io.Writer) int {
	set, err := c.load()
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch: lint: %s\n", oneLine(err.Error()))
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var pool *probe.ResponderPool
	var crls *crl.Pool
	if c.online {
		client := probe.NewHTTPClient(probe.ClientOptions{MaxRedirects: probe.DefaultMaxRedirects})
		pool = probe.NewResponderPool(ctx, client, 0, 0, nil)
		crls = crl.NewPool(crl.PoolOptions{Client: client, UserAgent: userAgent(), Context: ctx})
	}
	now := time.Now()
	results := make([]*lint.Result, 0, len(set.bundles))
	code := exitOK
	for _, b := range set.bundles {
		opts := lint.Options{Now: now, Warn: c.warn, Crit: c.crit, Hosts: c.hosts, Require: lint.Requirement(c.require), OnlineWanted: c.online}
		if c.online {
			opts.Online = c.queryResponders(ctx, b, pool, crls)
		}
		r := lint.Run(b, opts)
		if r.Fails(c.strict) {
			code = exitProblem
		}
		results = append(results, r)
	}
	report := lintReport{results: results, skipped: set.skipped, strict: c.strict, code: code, checkedAt: now}
	switch c.output {
	case "json":
		err = writeLintJSON(stdout, report)
	case "junit":
		err = writeLintJUnit(stdout, report)
	default:
		err = writeLintText(stdout, report)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch: lint: writing the %s output: %v\n", c.output, err)
		return exitError
	}
	return code
}

// queryResponders asks the leaf's responders and fetches its CRLs (every
// CRL named, with the policy "on"), as `check --cert` does, when the
// bundle holds the issuer both need; lint.Run says why when it does not.
func (c *lintCommand) queryResponders(ctx context.Context, b *lint.Bundle, pool *probe.ResponderPool, crls *crl.Pool) *probe.Report {
	leaf, issuer := lint.Leaf(b)
	if issuer == nil || (len(leaf.OCSPServer) == 0 && len(leaf.CRLDistributionPoints) == 0) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return probe.RunTarget(ctx, probe.TargetSpec{
		Name: b.Name, Leaf: leaf, Issuer: issuer, QueryResponder: true,
		Method: probe.MethodAuto, UserAgent: userAgent(), Policy: probe.VerifyPolicy{Skew: probe.DefaultSkew},
		CRL: probe.CRLOn, CRLs: crls,
	}, pool)
}

// bundleSet is what the paths on the command line hold.
type bundleSet struct {
	bundles []*lint.Bundle
	// skipped are files found while walking a directory that are not
	// bundles: keys, parameters, chain files.
	skipped []skippedFile
}

type skippedFile struct {
	path, reason string
}

// load reads every bundle the paths name. A file named on the command
// line must be a bundle; files found in a directory that are not are
// skipped, with the reason shown.
func (c *lintCommand) load() (*bundleSet, error) {
	if len(c.paths) == 0 {
		return nil, errors.New("name at least one bundle file or directory")
	}
	if c.crit > c.warn {
		return nil, fmt.Errorf("--crit %s is longer than --warn %s", human.Duration(c.crit), human.Duration(c.warn))
	}
	set := &bundleSet{}
	seen := map[string]bool{}
	for _, path := range c.paths {
		info, err := os.Stat(path)
		switch {
		case err != nil:
			return nil, err
		case info.IsDir():
			if err := set.walk(path, seen); err != nil {
				return nil, err
			}
		case !info.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", path)
		case !seen[filepath.Clean(path)]:
			seen[filepath.Clean(path)] = true
			b, err := readBundle(path)
			if err != nil {
				return nil, err
			}
			set.bundles = append(set.bundles, b)
		}
		if len(set.bundles) > maxBundles {
			return nil, fmt.Errorf("more than %d bundles; lint them in smaller sets", maxBundles)
		}
	}
	if c.keyFile != "" {
		if len(set.bundles) != 1 {
			return nil, fmt.Errorf("--key needs exactly one bundle, and the paths hold %d", len(set.bundles))
		}
		data, err := config.ReadRegularFile(c.keyFile, maxBundleBytes)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		key, err := lint.ParseKey(c.keyFile, data)
		if err != nil {
			return nil, fmt.Errorf("--key %s: %w", c.keyFile, err)
		}
		set.bundles[0].Keys = append(set.bundles[0].Keys, key)
	}
	return set, nil
}

// walk adds the bundles under dir, in lexical order, following symbolic
// links to files (certbot's live directory is made of them) but not to
// directories, and skipping hidden directories.
func (set *bundleSet) walk(dir string, seen map[string]bool) error {
	found := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		name := strings.ToLower(d.Name())
		if !strings.HasSuffix(name, ".pem") && !strings.HasSuffix(name, ".crt") {
			return nil
		}
		if seen[filepath.Clean(path)] {
			return nil
		}
		seen[filepath.Clean(path)] = true
		info, err := os.Stat(path)
		switch {
		case err != nil:
			set.skipped = append(set.skipped, skippedFile{path, "cannot be read: " + err.Error()})
			return nil
		case !info.Mode().IsRegular():
			set.skipped = append(set.skipped, skippedFile{path, "not a regular file"})
			return nil
		}
		b, err := readBundle(path)
		switch {
		case errors.Is(err, lint.ErrNoCertificate):
			set.skipped = append(set.skipped, skippedFile{path, "no certificate (a key or parameters file)"})
			return nil
		case err != nil:
			return err
		case !b.HasEndEntity():
			set.skipped = append(set.skipped, skippedFile{path, "CA certificates only (a chain file, not a bundle to deploy)"})
			return nil
		}
		set.bundles = append(set.bundles, b)
		if found++; len(set.bundles) > maxBundles {
			return fmt.Errorf("more than %d bundles; lint them in smaller sets", maxBundles)
		}
		return nil
	})
	if err == nil && found == 0 {
		return fmt.Errorf("%s: no certificate bundles found (looked for *.pem and *.crt)", dir)
	}
	return err
}

func readBundle(path string) (*lint.Bundle, error) {
	data, err := config.ReadRegularFile(path, maxBundleBytes)
	if err != nil {
		return nil, err
	}
	b, err := lint.ParseBundle(path, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// maxDays keeps a day count far from overflowing a time.Duration.
const maxDays = 100 * 366

// daysFlag is a positive duration that also accepts days, "30d", since
// certificate lifetimes are counted in days.
type daysFlag struct {
	name   string
	target *time.Duration
}

func (f *daysFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		if days > maxDays {
			err = errors.New("too long")
		}
		d = time.Duration(days) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return fmt.Errorf("--%s: %q is not a positive duration such as 30d or 72h", f.name, s)
	}
	*f.target = d
	return nil
}

func (f *daysFlag) String() string { return human.Duration(*f.target) }

func daysVar(cmd *kingpin.CmdClause, name, help, def string, target *time.Duration) {
	cmd.Flag(name, help).Default(def).SetValue(&daysFlag{name: name, target: target})
}

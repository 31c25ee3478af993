package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// Bounds on a --targets-file: it is read whole, so its size and the number
// of endpoints it may name are capped.
const (
	maxTargetsFileBytes = 1 << 20
	maxCheckEndpoints   = 10000
	maxConcurrency      = 256
)

func (c *checkCommand) registerMany(cmd *kingpin.CmdClause) {
	fileVar(cmd, "targets-file", "File of endpoints to check, one a line; blank lines and lines starting with # are skipped.", &c.targetsFile)
	cmd.Flag("concurrency", "How many endpoints to check at once.").Default("8").IntVar(&c.concurrency)
	durationVar(cmd, "warn", "WARNING when a staple, a responder's answer or a CRL has less than this left to its NextUpdate.", "4h", &c.warn)
	durationVar(cmd, "crit", "CRITICAL when less than this is left to NextUpdate; the default matches the OCSPStapleExpiring alert.", "2h", &c.crit)
	cmd.Flag("staple-out", "Save the raw DER staple of the first endpoint that sent one, like openssl s_client -status.").PlaceHolder("FILE").StringVar(&c.stapleOut)
	cmd.Flag("response-out", "Save the raw DER answer of the first responder that sent one, like openssl ocsp -respout.").PlaceHolder("FILE").StringVar(&c.responseOut)
}

// checkRun is one endpoint's run and its verdict.
type checkRun struct {
	label   string
	rep     *probe.Report
	verdict verdict
	now     time.Time
}

// namedEndpoint is an endpoint and where it was named, for errors.
type namedEndpoint struct {
	value, where string
}

// runAll checks every endpoint, at most --concurrency at once, each under
// its own --timeout, and prints one block per endpoint.
func (c *checkCommand) runAll(stdout, stderr io.Writer) int {
	specs, labels, err := c.specs()
	if err != nil {
		if c.output == "nagios" {
			fmt.Fprintf(stdout, "OCSP UNKNOWN - %s\n", nagiosText(err.Error()))
			return int(sevUnknown)
		}
		fmt.Fprintf(stderr, "ocspwatch: check: %s\n", oneLine(err.Error()))
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := probe.NewHTTPClient(probe.ClientOptions{MaxRedirects: probe.DefaultMaxRedirects})
	pool := probe.NewResponderPool(ctx, client, 0, 0, nil)
	c.crl.sharePool(ctx, client, specs)
	th := thresholds{warn: c.warn, crit: c.crit}
	runs := make([]checkRun, len(specs))
	slots := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, spec := range specs {
		// Taking the slot before starting the goroutine bounds the
		// goroutines too, not only the probes.
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			runCtx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			rep := probe.RunTarget(runCtx, spec, pool)
			now := time.Now()
			runs[i] = checkRun{label: labels[i], rep: rep, verdict: judge(rep, labels[i], th, now), now: now}
		}()
	}
	wg.Wait()

	status := sevOK
	for _, r := range runs {
		status = worse(status, r.verdict.Status)
	}
	code := status.exitCode()
	if c.output == "nagios" {
		code = int(status)
	}
	if err := c.save(runs); err != nil {
		fmt.Fprintf(stderr, "ocspwatch: check: %s\n", oneLine(err.Error()))
		if c.output != "nagios" {
			code = max(code, exitError)
		}
	}
	switch {
	case c.output == "nagios":
		writeNagios(stdout, runs, th, status)
	case c.output == "json":
		if err := writeJSONRuns(stdout, runs, status); err != nil {
			fmt.Fprintf(stderr, "ocspwatch: check: %v\n", err)
			return exitError
		}
	case len(runs) == 1 && runs[0].verdict.Unreachable:
		// One endpoint that cannot be reached is an error, said once.
		fmt.Fprintf(stderr, "ocspwatch: check %s: %s\n", runs[0].label, runs[0].verdict.Cause)
	default:
		for i, r := range runs {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			writeText(stdout, r.rep, r.label, r.verdict, r.now)
		}
		if len(runs) > 1 {
			fmt.Fprintf(stdout, "\n%s\n", summaryLine(runs, status))
		}
	}
	return code
}

// specs builds one probe target per endpoint, through spec(), and stops
// at the first bad one: a typo in a list fails the run before any probe.
func (c *checkCommand) specs() ([]probe.TargetSpec, []string, error) {
	if c.crit > c.warn {
		return nil, nil, fmt.Errorf("--crit %s is longer than --warn %s", c.crit, c.warn)
	}
	if c.concurrency < 1 || c.concurrency > maxConcurrency {
		return nil, nil, fmt.Errorf("--concurrency: %d is not between 1 and %d", c.concurrency, maxConcurrency)
	}
	endpoints, err := c.endpointList()
	if err != nil {
		return nil, nil, err
	}
	if len(endpoints) > 1 && c.certFile != "" {
		return nil, nil, errors.New("give either endpoints or --cert, not both")
	}
	if len(endpoints) == 0 {
		endpoints = []namedEndpoint{{}}
	}
	var specs []probe.TargetSpec
	var labels []string
	for _, e := range endpoints {
		one := *c
		one.endpoint = e.value
		spec, label, err := one.spec()
		if err != nil {
			if len(endpoints) > 1 {
				return nil, nil, fmt.Errorf("%s %q: %w", e.where, e.value, err)
			}
			return nil, nil, err
		}
		if slices.Contains(labels, label) {
			continue // the same endpoint named twice is checked once
		}
		specs, labels = append(specs, spec), append(labels, label)
	}
	if err := c.crl.readFile(specs); err != nil {
		return nil, nil, err
	}
	return specs, labels, nil
}

// endpointList is the endpoints named as arguments, then those of
// --targets-file.
func (c *checkCommand) endpointList() ([]namedEndpoint, error) {
	var out []namedEndpoint
	for i, e := range c.endpoints {
		out = append(out, namedEndpoint{value: e, where: fmt.Sprintf("argument %d", i+1)})
	}
	if c.targetsFile != "" {
		data, err := config.ReadRegularFile(c.targetsFile, maxTargetsFileBytes)
		if err != nil {
			return nil, fmt.Errorf("--targets-file: %w", err)
		}
		for n, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, namedEndpoint{value: line, where: fmt.Sprintf("%s:%d", c.targetsFile, n+1)})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("--targets-file: %s names no endpoint", c.targetsFile)
		}
	}
	if len(out) > maxCheckEndpoints {
		return nil, fmt.Errorf("%d endpoints, more than the %d one run checks", len(out), maxCheckEndpoints)
	}
	return out, nil
}

// summaryLine counts the verdicts of many endpoints.
func summaryLine(runs []checkRun, worst severity) string {
	return fmt.Sprintf("summary: %s, %s", worst, verdictCounts(runs))
}

// verdictCounts counts the endpoints by verdict, for the text summary and
// the Nagios status line alike.
func verdictCounts(runs []checkRun) string {
	counts := map[severity]int{}
	for _, r := range runs {
		counts[r.verdict.Status]++
	}
	return fmt.Sprintf("%d endpoints: %d OK, %d WARNING, %d CRITICAL, %d UNKNOWN",
		len(runs), counts[sevOK], counts[sevWarning], counts[sevCritical], counts[sevUnknown])
}

// save writes the raw DER that --staple-out and --response-out ask for:
// the staple of the first endpoint, in the order named, that sent one,
// and the first responder answer that came with a body.
func (c *checkCommand) save(runs []checkRun) error {
	var errs []error
	if c.stapleOut != "" {
		var der []byte
		for _, r := range runs {
			for _, e := range r.rep.Endpoints {
				if der == nil && len(e.StapleDER) > 0 {
					der = e.StapleDER
				}
			}
		}
		errs = append(errs, saveDER("--staple-out", c.stapleOut, der, "no endpoint sent a staple"))
	}
	if c.responseOut != "" {
		var der []byte
		for _, r := range runs {
			for _, res := range r.rep.Responders {
				if der == nil && len(res.DER) > 0 {
					der = res.DER
				}
			}
		}
		errs = append(errs, saveDER("--response-out", c.responseOut, der, "no responder answered with a body"))
	}
	return errors.Join(errs...)
}

func saveDER(flag, path string, der []byte, none string) error {
	if der == nil {
		return fmt.Errorf("%s: %s; %s not written", flag, none, path)
	}
	if err := os.WriteFile(path, der, 0o644); err != nil { //nolint:gosec // an OCSP response is public
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}

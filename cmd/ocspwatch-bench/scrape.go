package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// scrapeResult is one GET /metrics, read to the end, and the counters the
// benchmark needs from it.
type scrapeResult struct {
	Seconds float64
	// CPUSeconds is the whole process's CPU during the scrape, probing
	// included; the report subtracts the probing.
	CPUSeconds float64
	// Bytes are the exposition's, WireBytes what crossed the wire:
	// fewer when gzipped.
	Bytes     int64
	WireBytes int64
	Series    int
	Success   float64
	Failure   float64
	Skipped   float64
	// Runs are each target's last run, when asked for.
	Runs map[string]*targetRun
}

// targetRun is what a scrape says of a target's last run.
type targetRun struct {
	Finished    float64 // ocsp_probe_last_run_timestamp_seconds
	TLSDuration float64 // ocsp_tls_duration_seconds, summed over addresses
}

// targetLabel is the value of the line's target label.
func targetLabel(line string) string {
	_, rest, ok := strings.Cut(line, `target="`)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, `"`)
	return name
}

func (r *scrapeResult) run(line string) *targetRun {
	name := targetLabel(line)
	tr := r.Runs[name]
	if tr == nil {
		tr = &targetRun{}
		r.Runs[name] = tr
	}
	return tr
}

// maxLine bounds one exposition line; label values are capped well below.
const maxLine = 1 << 20

// prometheusAccept is the Accept header Prometheus 2.x and 3.x send by
// default: OpenMetrics first.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// scrapeMetrics scrapes over real HTTP: in the text format without
// compression, or asPrometheus, in OpenMetrics and gzipped as Prometheus
// asks; with wantRuns, it collects each target's last run. The lines are scanned as they arrive rather than parsed into a
// model, so reading a large exposition adds little to the process's heap
// or to the timing.
func scrapeMetrics(ctx context.Context, client *http.Client, url string, asPrometheus, wantRuns bool) (scrapeResult, error) {
	var r scrapeResult
	if wantRuns {
		r.Runs = map[string]*targetRun{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return r, err
	}
	if asPrometheus {
		// Set by hand, the transport leaves the body compressed.
		req.Header.Set("Accept", prometheusAccept)
		req.Header.Set("Accept-Encoding", "gzip")
	}
	cpu0, start := processCPU(), time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	wire := &countingReader{r: resp.Body}
	var body io.Reader = wire
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return r, fmt.Errorf("GET /metrics: %w", err)
		}
		body = zr
	}
	in := bufio.NewScanner(body)
	in.Buffer(make([]byte, 64<<10), maxLine)
	// Lines stay bytes: a string per line would cost the reader more than
	// the agent spends writing them.
	for in.Scan() {
		line := in.Bytes()
		r.Bytes += int64(len(line)) + 1
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		r.Series++
		switch {
		case bytes.HasPrefix(line, probesTotal):
			if bytes.Contains(line, successResult) {
				r.Success += sampleValue(line)
			} else {
				r.Failure += sampleValue(line)
			}
		case bytes.HasPrefix(line, runsSkipped):
			r.Skipped += sampleValue(line)
		case r.Runs != nil && bytes.HasPrefix(line, tlsDuration):
			r.run(string(line)).TLSDuration += sampleValue(line)
		case r.Runs != nil && bytes.HasPrefix(line, lastRun):
			r.run(string(line)).Finished = sampleValue(line)
		}
	}
	if err := in.Err(); err != nil {
		return r, fmt.Errorf("read /metrics: %w", err)
	}
	r.Seconds, r.CPUSeconds, r.WireBytes = time.Since(start).Seconds(), processCPU()-cpu0, wire.n
	return r, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var (
	probesTotal   = []byte("ocsp_probes_total{")
	successResult = []byte(`result="success"`)
	runsSkipped   = []byte("ocspwatch_probe_runs_skipped_total{")
	tlsDuration   = []byte("ocsp_tls_duration_seconds{")
	lastRun       = []byte("ocsp_probe_last_run_timestamp_seconds{")
)

// sampleValue is the value of a text-format sample without a timestamp.
func sampleValue(line []byte) float64 {
	v, err := strconv.ParseFloat(string(line[bytes.LastIndexByte(line, ' ')+1:]), 64)
	if err != nil {
		return 0
	}
	return v
}

// scrapeCommand scrapes in a process of its own, as Prometheus does from
// another host: reading and scanning 95 MB of exposition is work the
// agent's process should not be charged with, nor share its cores with.
type scrapeCommand struct {
	url          string
	asPrometheus bool
	runs         bool
}

func (c *scrapeCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("scrape", "Child process: GET /metrics once and print what the benchmark needs of it.").Hidden()
	cmd.Flag("url", "The /metrics URL.").Required().StringVar(&c.url)
	cmd.Flag("as-prometheus", "Ask for OpenMetrics, gzipped, as Prometheus does.").BoolVar(&c.asPrometheus)
	cmd.Flag("runs", "Also read each target's last run.").BoolVar(&c.runs)
	return cmd
}

func (c *scrapeCommand) run(_ io.Reader, stdout, stderr io.Writer) int {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Minute}
	r, err := scrapeMetrics(context.Background(), client, c.url, c.asPrometheus, c.runs)
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench scrape: %v\n", err)
		return exitError
	}
	if err := json.NewEncoder(stdout).Encode(r); err != nil {
		fmt.Fprintf(stderr, "ocspwatch-bench scrape: %v\n", err)
		return exitError
	}
	return exitOK
}

// scrapeChild scrapes in a child process; CPUSeconds is this process's
// (the agent's) meanwhile.
func scrapeChild(ctx context.Context, stderr io.Writer, url string, asPrometheus, runs bool) (scrapeResult, error) {
	args := []string{"scrape", "--url", url}
	if asPrometheus {
		args = append(args, "--as-prometheus")
	}
	if runs {
		args = append(args, "--runs")
	}
	var r scrapeResult
	cpu0 := processCPU()
	err := runJSON(ctx, stderr, &r, args...)
	r.CPUSeconds = processCPU() - cpu0
	return r, err
}

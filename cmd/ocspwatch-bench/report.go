package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// printReport writes the figures as two Markdown tables, like the scale
// issue's: CPU against the floor, then scale.
func printReport(w io.Writer, results []*result) {
	if len(results) == 0 {
		return
	}
	r0 := results[0]
	fmt.Fprintf(w, "\nocspwatch load benchmark: %s/%s, %d CPUs (GOMAXPROCS %d), %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(w, "schedule %s, query_responder = %t, %d leaf certificate(s), open-files limit %d\n", r0.Schedule, r0.QueryResponder, r0.Leaves, r0.FileLimit)
	floor := "flat out"
	if r0.FloorPaced {
		floor = "paced at the scheduled rate"
	}
	fmt.Fprintf(w, "medians of %d interleaved rounds of %.0fs (agent) + %.0fs (floor, %s); CPU is the prober's own process, the servers run in another\n\n", rounds, r0.WindowSeconds, r0.WindowSeconds, floor)

	for _, r := range results {
		fmt.Fprintf(w, "%s targets: machine load average %.1f at the start, %.1f at the end\n", count(r.Targets), r.LoadAverage[0], r.LoadAverage[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| targets | addresses | agent CPU per probe | raw floor CPU per handshake | ÷ raw floor | probes/s sustained (scheduled) | floor handshakes/s | runs skipped (start-up / steady) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		agent, floor := median(r.AgentCPUPerProbe), median(r.FloorCPUPerHandshake)
		ratio := 0.0
		if floor > 0 {
			ratio = agent / floor
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.2f | %.1f (%.1f) | %.0f | %.0f / %.0f |\n", count(r.Targets), r.Addresses, ms(agent), ms(floor), ratio,
			median(r.AgentProbesPerSecond), r.ExpectedPerSecond, median(r.FloorPerSecond), r.SkippedStartup, r.SkippedSteady)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| targets | heap in use | heap per target | RSS | RSS per target | peak RSS | /metrics scrape | scrape CPU (own) | /metrics size | OpenMetrics + gzip scrape (size) | series | first full pass | target files | reload, 1 changed | reload, unchanged | reload, 1 changed, all in one file |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		n := int64(r.Targets)
		oneFile := "(the same)"
		if r.TargetFiles > 0 {
			oneFile = secs(median(r.ReloadChangedOneFileSeconds))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %.1f s | %d | %s | %s | %s |\n", count(r.Targets),
			mib(r.HeapInuse), kib(r.HeapInuse/n), mib(r.RSS), kib(r.RSS/n), mib(r.PeakRSS),
			secs(median(r.ScrapeSeconds)), secs(median(r.scrapeOwnCPU())), mb(r.ScrapeBytes),
			secs(median(r.ScrapePrometheusSeconds)), mb(r.ScrapeGzipBytes), count(r.Series),
			r.FirstPassSeconds, r.TargetFiles, secs(median(r.ReloadChangedSeconds)), secs(median(r.ReloadUnchangedSeconds)), oneFile)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| targets | mean ocsp_tls_duration_seconds (runs in agent windows) | one bare handshake, idle | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range results {
		ratio := 0.0
		if r.SingleHandshakeSeconds > 0 {
			ratio = r.TLSDurationMeanSeconds / r.SingleHandshakeSeconds
		}
		fmt.Fprintf(w, "| %s | %s (%s) | %s | %.2f |\n", count(r.Targets), ms(r.TLSDurationMeanSeconds), count(r.TLSDurationRuns), ms(r.SingleHandshakeSeconds), ratio)
	}
	for _, r := range results {
		if r.ProbesFailure > 0 || r.FloorErrors > 0 || r.FloorNoStaple > 0 {
			fmt.Fprintf(w, "\nWARNING at %s targets: %.0f agent probes failed, the floor had %d errors and %d handshakes without a staple.\n",
				count(r.Targets), r.ProbesFailure, r.FloorErrors, r.FloorNoStaple)
		}
	}
}

func ms(seconds float64) string { return fmt.Sprintf("%.3f ms", seconds*1e3) }

func secs(seconds float64) string {
	if seconds < 1 {
		return fmt.Sprintf("%.0f ms", seconds*1e3)
	}
	return fmt.Sprintf("%.2f s", seconds)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
func mb(b int64) string  { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// count writes n with thousands separators, as the tables do.
func count(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

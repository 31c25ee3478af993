// Command ocspwatch-bench is ocspwatch's load benchmark. It starts
// stapling TLS endpoints on many loopback addresses in a separate process,
// runs the real agent (config file, scheduler, exporter, /metrics over
// HTTP) against them, and prints the agent's CPU per probe beside a bare
// handshake loop, its sustained probe rate, memory per target, scrape and
// reload costs, at each fleet size asked for.
//
// Subcommands other than the default one are the benchmark's own child
// processes and are hidden from the help.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

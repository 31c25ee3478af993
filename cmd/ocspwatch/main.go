// Command ocspwatch is a synthetic OCSP monitoring agent: it checks the
// OCSP staples that TLS endpoints serve and the OCSP responders that
// certificates name, and exports the results to Prometheus.
//
// Subcommands: agent (the default), check, check-config, demo, lint and version.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

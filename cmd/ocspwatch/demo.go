package main

import (
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ocspwatch/ocspwatch/internal/demo"
)

// demoCommand starts a fleet on loopback and monitors it with the real
// agent, so a newcomer sees ocspwatch work with no network and no config.
type demoCommand struct {
	web       *web.FlagConfig
	logConfig *promslog.Config
}

func (c *demoCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("demo", "Start an embedded CA, OCSP responders and TLS servers on loopback, and monitor them.")
	c.web = kingpinflag.AddFlags(cmd, "127.0.0.1"+defaultListenAddress)
	c.logConfig = addLogFlags(cmd)
	return cmd
}

func (c *demoCommand) run(stdout, stderr io.Writer) int {
	fleet, err := demo.Start(demo.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch: demo: %v\n", err)
		return exitError
	}
	defer fleet.Close()
	fmt.Fprintf(stdout, "ocspwatch demo: monitoring %d loopback endpoints, configured by %s\n", len(demo.Targets), fleet.ConfigFile)
	for _, t := range demo.Targets {
		fmt.Fprintf(stdout, "  %-15s %s\n", t.Name, t.Situation)
	}
	addr := (*c.web.WebListenAddresses)[0]
	fmt.Fprintf(stdout, "status page: http://%s/   metrics: http://%s/metrics   (Ctrl-C stops)\n", addr, addr)
	return serveAgent(fleet.ConfigFile, 0, c.web, promslog.New(withWriter(c.logConfig, stderr)), stderr)
}

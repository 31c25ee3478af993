// Command gen renders the ocspwatch monitoring mixin: the Prometheus
// rules and the Grafana dashboard, from the knobs in alerts.MixinConfig.
//
// From the repository root, `go run ./alerts/gen` rewrites the committed
// alerts/ocspwatch.rules.yml and dashboards/ocspwatch.json; tests fail
// when those drift from this output. For your own setup:
//
//	go run ./alerts/gen -config knobs.json -out DIR
//
// where knobs.json sets any of runbookURLBase, dashboardURL,
// agentURLScheme, ocspSelector, agentSelector, holdWindow, thresholds
// and dashboardTopK (see alerts/mixin.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ocspwatch/ocspwatch/alerts"
	"github.com/ocspwatch/ocspwatch/dashboards"
)

func main() { os.Exit(run()) }

func run() int {
	configFile := flag.String("config", "", "JSON file of mixin knobs over the defaults")
	outDir := flag.String("out", "", "directory for ocspwatch.rules.yml and ocspwatch.json; default: the repository's alerts/ and dashboards/")
	flag.Parse()
	cfg := alerts.DefaultMixinConfig()
	if *configFile != "" {
		var err error
		if cfg, err = alerts.LoadMixinConfig(*configFile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	rules, err := alerts.RenderRules(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rules:", err)
		return 1
	}
	dashboard, err := dashboards.Render(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		return 1
	}
	rulesPath, dashboardPath := filepath.Join("alerts", "ocspwatch.rules.yml"), filepath.Join("dashboards", "ocspwatch.json")
	if *outDir != "" {
		rulesPath, dashboardPath = filepath.Join(*outDir, "ocspwatch.rules.yml"), filepath.Join(*outDir, "ocspwatch.json")
	}
	for path, data := range map[string][]byte{rulesPath: rules, dashboardPath: dashboard} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("wrote", path)
	}
	return 0
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/exporter"
)

// defaultListenAddress is ocspwatch's port.
const defaultListenAddress = ":9879"

// agentCommand runs the daemon: it probes on schedule and serves metrics.
type agentCommand struct {
	configFile      string
	enableLifecycle bool
	web             *web.FlagConfig
	logConfig       *promslog.Config
	// watchInterval polls the config file and reloads on change (ConfigMaps).
	watchInterval time.Duration
	shard         string
}

func (c *agentCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("agent", "Run the monitoring agent (the default command).").Default()
	cmd.Flag("config.file", "ocspwatch configuration file (TOML).").Default("ocspwatch.toml").StringVar(&c.configFile)
	cmd.Flag("web.enable-lifecycle", "Serve POST /-/reload; SIGHUP always reloads.").BoolVar(&c.enableLifecycle)
	cmd.Flag("shard", "Run part i of n of the file's targets, as i/n (for example a StatefulSet ordinal: 2/4); overrides nothing, so the file must not set shard.").PlaceHolder("I/N").StringVar(&c.shard)
	cmd.Flag("config.watch-interval", "How often to check the config file for changes and reload it (0 disables).").Default("5s").DurationVar(&c.watchInterval)
	c.web = kingpinflag.AddFlags(cmd, defaultListenAddress)
	c.logConfig = addLogFlags(cmd)
	return cmd
}

func (c *agentCommand) run(_, stderr io.Writer) int {
	logger := promslog.New(withWriter(c.logConfig, stderr))
	return serveAgent(exporter.Options{ConfigFile: c.configFile, EnableLifecycle: c.enableLifecycle, ConfigWatchInterval: c.watchInterval, Shard: c.shard}, c.web, logger, stderr)
}

// serveAgent runs an agent until SIGTERM or SIGINT, reloading on SIGHUP
// and, every opts.ConfigWatchInterval, when the file changed; `demo` uses
// it too, so the demo is the real code path.
func serveAgent(opts exporter.Options, flags *web.FlagConfig, logger *slog.Logger, stderr io.Writer) int {
	opts.Logger, opts.UserAgent = logger, userAgent()
	agent, err := exporter.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "ocspwatch: %s\n", err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				_ = agent.Reload() // logged and exported by the agent
			case <-ctx.Done():
				return
			}
		}
	}()

	server := newHTTPServer(agent.Handler(), serverIdleTimeout)
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, flags, logger) }()
	agentDone := make(chan struct{})
	go func() {
		_ = agent.Run(ctx)
		close(agentDone)
	}()

	code := exitOK
	select {
	case err := <-serveErr:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("HTTP server failed", "err", err)
			code = exitError
		}
		stop()
	case <-ctx.Done():
		logger.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdownCtx)
	<-agentDone
	return code
}

// serverIdleTimeout closes idle keep-alive connections, so a thousand
// idle clients cannot hold a thousand descriptors.
const serverIdleTimeout = time.Minute

// newHTTPServer bounds what slow or idle clients can hold: headers must
// arrive within 10 s and idle connections close after idle. There is no
// write timeout, since /probe runs as long as its target's timeout.
func newHTTPServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idle, MaxHeaderBytes: 64 << 10}
}

type checkConfigCommand struct {
	configFile string
}

func (c *checkConfigCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("check-config", "Validate a configuration file and exit: 0 when valid, 1 when not.")
	cmd.Flag("config.file", "ocspwatch configuration file (TOML).").Default("ocspwatch.toml").StringVar(&c.configFile)
	return cmd
}

func (c *checkConfigCommand) run(stdout, stderr io.Writer) int {
	cfg, err := config.Load(c.configFile)
	if err != nil {
		fmt.Fprintf(stderr, "%s\n", err)
		return exitProblem
	}
	fmt.Fprintf(stdout, "%s: OK, %d target(s)\n", c.configFile, len(cfg.Targets))
	return exitOK
}

package main

import (
	"io"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
)

// addLogFlags registers --log.level and --log.format on a command, as
// promslog/flag does on an application.
func addLogFlags(cmd *kingpin.CmdClause) *promslog.Config {
	cfg := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat()}
	cmd.Flag(promslogflag.LevelFlagName, promslogflag.LevelFlagHelp).Default("info").HintOptions(promslog.LevelFlagOptions...).SetValue(cfg.Level)
	cmd.Flag(promslogflag.FormatFlagName, promslogflag.FormatFlagHelp).Default("logfmt").HintOptions(promslog.FormatFlagOptions...).SetValue(cfg.Format)
	return cfg
}

func withWriter(cfg *promslog.Config, w io.Writer) *promslog.Config {
	c := *cfg
	c.Writer = w
	return &c
}

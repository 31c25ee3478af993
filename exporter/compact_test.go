package exporter

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// TestCompactReportExportsTheSame: for every situation of the demo
// fleet (staples good, revoked, expiring and missing, a busy responder,
// CRLs good, revoked and gone), the compact report the scheduler stores
// exports exactly the series, and shows exactly the status row, that the
// full report does.
func TestCompactReportExportsTheSame(t *testing.T) {
	now := func() time.Time { return testpki.Epoch }
	fleet, err := demo.Start(demo.Options{Now: now, Dir: t.TempDir(), Schedule: "0 0 1 1 *"})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	ra := startAgentFile(t, fleet.ConfigFile, now)
	cfg := ra.sched.config()
	ra.sched.mu.Lock()
	crls := ra.sched.crls
	ra.sched.mu.Unlock()
	ctx := context.Background()
	for _, target := range cfg.Targets {
		t.Run(target.Name, func(t *testing.T) {
			spec := target.Spec(cfg, now, "ocspwatch/test", nil)
			spec.CRLs = crls
			if spec.Staple != nil {
				spec.Staple.Cache, spec.Staple.Interner = ra.sched.verdicts, ra.sched.certs
			}
			// A pool of its own with no re-query cache: its answers carry
			// the bytes Compact leaves out.
			pool := probe.NewResponderPool(ctx, nil, 0, 0, now)
			full := probe.RunTarget(ctx, spec, pool)
			compact := full.Compact(ra.sched.certs)
			if compact.Leaf != nil || (len(compact.Endpoints) > 0 && compact.Endpoints[0].StapleDER != nil) {
				t.Fatal("Compact kept the leaf or the staple's bytes")
			}
			render := func(rep *probe.Report) (string, statusRow) {
				st := singleResult(target, rep, now())
				reg := prometheus.NewRegistry()
				reg.MustRegister(&collector{store: st, region: cfg.Region})
				return exposition(reg), statusFor(st.snapshot()[0], now())
			}
			wantMetrics, wantRow := render(full)
			gotMetrics, gotRow := render(compact)
			if gotMetrics != wantMetrics {
				t.Errorf("the compact report exports differently:\n%s", diff(wantMetrics, gotMetrics))
			}
			if gotRow != wantRow {
				t.Errorf("status row: compact %+v, full %+v", gotRow, wantRow)
			}
		})
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// caddySite is one TLS server of the test Caddy, on its own port, with a
// certificate loaded from files.
type caddySite struct {
	name, port, cert string
}

// startCaddy runs `caddy run` with a JSON config, the admin API off,
// automatic HTTPS off (the certificates come from files), and its home,
// config and data directories, where certmagic keeps the staples it
// fetched, in a directory of its own.
func startCaddy(t *testing.T, p *stackPKI, sites []caddySite) *proc.Process {
	t.Helper()
	bin := requireTool(t, "caddy", "caddy")
	dir := t.TempDir()
	servers := map[string]any{}
	var files []any
	for _, s := range sites {
		tag := strings.ReplaceAll(s.name, " ", "-")
		servers[tag] = map[string]any{
			"listen":                  []string{"127.0.0.1:" + s.port},
			"routes":                  []any{map[string]any{"handle": []any{map[string]any{"handler": "static_response", "body": "ok"}}}},
			"tls_connection_policies": []any{map[string]any{"certificate_selection": map[string]any{"any_tag": []string{tag}}}},
			"automatic_https":         map[string]any{"disable": true},
		}
		files = append(files, map[string]any{"certificate": p.chain(s.cert), "key": p.key(s.cert), "tags": []string{tag}})
	}
	config := map[string]any{
		"admin":   map[string]any{"disabled": true},
		"storage": map[string]any{"module": "file_system", "root": filepath.Join(dir, "data")},
		"apps": map[string]any{
			"http": map[string]any{"servers": servers},
			"tls":  map[string]any{"certificates": map[string]any{"load_files": files}},
		},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "caddy.json")
	if err := os.WriteFile(conf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	server := proc.Start(t, "/usr/bin/env", "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"),
		bin, "run", "--config", conf)
	for _, s := range sites {
		waitTLS(t, server, "127.0.0.1:"+s.port, 15*time.Second, func() string { return "" })
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Caddy's output:\n%s", server.Output())
		}
	})
	return server
}

// TestCaddyStapling runs Caddy 2 with certificates loaded from files, so
// certmagic staples them from their AIA responders on its own, and pins
// what it staples in each case.
func TestCaddyStapling(t *testing.T) {
	p := newStackPKI(t)
	sites := []caddySite{
		{name: caseGood, port: proc.FreePort(t), cert: p.good},
		{name: caseRevoked, port: proc.FreePort(t), cert: p.revoked},
		{name: caseDown, port: proc.FreePort(t), cert: p.down},
		{name: caseExpired, port: proc.FreePort(t), cert: p.expired},
	}
	// Caddy fetches every staple while it loads the certificates, before
	// it serves, and logs a failure as a "stapling OCSP" warning.
	caddy := startCaddy(t, p, sites)
	addr := map[string]string{}
	for _, s := range sites {
		addr[s.name] = "127.0.0.1:" + s.port
	}
	goodStaple := served{present: true, responseStatus: "successful", certStatus: "good"}
	for _, c := range []stackCase{{
		// A certificate from files, with a private responder on
		// 127.0.0.1, is stapled like a managed one.
		name:    caseGood,
		addr:    addr[caseGood],
		staples: goodStaple,
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good"},
	}, {
		// certmagic staples good answers only.
		name:    caseRevoked,
		addr:    addr[caseRevoked],
		verdict: verdict{reasons: []string{"response_revoked"}},
	}, {
		name:    caseDown,
		addr:    addr[caseDown],
		verdict: verdict{reasons: []string{"responder_connect"}},
	}, {
		// An answer that is already expired is stapled all the same. (With
		// ocsp_interval = 1s, certmagic's maintenance was seen fetching it
		// again every second, and stapling it again.)
		name:    caseExpired,
		addr:    addr[caseExpired],
		staples: served{present: true, responseStatus: "successful", certStatus: "good", expired: true},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", certStatus: "good",
			reasons: []string{"staple_expired", "response_expired"}},
	}} {
		t.Run(c.name, func(t *testing.T) { checkStackCase(t, p, "Caddy", c) })
	}
	if want := "no OCSP stapling for [" + p.down; !strings.Contains(caddy.Output(), want) {
		t.Errorf("Caddy, %s: its log does not say %q", caseDown, want)
	}

	t.Run("responder down after a good staple", func(t *testing.T) {
		// certmagic asks again only past half of the answer's validity
		// window (30 minutes here), so a shorter outage changes nothing.
		p.delegatedResponder.Stop()
		checkStackCase(t, p, "Caddy", stackCase{
			name:    "responder down after a good staple",
			addr:    addr[caseGood],
			staples: goodStaple,
			verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good",
				reasons: []string{"responder_connect"}},
		})
	})
}

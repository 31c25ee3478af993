package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// nginxServer is one server block of the test nginx.
type nginxServer struct {
	name, port, cert string
	stapling         bool
	// stapleFile makes nginx staple a fixed DER response. nginx refuses to
	// staple a "revoked" answer it fetches itself, so a server that keeps
	// serving a revoked answer is modelled with ssl_stapling_file.
	stapleFile string
}

type nginx struct {
	*proc.Process
	dir     string
	pki     *opensslPKI
	servers []nginxServer
}

func (n *nginx) writeConfig(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n", n.dir, n.dir)
	if os.Geteuid() == 0 {
		b.WriteString("user root root;\n") // the workers must read the test's private files
	}
	b.WriteString("events { worker_connections 64; }\nhttp {\n  access_log off;\n")
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s/tmp/%s;\n", p, n.dir, p)
	}
	for _, s := range n.servers {
		fmt.Fprintf(&b, "  server {\n    listen 127.0.0.1:%s ssl;\n    server_name localhost;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n",
			s.port, n.pki.chain(s.cert), n.pki.key(s.cert))
		if s.stapling {
			fmt.Fprintf(&b, "    ssl_stapling on;\n    ssl_stapling_verify on;\n    ssl_trusted_certificate %s/trust.pem;\n", n.pki.dir)
		}
		if s.stapleFile != "" {
			fmt.Fprintf(&b, "    ssl_stapling_file %s;\n", s.stapleFile)
		}
		b.WriteString("    location / { return 200 \"ok\\n\"; }\n  }\n")
	}
	b.WriteString("}\n")
	path := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startNginx(t *testing.T, pki *opensslPKI, servers []nginxServer) *nginx {
	t.Helper()
	bin := requireTool(t, "nginx", "nginx")
	n := &nginx{dir: t.TempDir(), pki: pki, servers: servers}
	if err := os.MkdirAll(filepath.Join(n.dir, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := n.writeConfig(t)
	n.Process = proc.Start(t, bin, "-p", n.dir, "-c", conf, "-e", filepath.Join(n.dir, "error.log"))
	for _, s := range servers {
		proc.WaitFor(t, 10*time.Second, "nginx to listen on "+s.port, func() bool {
			if n.Exited() {
				log, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
				t.Fatalf("nginx exited:\n%s\n%s", n.Output(), log)
			}
			c, err := tls.Dial("tcp", "127.0.0.1:"+s.port, &tls.Config{InsecureSkipVerify: true})
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return n
}

// reload rewrites the configuration and signals nginx, as `nginx -s reload` does.
func (n *nginx) reload(t *testing.T) {
	t.Helper()
	n.writeConfig(t)
	if err := n.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// staple makes a handshake and returns what nginx stapled. nginx fetches
// staples lazily, on the first handshakes after a start or reload.
func staple(port string) []byte {
	c, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		return nil
	}
	defer c.Close()
	return c.ConnectionState().OCSPResponse
}

// opensslNextUpdate reads the staple's NextUpdate as `openssl s_client
// -status` prints it: an independent reading of the same bytes.
func opensslNextUpdate(t *testing.T, port string) time.Time {
	t.Helper()
	cmd := exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+port, "-servername", "localhost", "-status")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	m := regexp.MustCompile(`Next Update: (.+ GMT)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("openssl s_client -status shows no Next Update for port %s:\n%s", port, out)
	}
	next, err := time.Parse("Jan _2 15:04:05 2006 MST", string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func withoutProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.EqualFold(k, "HTTP_PROXY") && !strings.EqualFold(k, "HTTPS_PROXY") && !strings.EqualFold(k, "NO_PROXY") {
			env = append(env, kv)
		}
	}
	return env
}

// verdicts checks samples of one scrape and reports which endpoint gave
// which wrong verdict.
type verdicts struct {
	t     *testing.T
	body  string
	where map[string]string
}

func (v verdicts) want(target, metric string, labels map[string]string, want float64) {
	v.t.Helper()
	all := map[string]string{"target": target}
	for k, val := range labels {
		all[k] = val
	}
	got, ok := sample(v.body, metric, all)
	switch {
	case !ok:
		v.t.Errorf("target %q (%s): no %s%v sample, want %v", target, v.where[target], metric, labels, want)
	case got != want:
		v.t.Errorf("target %q (%s): %s%v = %v, want %v", target, v.where[target], metric, labels, got, want)
	}
}

func (v verdicts) absent(target, metric string) {
	v.t.Helper()
	if _, ok := sample(v.body, metric, map[string]string{"target": target}); ok {
		v.t.Errorf("target %q (%s): %s is exported, want it absent", target, v.where[target], metric)
	}
}

// TestAgainstNginxAndOpenSSL runs the built agent against nginx stapling
// answers from real `openssl ocsp` responders, over a PKI made with the
// openssl CLI, and then breaks things while it runs.
func TestAgainstNginxAndOpenSSL(t *testing.T) {
	pki := newOpenSSLPKI(t, proc.FreePort(t), proc.FreePort(t))
	revokedDER := filepath.Join(pki.dir, "revoked.der")
	cmd := exec.Command("openssl", "ocsp", "-issuer", pki.pem(pki.inter), "-cert", pki.pem(pki.revoked),
		"-url", pki.delegatedResponder.URL, "-respout", revokedDER, "-noverify", "-timeout", "10")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fetch the revoked answer: %v\n%s", err, out)
	}
	servers := []nginxServer{
		{name: "good", port: proc.FreePort(t), cert: pki.good, stapling: true},
		{name: "revoked", port: proc.FreePort(t), cert: pki.revoked, stapling: true, stapleFile: revokedDER},
		{name: "no-staple", port: proc.FreePort(t), cert: pki.good},
		{name: "must-staple", port: proc.FreePort(t), cert: pki.mustStaple},
		{name: "no-ocsp", port: proc.FreePort(t), cert: pki.noOCSP, stapling: true},
	}
	ng := startNginx(t, pki, servers)
	addr := map[string]string{}
	for _, s := range servers {
		addr[s.name] = "127.0.0.1:" + s.port
	}
	proc.WaitFor(t, 20*time.Second, "nginx to staple for the good certificate", func() bool { return len(staple(servers[0].port)) > 0 })

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "region = \"e2e\"\ndefault_schedule = \"@every 2s\"\ndefault_timeout = \"3s\"\n\n[responder]\nmin_interval = \"1s\"\n\n[network]\nallow = [\"127.0.0.0/8\"]\n")
	target := func(name, endpoint, extra string) {
		fmt.Fprintf(&cfg, "\n[[target]]\nname = %q\nendpoint = %q\nserver_name = \"localhost\"\nca_file = %q\n%s", name, endpoint, pki.pem(pki.root), extra)
	}
	target("good-get", addr["good"], "method = \"get\"\n")
	target("good-post", addr["good"], "method = \"post\"\nnonce = true\nrequire_nonce = true\n")
	target("revoked", addr["revoked"], "")
	target("no-staple", addr["no-staple"], "")
	target("must-staple", addr["must-staple"], "")
	target("no-ocsp", addr["no-ocsp"], "")
	fmt.Fprintf(&cfg, "\n[[target]]\nname = \"ca-signed\"\ncert_file = %q\nissuer_file = %q\nresponders = [%q]\n", pki.pem(pki.good), pki.pem(pki.inter), pki.caSignedResponder.URL)
	configFile := filepath.Join(t.TempDir(), "ocspwatch.toml")
	if err := os.WriteFile(configFile, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	where := map[string]string{"good-get": addr["good"], "good-post": addr["good"], "revoked": addr["revoked"], "no-staple": addr["no-staple"],
		"must-staple": addr["must-staple"], "no-ocsp": addr["no-ocsp"], "ca-signed": pki.caSignedResponder.URL}

	agent := startAgent(t, "--config.file="+configFile)
	proc.WaitFor(t, 20*time.Second, "every target to run", func() bool {
		return strings.Count(agent.metrics(t), "\nocsp_probe_success{") == 7
	})

	t.Run("verdicts", func(t *testing.T) {
		nextUpdate := opensslNextUpdate(t, servers[0].port)
		v := verdicts{t: t, body: agent.metrics(t), where: where}
		// Contract v2: responder health is exported once per URL.
		responder := func(url, metric string, labels map[string]string, want float64) {
			t.Helper()
			all := map[string]string{"responder": url}
			for k, val := range labels {
				all[k] = val
			}
			if got, ok := sample(v.body, metric, all); !ok || got != want {
				t.Errorf("responder %s: %s%v = %v (found %v), want %v", url, metric, labels, got, ok, want)
			}
		}
		delegated := pki.delegatedResponder.URL
		responder(delegated, "ocsp_responder_up", nil, 1)
		responder(delegated, "ocsp_responder_success", nil, 1)
		responder(delegated, "ocsp_responder_http_status_code", nil, 200)
		responder(delegated, "ocsp_responder_targets", nil, 5)
		for _, phase := range []string{"connect", "processing", "transfer"} {
			if _, ok := sample(v.body, "ocsp_responder_duration_seconds", map[string]string{"responder": delegated, "phase": phase}); !ok {
				t.Errorf("responder %s: no %s phase", delegated, phase)
			}
		}
		for _, target := range []string{"good-get", "good-post"} {
			a := map[string]string{"address": addr["good"]}
			v.want(target, "ocsp_probe_success", nil, 1)
			v.want(target, "ocsp_staple_present", a, 1)
			v.want(target, "ocsp_staple_valid", a, 1)
			v.want(target, "ocsp_staple_cert_status", map[string]string{"address": addr["good"], "status": "good"}, 1)
			v.want(target, "ocsp_staple_next_update_timestamp_seconds", a, float64(nextUpdate.Unix()))
			v.want(target, "ocsp_staple_responder_agree", a, 1)
			v.want(target, "ocsp_cert_info", map[string]string{"address": addr["good"], "chain_verified": "true", "responder": delegated}, 1)
			v.want(target, "ocsp_response_cert_status", map[string]string{"responder": delegated, "status": "good"}, 1)
		}
		// good-get and good-post share the URL; the nonce belongs to
		// good-post's query, which its one-off probe shows alone.
		if code, body, err := httpGet(agent.base + "/probe?target=good-post"); err != nil || code != 200 {
			t.Errorf("/probe?target=good-post: HTTP %d %v", code, err)
		} else if got, ok := sample(body, "ocsp_responder_nonce_echoed", map[string]string{"responder": delegated}); !ok || got != 1 {
			t.Errorf("good-post: ocsp_responder_nonce_echoed = %v (found %v), want 1", got, ok)
		}
		out := pki.delegatedResponder.Output()
		if !regexp.MustCompile(`GET /\S+ HTTP/1\.1`).MatchString(out) || !strings.Contains(out, "POST / HTTP/1.1") {
			t.Errorf("the delegated responder did not see both a GET and a POST from ocspwatch:\n%s", out)
		}

		v.want("revoked", "ocsp_probe_success", nil, 0)
		v.want("revoked", "ocsp_staple_cert_status", map[string]string{"status": "revoked"}, 1)
		v.want("revoked", "ocsp_response_cert_status", map[string]string{"status": "revoked"}, 1)
		v.want("revoked", "ocsp_probe_failure_reason", map[string]string{"reason": "staple_revoked"}, 1)
		if n, _ := sample(v.body, "ocsp_probe_failures_total", map[string]string{"reason": "staple_revoked"}); n < 1 {
			t.Errorf("staple_revoked not counted in ocsp_probe_failures_total")
		}

		v.want("no-staple", "ocsp_staple_present", nil, 0)
		v.want("no-staple", "ocsp_probe_success", nil, 1)
		v.absent("no-staple", "ocsp_staple_valid")

		v.want("must-staple", "ocsp_cert_info", map[string]string{"must_staple": "true", "staple_required": "true"}, 1)
		v.want("must-staple", "ocsp_staple_present", nil, 0)
		v.want("must-staple", "ocsp_probe_success", nil, 0)
		v.want("must-staple", "ocsp_probe_failure_reason", map[string]string{"reason": "must_staple_violated"}, 1)

		v.want("no-ocsp", "ocsp_cert_info", map[string]string{"posture": "crl_only", "responder": ""}, 1)
		v.want("no-ocsp", "ocsp_probe_success", nil, 1)
		v.absent("no-ocsp", "ocsp_response_cert_status")

		responder(pki.caSignedResponder.URL, "ocsp_responder_up", nil, 1)
		v.want("ca-signed", "ocsp_response_cert_status", map[string]string{"responder": pki.caSignedResponder.URL, "status": "good"}, 1)
	})

	t.Run("check command", func(t *testing.T) {
		closed := proc.FreePort(t)
		for _, tc := range []struct {
			args    []string
			code    int
			reasons []string
		}{
			{[]string{addr["good"], "--servername", "localhost"}, 0, nil},
			{[]string{addr["revoked"], "--servername", "localhost"}, 1, []string{"staple_revoked", "response_revoked"}},
			{[]string{addr["no-staple"], "--servername", "localhost"}, 0, nil},
			{[]string{addr["must-staple"], "--servername", "localhost"}, 1, []string{"must_staple_violated"}},
			{[]string{"--cert", pki.pem(pki.revoked), "--issuer", pki.pem(pki.inter), "--url", pki.caSignedResponder.URL}, 1, []string{"response_revoked"}},
			{[]string{"127.0.0.1:" + closed}, 2, []string{"connect"}},
		} {
			// openssl ocsp answers with a NextUpdate an hour out, under
			// check's default --crit 2h.
			args := append([]string{"check", "--ca-file", pki.pem(pki.root), "--output", "json", "--warn", "20m", "--crit", "10m"}, tc.args...)
			out, err := exec.Command(binary, args...).Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Success  bool `json:"success"`
				Failures []struct {
					Reason string `json:"reason"`
				} `json:"failures"`
				Endpoints []struct {
					Problems []struct {
						Reason string `json:"reason"`
					} `json:"problems"`
				} `json:"endpoints"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Errorf("ocspwatch %s: JSON does not parse: %v\n%s", strings.Join(args, " "), err, out)
				continue
			}
			var reasons []string
			for _, f := range doc.Failures {
				reasons = append(reasons, f.Reason)
			}
			if code == 2 {
				reasons = nil
				for _, e := range doc.Endpoints {
					for _, p := range e.Problems {
						reasons = append(reasons, p.Reason)
					}
				}
			}
			if code != tc.code || doc.Success != (tc.code == 0) || strings.Join(reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("ocspwatch %s: exit %d success %v reasons %v, want exit %d reasons %v", strings.Join(args, " "), code, doc.Success, reasons, tc.code, tc.reasons)
			}
		}
	})

	t.Run("responder queries go through HTTP_PROXY", func(t *testing.T) {
		var seen []string
		var mu sync.Mutex
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Host+" "+r.Header.Get("User-Agent"))
			mu.Unlock()
			// Forward to the real responder, as a forward proxy would.
			out, err := http.NewRequest(r.Method, pki.delegatedResponder.URL+r.URL.Path, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			out.Header = r.Header.Clone()
			out.ContentLength = r.ContentLength // openssl's server does not take chunked bodies
			resp, err := http.DefaultTransport.RoundTrip(out)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		}))
		defer proxy.Close()
		// The responder's name never resolves: only the proxy can reach it.
		cmd := exec.Command(binary, "check", "--cert", pki.pem(pki.good), "--issuer", pki.pem(pki.inter), "--url", "http://ocsp.proxied.test/", "--method", "post", "--warn", "20m", "--crit", "10m")
		cmd.Env = append(withoutProxyEnv(), "HTTP_PROXY="+proxy.URL)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("check through the proxy: %v\n%s", err, out)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 || !strings.HasPrefix(seen[0], "POST ocsp.proxied.test ocspwatch/") {
			t.Errorf("the proxy saw %q, want one POST for ocsp.proxied.test from ocspwatch/<version>", seen)
		}
	})

	t.Run("responder stops and returns", func(t *testing.T) {
		pki.delegatedResponder.Stop()
		url := pki.delegatedResponder.URL
		proc.WaitFor(t, 20*time.Second, "good-get's responder to be reported down for responder_connect", func() bool {
			body := agent.metrics(t)
			up, _ := sample(body, "ocsp_responder_up", map[string]string{"responder": url})
			failing, _ := sample(body, "ocsp_responder_failure_reason", map[string]string{"responder": url, "reason": "responder_connect"})
			return up == 0 && failing == 1
		})
		// Issue 10: a responder outage alone does not fail an endpoint
		// whose staple is still valid.
		if success, _ := sample(agent.metrics(t), "ocsp_probe_success", map[string]string{"target": "good-get"}); success != 1 {
			t.Errorf("good-get fails while only its responder is down: ocsp_probe_success %v", success)
		}
		pki.delegatedResponder.Restart(t)
		proc.WaitFor(t, 20*time.Second, "good-get's responder to be reported up again", func() bool {
			body := agent.metrics(t)
			up, _ := sample(body, "ocsp_responder_up", map[string]string{"responder": url})
			success, _ := sample(body, "ocsp_responder_success", map[string]string{"responder": url})
			return up == 1 && success == 1
		})
	})

	t.Run("a broken config on SIGHUP keeps the old targets running", func(t *testing.T) {
		good, err := os.ReadFile(configFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(configFile, append(good, []byte("\n[[target]]\nname = \"broken\"\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
		before, _ := sample(agent.metrics(t), "ocsp_probe_last_run_timestamp_seconds", map[string]string{"target": "good-get"})
		if err := agent.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		proc.WaitFor(t, 10*time.Second, "the reload failure to be exported", func() bool {
			ok, found := sample(agent.metrics(t), "ocspwatch_config_last_reload_successful", nil)
			return found && ok == 0
		})
		proc.WaitFor(t, 10*time.Second, "good-get to be probed again after the bad reload", func() bool {
			after, _ := sample(agent.metrics(t), "ocsp_probe_last_run_timestamp_seconds", map[string]string{"target": "good-get"})
			return after > before
		})
		if !strings.Contains(agent.Output(), `target \"broken\": endpoint`) && !strings.Contains(agent.Output(), `target "broken": endpoint`) {
			t.Errorf("the agent's log does not say what is wrong with the config:\n%s", agent.Output())
		}
		if err := os.WriteFile(configFile, good, 0o600); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("nginx reloaded without stapling", func(t *testing.T) {
		ng.servers[0].stapling = false
		ng.reload(t)
		proc.WaitFor(t, 20*time.Second, "good-get's missing staple to be reported", func() bool {
			present, ok := sample(agent.metrics(t), "ocsp_staple_present", map[string]string{"target": "good-get"})
			return ok && present == 0
		})
	})
}

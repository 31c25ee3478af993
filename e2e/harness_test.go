package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// binary is the ocspwatch binary under test, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ocspwatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ocspwatch")
	build := exec.Command("go", "build", "-o", binary, "../cmd/ocspwatch")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ocspwatch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/sbin/"} {
		if path, err := exec.LookPath(dir + name); err == nil {
			return path
		}
	}
	t.Fatalf("%s is not installed; run the README's test command, which installs Debian's %s", name, pkg)
	return ""
}

func httpGet(url string) (int, string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// agent is a running `ocspwatch` process and its metrics endpoint.
type agent struct {
	*proc.Process
	base string
}

func startAgent(t *testing.T, args ...string) *agent {
	t.Helper()
	port := proc.FreePort(t)
	a := &agent{base: "http://127.0.0.1:" + port}
	a.Process = proc.Start(t, binary, append(args, "--web.listen-address=127.0.0.1:"+port)...)
	proc.WaitFor(t, 20*time.Second, "ocspwatch to be ready", func() bool {
		if a.Exited() {
			t.Fatalf("ocspwatch exited:\n%s", a.Output())
		}
		code, _, err := httpGet(a.base + "/-/ready")
		return err == nil && code == 200
	})
	return a
}

func (a *agent) metrics(t *testing.T) string {
	t.Helper()
	code, body, err := httpGet(a.base + "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("scrape %s/metrics: HTTP %d %v", a.base, code, err)
	}
	return body
}

// sample finds one sample's value in an exposition, by metric name and
// label subset.
func sample(body, name string, labels map[string]string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for k, v := range labels {
			if !strings.Contains(line, k+`="`+v+`"`) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		return v, err == nil
	}
	return 0, false
}

var seriesNameRE = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]`)

func seriesNames(exposition string) map[string]bool {
	names := map[string]bool{}
	for _, m := range seriesNameRE.FindAllStringSubmatch(exposition, -1) {
		names[m[1]] = true
	}
	return names
}

// promQuery runs an instant query against a Prometheus server.
func promQuery(base, query string) ([]map[string]any, error) {
	code, body, err := httpGet(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []map[string]any `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, fmt.Errorf("HTTP %d: %v: %s", code, err, body)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", query, resp.Error)
	}
	return resp.Data.Result, nil
}

// Package amtest starts a real Alertmanager on loopback for tests, with
// the repository's example configuration and its receivers pointed at a
// local sink, so routing and inhibition are tested as shipped.
package amtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

var receiverURL = regexp.MustCompile(`http://\S+\.example\.internal/alertmanager`)

// Start runs the Alertmanager binary bin with exampleFile's configuration,
// waits until it is ready and returns its base URL. It stops with the test.
func Start(t testing.TB, bin, exampleFile string) string {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	}))
	t.Cleanup(sink.Close)
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgFile, receiverURL.ReplaceAll(example, []byte(sink.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	port := proc.FreePort(t)
	am := proc.Start(t, bin, "--config.file="+cfgFile, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port, "--cluster.listen-address=", "--log.level=warn")
	base := "http://127.0.0.1:" + port
	proc.WaitFor(t, 30*time.Second, "Alertmanager to be ready", func() bool {
		if am.Exited() {
			t.Fatalf("alertmanager exited:\n%s", am.Output())
		}
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

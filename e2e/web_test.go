package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// TestWebConfigBasicAuth checks that --web.config.file (exporter-toolkit)
// protects the agent's endpoints.
func TestWebConfigBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := proc.FreePort(t)
	agent := proc.Start(t, binary, "demo", "--web.listen-address=127.0.0.1:"+port, "--web.config.file="+webConfig)
	url := "http://127.0.0.1:" + port + "/metrics"
	proc.WaitFor(t, 20*time.Second, "the agent to listen", func() bool {
		if agent.Exited() {
			t.Fatalf("ocspwatch exited:\n%s", agent.Output())
		}
		code, _, err := httpGet(url)
		return err == nil && code != 0
	})
	if code, _, _ := httpGet(url); code != http.StatusUnauthorized {
		t.Errorf("without credentials: HTTP %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("prometheus", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: HTTP %d, want 200", resp.StatusCode)
	}
}

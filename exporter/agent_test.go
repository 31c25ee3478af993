package exporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// runningAgent is an agent under test with its HTTP handler.
type runningAgent struct {
	*Agent
	http   *httptest.Server
	cancel context.CancelFunc
	done   chan struct{}
	path   string
}

// labNetwork lets the agent reach the lab's responders, which live on
// loopback: certificates may name loopback only when the policy allows it.
const labNetwork = "\n[network]\nallow = [\"127.0.0.0/8\"]\n"

func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if !strings.Contains(text, "[network]") && strings.Contains(text, "[[target]]") {
		text += labNetwork
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func startAgent(t *testing.T, configText string, now func() time.Time) *runningAgent {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ocspwatch.toml")
	writeConfig(t, path, configText)
	return startAgentFile(t, path, now)
}

func startAgentFile(t *testing.T, path string, now func() time.Time) *runningAgent {
	t.Helper()
	return startAgentOptions(t, Options{ConfigFile: path, Now: now, UserAgent: "ocspwatch/test", EnableLifecycle: true})
}

func startAgentOptions(t *testing.T, opts Options) *runningAgent {
	t.Helper()
	path := opts.ConfigFile
	a, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{Agent: a, cancel: cancel, done: make(chan struct{}), path: path}
	go func() {
		_ = a.Run(ctx)
		close(ra.done)
	}()
	ra.http = httptest.NewServer(a.Handler())
	t.Cleanup(ra.stop)
	proc.WaitFor(t, 10*time.Second, "every target to run once", ra.allRan)
	return ra
}

func (ra *runningAgent) stop() {
	ra.cancel()
	<-ra.done
	ra.http.Close()
}

func (ra *runningAgent) allRan() bool {
	cfg := ra.sched.config()
	snaps := ra.store.snapshot()
	// apply sets the config before it adds the targets: count them too.
	if cfg == nil || len(snaps) != len(cfg.Targets) {
		return false
	}
	for _, s := range snaps {
		if s.last == nil {
			return false
		}
	}
	return true
}

func (ra *runningAgent) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(ra.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (ra *runningAgent) post(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Post(ra.http.URL+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (ra *runningAgent) metrics(t *testing.T) string {
	t.Helper()
	code, body := ra.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	return body
}

// lab is a small PKI with a responder and stapling servers, valid around
// the frozen clock.
type lab struct {
	now       time.Time
	root      *testpki.Cert
	inter     *testpki.Cert
	rootFile  string
	responder *testpki.Responder
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{now: testpki.Epoch}
	var err error
	if l.root, err = testpki.NewRoot("Exporter Root", testpki.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	if l.inter, err = l.root.NewIntermediate("Exporter Intermediate", testpki.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	l.rootFile = filepath.Join(t.TempDir(), "root.pem")
	writeConfig(t, l.rootFile, string(l.root.PEM()))
	l.responder = testpki.NewResponder(func(q testpki.Query) []byte {
		return testpki.Response{Entries: []testpki.Entry{{Serial: q.Serial, Issuer: l.inter.Cert, Status: testpki.Good,
			ThisUpdate: l.now.Add(-time.Hour), NextUpdate: l.now.Add(5 * time.Hour)}}, ProducedAt: l.now.Add(-time.Hour), Signer: l.inter}.MustDER()
	})
	t.Cleanup(l.responder.Close)
	return l
}

// server starts a TLS server stapling a good response valid for validFor.
func (l *lab) server(t *testing.T, validFor time.Duration) *testpki.TLSServer {
	t.Helper()
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{l.responder.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var staple []byte
	if validFor > 0 {
		staple = testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, l.now.Add(-time.Hour), l.now.Add(validFor))}, ProducedAt: l.now.Add(-time.Hour), Signer: l.inter}.MustDER()
	}
	srv, err := testpki.NewTLSServer(leaf, staple, testpki.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func (l *lab) target(name, endpoint, extra string) string {
	return "\n[[target]]\nname = \"" + name + "\"\nendpoint = \"" + endpoint + "\"\nserver_name = \"localhost\"\nca_file = \"" + l.rootFile + "\"\nschedule = \"@every 1h\"\n" + extra
}

func metricLine(body, prefix string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// TestReloadKeepsTheResponderClient: a reload that leaves the responder
// settings alone keeps the client, with its pooled connections; one that
// changes them, [responder] ca_file's contents included, builds another.
func TestReloadKeepsTheResponderClient(t *testing.T) {
	l := newLab(t)
	path := filepath.Join(t.TempDir(), "ocspwatch.toml")
	text := "[responder]\nca_file = \"" + l.rootFile + "\"\n"
	writeConfig(t, path, text)
	ra := startAgentFile(t, path, func() time.Time { return l.now })
	client := func() *http.Client {
		ra.mu.Lock()
		defer ra.mu.Unlock()
		return ra.client
	}
	first := client()
	writeConfig(t, path, "region = \"eu\"\n"+text)
	if err := ra.Reload(); err != nil {
		t.Fatal(err)
	}
	if client() != first {
		t.Error("a reload with the same responder settings built a new client")
	}
	other, err := testpki.NewRoot("Other Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	writeConfig(t, l.rootFile, string(other.PEM()))
	if err := ra.Reload(); err != nil {
		t.Fatal(err)
	}
	if client() == first {
		t.Error("[responder] ca_file changed, yet the old client was kept")
	}
}

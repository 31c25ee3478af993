package exporter

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/loopback"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

func TestAddressesAllExportsEveryBackend(t *testing.T) {
	l := newLab(t)
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	staple := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, l.now.Add(-time.Hour), l.now.Add(time.Hour))}, ProducedAt: l.now, Signer: l.inter}.MustDER()
	a, err := testpki.NewTLSServer(leaf, staple, testpki.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, port, _ := net.SplitHostPort(a.Addr)
	b, err := testpki.NewTLSServer(leaf, nil, testpki.ServerOptions{Addr: "127.0.0.2:" + port})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "c.toml")
	writeConfig(t, path, l.target("lb", "lb.test:"+port, "addresses = \"all\"\nquery_responder = false\n"))
	ra := startAgentOptions(t, Options{ConfigFile: path, Now: func() time.Time { return l.now },
		Resolver: loopback.Resolver(map[string][]net.IP{"lb.test": {net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)}})})
	m := ra.metrics(t)
	for _, want := range []string{
		`ocsp_staple_present{address="` + a.Addr + `",target="lb"} 1`,
		`ocsp_staple_present{address="` + b.Addr + `",target="lb"} 0`,
		`ocsp_staple_valid{address="` + a.Addr + `",target="lb"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("missing %s in:\n%s", want, grep(m, "ocsp_staple_"))
		}
	}
}

// TestMaxConcurrentProbes counts connections held open at once by a server
// that stalls every handshake: the global limit must bound them.
func TestMaxConcurrentProbes(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var open, peak atomic.Int32
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						n := open.Add(1)
						for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
						}
						time.Sleep(300 * time.Millisecond)
						open.Add(-1)
						c.Close()
					}()
				}
			}()
			cfg := fmt.Sprintf("max_concurrent_probes = %d\n", limit)
			for i := range 4 {
				cfg += fmt.Sprintf("[[target]]\nname = \"t%d\"\nendpoint = %q\nschedule = \"@every 1h\"\n", i, ln.Addr().String())
			}
			startAgent(t, cfg, nil)
			if got := int(peak.Load()); got != limit {
				t.Errorf("peak concurrent probes %d, want %d", got, limit)
			}
		})
	}
}

// Endpoints that present the same certificate share one responder query.
func TestTargetsSharingACertificateShareOneQuery(t *testing.T) {
	l := newLab(t)
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{l.responder.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg string
	for i := range 5 {
		srv, err := testpki.NewTLSServer(leaf, nil, testpki.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cfg += l.target(fmt.Sprintf("edge-%d", i), srv.Addr, "")
	}
	ra := startAgent(t, cfg, func() time.Time { return l.now })
	if n := len(l.responder.Queries()); n != 1 {
		t.Errorf("5 endpoints with one certificate sent %d responder queries, want 1", n)
	}
	m := ra.metrics(t)
	if got := strings.Count(m, "\nocsp_responder_up{"); got != 1 {
		t.Errorf("the shared responder is exported %d times, want once:\n%s", got, grep(m, "ocsp_responder_up"))
	}
	if want := `ocsp_responder_targets{responder="` + l.responder.URL + `"} 5`; !strings.Contains(m, want) {
		t.Errorf("missing %s in:\n%s", want, grep(m, "ocsp_responder_targets"))
	}
}

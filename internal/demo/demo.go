// Package demo starts a small, self-contained fleet on loopback for
// `ocspwatch demo` and for end-to-end tests: an in-process CA, OCSP
// responders and stapling TLS servers, each showing one situation an SRE
// meets in production, plus the TOML file that monitors them through the
// real agent.
package demo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// SlowResponderDelay is how long the slow responder waits before answering.
const SlowResponderDelay = 1500 * time.Millisecond

// Target describes one member of the fleet.
type Target struct {
	Name, Situation string
}

// Targets lists the fleet in the order the config file names them.
var Targets = []Target{
	{"good", "a valid staple and a responder that agrees"},
	{"expiring", "a valid staple that expires in 10 minutes"},
	{"revoked", "a revoked certificate, by staple and by responder"},
	{"no-staple", "an endpoint that staples nothing while the policy requires it"},
	{"must-staple", "a must-staple certificate served without its staple"},
	{"slow-responder", "a responder that takes 1.5s to answer"},
	{"no-ocsp-url", "a certificate with a CRL but no OCSP URL, as many public CAs now issue"},
	{"busy-responder", "a valid staple while its responder answers tryLater: the endpoint stays OK, the responder fails"},
	{"crl-revoked", "a certificate with a CRL and no OCSP URL, listed in its CRL"},
	{"crl-missing", "a certificate whose CRL is gone (HTTP 404): the endpoint stays OK, the CRL is shown failing"},
}

// Fleet is a running demo fleet.
type Fleet struct {
	Dir        string
	ConfigFile string

	ownDir     bool
	servers    []*testpki.TLSServer
	responders []*testpki.Responder
	crls       *httptest.Server
}

// Options shape the fleet; Now freezes its clock for tests.
type Options struct {
	Now func() time.Time
	// Dir receives the PEM files and the config; a temporary one if empty.
	Dir string
	// Schedule for every target; "@every 30s" if empty.
	Schedule string
}

// Start builds the PKI, starts the servers and writes the config file.
func Start(opts Options) (f *Fleet, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Schedule == "" {
		opts.Schedule = "@every 30s"
	}
	f = &Fleet{Dir: opts.Dir}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if f.Dir == "" {
		if f.Dir, err = os.MkdirTemp("", "ocspwatch-demo-"); err != nil {
			return nil, err
		}
		f.ownDir = true
	}
	now := opts.Now()
	root, err := testpki.NewRoot("ocspwatch Demo Root", testpki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	inter, err := root.NewIntermediate("ocspwatch Demo Issuing CA", testpki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	signer, err := inter.NewResponder("ocspwatch Demo OCSP Signer", testpki.ResponderOptions{NoCheck: true})
	if err != nil {
		return nil, err
	}

	// The responders answer from a table filled once the leaves exist,
	// because the leaves must name the responders' URLs.
	var mu sync.Mutex
	statuses := map[string]int{}
	answer := func(q testpki.Query) []byte {
		if q.Serial == nil {
			return nil
		}
		mu.Lock()
		status, known := statuses[q.Serial.String()]
		mu.Unlock()
		if !known {
			status = testpki.Unknown
		}
		t := opts.Now()
		entry := testpki.Entry{Serial: q.Serial, Issuer: inter.Cert, Status: status, ThisUpdate: t.Add(-time.Hour).Truncate(time.Second), NextUpdate: t.Add(23 * time.Hour).Truncate(time.Second), RevokedAt: now.Add(-6 * time.Hour).Truncate(time.Second)}
		return testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: t.Add(-time.Hour).Truncate(time.Second), Signer: signer, Embed: true, Nonce: q.Nonce}.MustDER()
	}
	fast := testpki.NewResponder(answer)
	fast.Header.Set("Cache-Control", "public, max-age=3600")
	slow := testpki.NewResponder(answer)
	slow.SetDelay(SlowResponderDelay)
	busy := testpki.NewResponder(func(testpki.Query) []byte { return testpki.StatusOnly(ocsp.TryLater) })
	f.responders = append(f.responders, fast, slow, busy)

	// The issuing CA's CRL is made once the leaves exist, since it lists
	// one of them; until then the server answers 503.
	var crlDER atomic.Pointer[[]byte]
	f.crls = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/issuing-ca.crl" {
			http.NotFound(w, r)
			return
		}
		der := crlDER.Load()
		if der == nil {
			http.Error(w, "the CRL is not issued yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(*der)
	}))
	crlURL := []string{f.crls.URL + "/issuing-ca.crl"}
	var revokedByCRL []testpki.CRLEntry

	type member struct {
		name       string
		aia        []string
		crl        []string
		mustStaple bool
		status     int
		staple     time.Duration // NextUpdate from now; 0 means no staple
		extra      string
	}
	members := []member{
		{name: "good", aia: []string{fast.URL}, status: testpki.Good, staple: 72 * time.Hour, extra: "labels = { team = \"payments\" }\n"},
		{name: "expiring", aia: []string{fast.URL}, status: testpki.Good, staple: 10 * time.Minute},
		{name: "revoked", aia: []string{fast.URL}, status: testpki.Revoked, staple: 72 * time.Hour},
		{name: "no-staple", aia: []string{fast.URL}, status: testpki.Good, extra: "require_staple = true\n"},
		{name: "must-staple", aia: []string{fast.URL}, mustStaple: true, status: testpki.Good},
		{name: "slow-responder", aia: []string{slow.URL}, status: testpki.Good, staple: 72 * time.Hour},
		{name: "no-ocsp-url", crl: crlURL, status: testpki.Good},
		{name: "busy-responder", aia: []string{busy.URL}, status: testpki.Good, staple: 72 * time.Hour},
		{name: "crl-revoked", crl: crlURL, status: testpki.Revoked},
		{name: "crl-missing", crl: []string{f.crls.URL + "/retired-ca.crl"}, status: testpki.Good},
	}
	rootFile := filepath.Join(f.Dir, "root.pem")
	if err := os.WriteFile(rootFile, root.PEM(), 0o644); err != nil {
		return nil, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# Written by `ocspwatch demo`: a fleet on loopback, one situation per target.\nregion = \"demo\"\ndefault_schedule = %q\ndefault_timeout = \"5s\"\n\n[responder]\nmin_interval = \"10s\"\n\n# The demo's responders live on loopback, which certificates may name\n# only when the network policy allows it.\n[network]\nallow = [\"127.0.0.0/8\"]\n", opts.Schedule)
	for _, m := range members {
		leaf, err := inter.NewLeaf(testpki.LeafOptions{
			OCSPServers: m.aia, CRLServers: m.crl, MustStaple: m.mustStaple,
			NotBefore: now.Add(-24 * time.Hour).Truncate(time.Second), NotAfter: now.Add(60 * 24 * time.Hour).Truncate(time.Second),
		})
		if err != nil {
			return nil, err
		}
		mu.Lock()
		statuses[leaf.Cert.SerialNumber.String()] = m.status
		mu.Unlock()
		if len(m.crl) > 0 && m.status == testpki.Revoked {
			revokedByCRL = append(revokedByCRL, testpki.CRLEntry{Cert: leaf, At: now.Add(-6 * time.Hour).Truncate(time.Second), ReasonCode: 1})
		}
		var staple []byte
		if m.staple > 0 {
			staple = stapleFor(leaf, signer, m.status, now, m.staple)
		}
		srv, err := testpki.NewTLSServer(leaf, staple, testpki.ServerOptions{})
		if err != nil {
			return nil, err
		}
		f.servers = append(f.servers, srv)
		fmt.Fprintf(&cfg, "\n[[target]]\nname = %q\nendpoint = %q\nserver_name = \"localhost\"\nca_file = %q\n%s", m.name, srv.Addr, rootFile, m.extra)
	}
	der, err := inter.CRL(revokedByCRL, now.Add(-time.Hour).Truncate(time.Second), now.Add(7*24*time.Hour).Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	crlDER.Store(&der)
	f.ConfigFile = filepath.Join(f.Dir, "ocspwatch.toml")
	if err := os.WriteFile(f.ConfigFile, []byte(cfg.String()), 0o644); err != nil {
		return nil, err
	}
	return f, nil
}

func stapleFor(leaf, signer *testpki.Cert, status int, now time.Time, validFor time.Duration) []byte {
	entry := testpki.EntryFor(leaf, status, now.Add(-time.Hour).Truncate(time.Second), now.Add(validFor).Truncate(time.Second))
	entry.RevokedAt = now.Add(-6 * time.Hour).Truncate(time.Second)
	return testpki.Response{Entries: []testpki.Entry{entry}, ProducedAt: now.Add(-time.Hour).Truncate(time.Second), Signer: signer, Embed: true}.MustDER()
}

// Close stops every server of the fleet and removes a directory it made.
func (f *Fleet) Close() {
	if f.ownDir {
		defer os.RemoveAll(f.Dir)
	}
	for _, s := range f.servers {
		s.Close()
	}
	for _, r := range f.responders {
		r.Close()
	}
	if f.crls != nil {
		f.crls.Close()
	}
}

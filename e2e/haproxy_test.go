package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// haproxyFrontend is one TLS frontend of the test HAProxy, on its own
// port, with the leaf's answer in "<crt>.ocsp" when stapleFrom names a
// responder URL to fetch it from before the start.
type haproxyFrontend struct {
	name, port, cert string
	stapleFrom       string
}

type haproxy struct {
	*proc.Process
	socket string
}

// startHAProxy runs HAProxy in the foreground (-db) with a stats socket
// at admin level for the runtime API, one frontend per case, and every
// file in a directory of its own.
//
// A non-empty clockFile runs HAProxy under libfaketime, which reads the
// offset of HAProxy's clock from that file at every call, so a test can
// move HAProxy's time forward while it runs.
func startHAProxy(t *testing.T, p *stackPKI, clockFile string, frontends []haproxyFrontend) *haproxy {
	t.Helper()
	bin := requireTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	h := &haproxy{socket: filepath.Join(dir, "admin.sock")}
	var b strings.Builder
	fmt.Fprintf(&b, "global\n  stats socket %s level admin\n\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n", h.socket)
	for _, f := range frontends {
		// HAProxy reads the leaf, its chain and its key from one file,
		// and the staple from the same name plus ".ocsp".
		crt := filepath.Join(dir, f.cert+".pem")
		writeConcat(t, crt, p.chain(f.cert), p.key(f.cert))
		if f.stapleFrom != "" {
			p.fetchStaple(t, f.cert, f.stapleFrom, crt+".ocsp")
		} else if err := os.WriteFile(crt+".ocsp", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\nfrontend %s\n  bind 127.0.0.1:%s ssl crt %s\n  http-request return status 200 content-type text/plain string ok\n",
			strings.ReplaceAll(f.name, " ", "-"), f.port, crt)
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if clockFile == "" {
		h.Process = proc.Start(t, bin, "-db", "-f", conf)
	} else {
		h.Process = proc.Start(t, "/usr/bin/env", "LD_PRELOAD="+openssltest.FaketimeLib(t), "FAKETIME_TIMESTAMP_FILE="+clockFile,
			"FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1", bin, "-db", "-f", conf)
	}
	for _, f := range frontends {
		waitTLS(t, h.Process, "127.0.0.1:"+f.port, 15*time.Second, func() string { return "" })
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("HAProxy's output:\n%s", h.Output())
		}
	})
	return h
}

// setOCSPResponse sends the DER answer in file through the runtime API's
// `set ssl ocsp-response`, as a staple-updating cron job does, and
// returns HAProxy's reply.
func (h *haproxy) setOCSPResponse(t *testing.T, file string) string {
	t.Helper()
	der, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("unix", h.socket, 5*time.Second)
	if err != nil {
		t.Fatalf("HAProxy's stats socket: %v", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c, "set ssl ocsp-response %s\n", base64.StdEncoding.EncodeToString(der)); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(io.LimitReader(c, 64<<10))
	if err != nil {
		t.Fatalf("HAProxy's stats socket: %v", err)
	}
	return strings.TrimSpace(string(reply))
}

// TestHAProxyStapling runs HAProxy 2.6 with `.ocsp` files next to its
// certificates, updated through the runtime API, over real `openssl ocsp`
// responders, and pins what it staples in each case. HAProxy 2.6 never
// asks a responder itself: a cron job fetches answers and hands them over.
func TestHAProxyStapling(t *testing.T) {
	p := newStackPKI(t)
	frontends := []haproxyFrontend{
		{name: caseGood, port: proc.FreePort(t), cert: p.good, stapleFrom: p.delegatedResponder.URL},
		{name: caseRevoked, port: proc.FreePort(t), cert: p.revoked, stapleFrom: p.delegatedResponder.URL},
		// The updater got nothing from the down responder and left an
		// empty .ocsp file, which HAProxy warns about but which reserves
		// the certificate's place for a runtime update.
		{name: caseDown, port: proc.FreePort(t), cert: p.down},
		{name: caseExpired, port: proc.FreePort(t), cert: p.expired, stapleFrom: p.pastResponder.URL},
	}
	h := startHAProxy(t, p, "", frontends)
	addr := map[string]string{}
	for _, f := range frontends {
		addr[f.name] = "127.0.0.1:" + f.port
	}
	goodStaple := served{present: true, responseStatus: "successful", certStatus: "good"}
	goodVerdict := verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good"}
	for _, c := range []stackCase{{
		name:    caseGood,
		addr:    addr[caseGood],
		staples: goodStaple,
		verdict: goodVerdict,
	}, {
		// HAProxy loads and staples a revoked answer as it is.
		name:    caseRevoked,
		addr:    addr[caseRevoked],
		staples: served{present: true, responseStatus: "successful", certStatus: "revoked"},
		verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "revoked",
			reasons: []string{"staple_revoked", "response_revoked"}},
	}, {
		name:    caseDown,
		addr:    addr[caseDown],
		verdict: verdict{reasons: []string{"responder_connect"}},
	}, {
		// An expired .ocsp file is ignored at load ("OCSP single
		// response: no longer valid.. Content will be ignored."): no
		// staple rather than an expired one.
		name:    caseExpired,
		addr:    addr[caseExpired],
		verdict: verdict{reasons: []string{"response_expired"}},
	}} {
		t.Run(c.name, func(t *testing.T) { checkStackCase(t, p, "HAProxy", c) })
	}
	if !strings.Contains(h.Output(), "no longer valid") {
		t.Errorf("HAProxy, %s: no warning about the expired .ocsp file:\n%s", caseExpired, h.Output())
	}

	dir := t.TempDir()
	push := func(t *testing.T, leaf, url, wantReply string) {
		t.Helper()
		der := p.fetchStaple(t, leaf, url, filepath.Join(dir, leaf+".der"))
		if reply := h.setOCSPResponse(t, der); !strings.Contains(reply, wantReply) {
			t.Errorf("HAProxy, runtime API: set ssl ocsp-response for %s from %s replied %q, want %q", leaf, url, reply, wantReply)
		}
	}
	t.Run("runtime update", func(t *testing.T) {
		push(t, p.good, p.delegatedResponder.URL, "OCSP Response updated!")
		checkStackCase(t, p, "HAProxy", stackCase{name: "runtime update", addr: addr[caseGood], staples: goodStaple, verdict: goodVerdict})
	})
	t.Run("runtime update with an expired answer", func(t *testing.T) {
		// Refused, and the previous answer stays stapled.
		push(t, p.good, p.pastResponder.URL, "no longer valid")
		checkStackCase(t, p, "HAProxy", stackCase{name: "runtime update with an expired answer", addr: addr[caseGood], staples: goodStaple, verdict: goodVerdict})
	})
	t.Run("runtime update fills an empty .ocsp file", func(t *testing.T) {
		// The down leaf's answer, fetched from a responder that knows it;
		// ocspwatch still finds the leaf's own responder down.
		push(t, p.down, p.delegatedResponder.URL, "OCSP Response updated!")
		checkStackCase(t, p, "HAProxy", stackCase{
			name:    "runtime update fills an empty .ocsp file",
			addr:    addr[caseDown],
			staples: goodStaple,
			verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good",
				reasons: []string{"responder_connect"}},
		})
	})
	t.Run("responder down after a good staple", func(t *testing.T) {
		// The updater fails and pushes nothing; HAProxy keeps stapling
		// the last answer until its NextUpdate.
		p.delegatedResponder.Stop()
		checkStackCase(t, p, "HAProxy", stackCase{
			name:    "responder down after a good staple",
			addr:    addr[caseGood],
			staples: goodStaple,
			verdict: verdict{staplePresent: true, stapleStatus: "successful", stapleValid: true, certStatus: "good",
				reasons: []string{"responder_connect"}},
		})
	})

	t.Run("staple expires while loaded", func(t *testing.T) {
		// A second HAProxy whose clock starts 90 minutes back, when the
		// past responder's answer (valid from -2h to -1h) was still
		// current, so it loads and staples it; then its clock jumps to
		// now, past the answer's NextUpdate, and it stops stapling.
		clock := filepath.Join(t.TempDir(), "faketime")
		if err := os.WriteFile(clock, []byte("-90m\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f := haproxyFrontend{name: "lapse", port: proc.FreePort(t), cert: p.expired, stapleFrom: p.pastResponder.URL}
		startHAProxy(t, p, clock, []haproxyFrontend{f})
		a := "127.0.0.1:" + f.port
		checkStackCase(t, p, "HAProxy", stackCase{
			name:    "staple expires while loaded, before",
			addr:    a,
			staples: served{present: true, responseStatus: "successful", certStatus: "good", expired: true},
			verdict: verdict{staplePresent: true, stapleStatus: "successful", certStatus: "good",
				reasons: []string{"staple_expired", "response_expired"}},
		})
		if err := os.WriteFile(clock, []byte("+0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		proc.WaitFor(t, 5*time.Second, "HAProxy to stop stapling the lapsed answer", func() bool { return !observeStaple(t, a).present })
		checkStackCase(t, p, "HAProxy", stackCase{
			name:    "staple expires while loaded, after",
			addr:    a,
			verdict: verdict{reasons: []string{"response_expired"}},
		})
	})
}

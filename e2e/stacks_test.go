package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// The stapling cases every server stack is tested in. Each stack's test
// finds out what the server staples in each and pins it, because servers
// differ: nginx, for one, refuses to staple a revoked answer it fetched.
const (
	caseGood    = "good"
	caseRevoked = "revoked"
	caseDown    = "responder down"
	caseExpired = "staple expired"
)

// stackPKI is the openssl-CLI PKI that one server stack's tests share.
// The delegated responder answers for the good and the revoked leaf; the
// "down" leaf's AIA names a port where no responder listens; the "expired"
// leaf's AIA names pastResponder, whose clock runs two hours behind, so
// every answer it signs has a NextUpdate an hour in the past.
type stackPKI struct {
	*opensslPKI
	down, expired string
	pastResponder *openssltest.Responder
}

func newStackPKI(t *testing.T) *stackPKI {
	t.Helper()
	downPort, pastPort := proc.FreePort(t), proc.FreePort(t)
	p := &stackPKI{down: "down", expired: "expired"}
	p.opensslPKI = newOpenSSLPKI(t, proc.FreePort(t), proc.FreePort(t),
		extraLeaf{name: p.down, ocspPort: downPort}, extraLeaf{name: p.expired, ocspPort: pastPort})
	// The past responder's answers must be signed by a certificate that
	// was already valid two hours ago, or they would fail as signed by an
	// unauthorized signer rather than as expired. The same key is
	// certified again with the clock three hours back.
	cmd := exec.Command(openssltest.Require(t), "x509", "-req", "-in", "signer.csr", "-days", "30", "-sha256",
		"-extfile", "ext.cnf", "-extensions", "signer", "-set_serial", "0x5ea1ed",
		"-CA", p.pem(p.inter), "-CAkey", p.key(p.inter), "-out", "pastsigner.pem")
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), openssltest.FaketimeEnv(t, "-3h")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("certify the backdated OCSP signer: %v\n%s", err, out)
	}
	p.pastResponder = openssltest.StartFiles(t, openssltest.Files{
		Index:       filepath.Join(p.dir, "index.txt"),
		CA:          p.pem(p.inter),
		Signer:      p.pem("pastsigner"),
		SignerKey:   p.key(p.signer),
		ClockOffset: "-2h",
	}, pastPort)
	return p
}

// fetchStaple asks the responder at url about leaf with the openssl client
// and returns the path of the DER answer, as a staple-updating cron job
// would write it for a server that staples from a file.
func (p *stackPKI) fetchStaple(t *testing.T, leaf, url, out string) string {
	t.Helper()
	cmd := exec.Command(openssltest.Require(t), "ocsp", "-issuer", p.pem(p.inter), "-cert", p.pem(leaf),
		"-url", url, "-respout", out, "-noverify", "-timeout", "10")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fetch an answer for %s from %s: %v\n%s", leaf, url, err, msg)
	}
	return out
}

// served is what a server staples, read with openssl rather than with
// ocspwatch, so the test's expectation does not come from the code under
// test.
type served struct {
	// present is whether the handshake carried a staple.
	present bool
	// responseStatus is the OCSP response status: successful, tryLater...
	responseStatus string
	// certStatus is good, revoked or unknown, for a successful response.
	certStatus string
	// expired is whether NextUpdate is in the past.
	expired bool
}

func (s served) String() string {
	if !s.present {
		return "no staple"
	}
	out := "staple " + s.responseStatus
	if s.certStatus != "" {
		out += ", " + s.certStatus
	}
	if s.expired {
		out += ", expired"
	}
	return out
}

var (
	opensslResponseStatusRE = regexp.MustCompile(`OCSP Response Status: (\w+)`)
	opensslResponderErrorRE = regexp.MustCompile(`Responder Error: (\w+)`)
	opensslCertStatusRE     = regexp.MustCompile(`Cert Status: (\w+)`)
	opensslNextUpdateRE     = regexp.MustCompile(`Next Update: (.+ GMT)`)
)

// observeStaple makes a handshake with addr and reads its staple, if
// any, with `openssl ocsp -respin`.
func observeStaple(t *testing.T, addr string) served {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	der := c.ConnectionState().OCSPResponse
	c.Close()
	if len(der) == 0 {
		return served{}
	}
	file := filepath.Join(t.TempDir(), "staple.der")
	if err := os.WriteFile(file, der, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssltest.Require(t), "ocsp", "-respin", file, "-resp_text", "-noverify").CombinedOutput()
	if m := opensslResponderErrorRE.FindSubmatch(out); m != nil {
		// openssl fails on an unsuccessful response, after naming its status.
		return served{present: true, responseStatus: string(m[1])}
	}
	if err != nil {
		t.Fatalf("openssl cannot read the staple from %s: %v\n%s", addr, err, out)
	}
	s := served{present: true}
	if m := opensslResponseStatusRE.FindSubmatch(out); m != nil {
		s.responseStatus = string(m[1])
	}
	if m := opensslCertStatusRE.FindSubmatch(out); m != nil {
		s.certStatus = string(m[1])
	}
	if m := opensslNextUpdateRE.FindSubmatch(out); m != nil {
		next, err := time.Parse("Jan _2 15:04:05 2006 MST", string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		s.expired = next.Before(time.Now())
	}
	return s
}

// verdict is what `ocspwatch check --output json` says about one
// endpoint's staple, reduced to what the stack tests compare. Exit codes
// are left to the check command's own tests: they follow check's policy
// (a responder outage alone does not fail an endpoint), while these tests
// pin what each server staples and what ocspwatch reads from it.
type verdict struct {
	// staplePresent, stapleStatus (the OCSP response status), stapleValid
	// and certStatus describe the endpoint's staple.
	staplePresent bool
	stapleStatus  string
	stapleValid   bool
	certStatus    string
	// reasons are the problems reported for the endpoint and then for its
	// responders, in the order ocspwatch lists them.
	reasons []string
}

func (v verdict) String() string {
	return fmt.Sprintf("staple present %v, response status %q, valid %v, cert status %q, reasons [%s]",
		v.staplePresent, v.stapleStatus, v.stapleValid, v.certStatus, strings.Join(v.reasons, " "))
}

func (v verdict) equal(w verdict) bool { return v.String() == w.String() }

// checkEndpoint runs the built binary's `check --output json` against a
// stack's endpoint, trusting the stack PKI's root.
func checkEndpoint(t *testing.T, p *stackPKI, addr string) verdict {
	t.Helper()
	// The stacks staple openssl ocsp answers, whose NextUpdate is an hour
	// out: under check's default --crit 2h.
	args := []string{"check", addr, "--servername", "localhost", "--ca-file", p.pem(p.root), "--output", "json", "--warn", "20m", "--crit", "10m"}
	out, err := exec.Command(binary, args...).Output()
	v := verdict{}
	if _, ok := err.(*exec.ExitError); !ok && err != nil {
		t.Fatal(err)
	}
	var doc checkJSONDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("ocspwatch %s: JSON does not parse: %v\n%s", strings.Join(args, " "), err, out)
	}
	if len(doc.Endpoints) != 1 {
		t.Fatalf("ocspwatch %s: %d endpoints, want 1\n%s", strings.Join(args, " "), len(doc.Endpoints), out)
	}
	e := doc.Endpoints[0]
	for _, p := range e.Problems {
		// staplePresent already says it; a missing staple is a failure only
		// under a staple requirement.
		if p.Reason != "staple_missing" {
			v.reasons = append(v.reasons, p.Reason)
		}
	}
	for _, r := range doc.Responders {
		for _, p := range r.Problems {
			v.reasons = append(v.reasons, p.Reason)
		}
	}
	v.staplePresent = e.StaplePresent
	if e.Staple != nil {
		v.stapleStatus, v.stapleValid, v.certStatus = e.Staple.ResponseStatus, e.Staple.Valid, e.Staple.CertStatus
	}
	return v
}

// checkJSONDoc is the part of check's documented JSON output that the
// stack tests read.
type checkJSONDoc struct {
	Endpoints []struct {
		Problems      []jsonProblem `json:"problems"`
		StaplePresent bool          `json:"staple_present"`
		Staple        *struct {
			ResponseStatus string `json:"response_status"`
			Valid          bool   `json:"valid"`
			CertStatus     string `json:"cert_status"`
		} `json:"staple"`
	} `json:"endpoints"`
	Responders []struct {
		Problems []jsonProblem `json:"problems"`
	} `json:"responders"`
}

type jsonProblem struct {
	Reason string `json:"reason"`
}

// stackCase is one case of one stack: what the server is found to staple
// and what ocspwatch must say about it.
type stackCase struct {
	name string
	addr string
	// staples is the server's behaviour, as openssl reads its staple.
	staples served
	// verdict is what ocspwatch must report.
	verdict verdict
}

// checkStackCase compares the server's staple with the pinned behaviour,
// and ocspwatch's verdict with the expected one, naming the stack, the
// case and what was wrong.
func checkStackCase(t *testing.T, p *stackPKI, stack string, c stackCase) {
	t.Helper()
	if got := observeStaple(t, c.addr); got != c.staples {
		t.Errorf("%s, %s (%s): the server staples %v, pinned behaviour is %v", stack, c.name, c.addr, got, c.staples)
	}
	if got := checkEndpoint(t, p, c.addr); !got.equal(c.verdict) {
		t.Errorf("%s, %s (%s): ocspwatch check says\n  %v\nwant\n  %v", stack, c.name, c.addr, got, c.verdict)
	}
}

// waitTLS waits, up to limit, until a TLS handshake with addr works,
// failing with the server's log if it exits first.
func waitTLS(t *testing.T, server *proc.Process, addr string, limit time.Duration, log func() string) {
	t.Helper()
	proc.WaitFor(t, limit, server.Name+" to serve TLS on "+addr, func() bool {
		if server.Exited() {
			t.Fatalf("%s exited (status %d):\n%s\n%s", server.Name, server.ExitCode(), server.Output(), log())
		}
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

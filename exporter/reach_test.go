package exporter

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// smtp starts a scripted SMTP server stapling a good response, or one
// that does not offer STARTTLS.
func (l *lab) smtp(t *testing.T, offer bool) *testpki.SMTPServer {
	t.Helper()
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{l.responder.URL}})
	if err != nil {
		t.Fatal(err)
	}
	staple := testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, testpki.Good, l.now.Add(-time.Hour), l.now.Add(5*time.Hour))}, ProducedAt: l.now.Add(-time.Hour), Signer: l.inter}.MustDER()
	srv, err := testpki.NewSMTPServer(leaf, staple, testpki.SMTPOptions{NoSTARTTLS: !offer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestAgentReachesSTARTTLSEndpoints runs the agent against SMTP STARTTLS
// endpoints named by the starttls key and by the smtp:// scheme, one that
// does not offer STARTTLS, and a direct-TLS one with the chain check
// skipped; each address's TLS version and cipher are on ocsp_cert_info.
func TestAgentReachesSTARTTLSEndpoints(t *testing.T) {
	l := newLab(t)
	mail := l.smtp(t, true)
	plain := l.smtp(t, false)
	direct := l.server(t, 5*time.Hour)
	ra := startAgent(t, l.target("smtp-key", mail.Addr, "starttls = \"smtp\"\n")+
		l.target("smtp-scheme", "smtp://"+mail.Addr, "")+
		l.target("no-starttls", plain.Addr, "starttls = \"smtp\"\n")+
		l.target("skip-verify", direct.Addr, "insecure_skip_verify = true\ntls_max_version = \"1.2\"\n"), func() time.Time { return l.now })
	body := ra.metrics(t)
	for _, want := range []string{
		`ocsp_probe_success{target="smtp-key"} 1`,
		`ocsp_probe_success{target="smtp-scheme"} 1`,
		`ocsp_staple_valid{address="` + mail.Addr + `",target="smtp-key"} 1`,
		`ocsp_probe_success{target="no-starttls"} 0`,
		`ocsp_probe_failure_reason{reason="starttls_refused",target="no-starttls"} 1`,
		`ocsp_probe_failures_total{reason="starttls_refused"} 1`,
		`ocsp_probe_success{target="skip-verify"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if line := metricLine(body, `ocsp_cert_info{address="`+direct.Addr+`"`); !strings.Contains(line, `chain_verified="skipped"`) ||
		!strings.Contains(line, `tls_version="TLS 1.2"`) || !tlsCipherRE.MatchString(line) {
		t.Errorf("cert info of the TLS 1.2-capped target under insecure_skip_verify: %q", line)
	}
	if line := metricLine(body, `ocsp_cert_info{address="`+mail.Addr+`"`); !strings.Contains(line, `chain_verified="true"`) ||
		!strings.Contains(line, `tls_version="TLS 1.3"`) || !tlsCipherRE.MatchString(line) {
		t.Errorf("cert info over STARTTLS: %q", line)
	}
	// The server's reply is detail, never a label.
	if strings.Contains(body, "250 HELP") || strings.Contains(body, "Exim") {
		t.Error("the server's reply leaked into the metrics")
	}
}

// tlsCipherRE matches a crypto/tls cipher suite name in a label.
var tlsCipherRE = regexp.MustCompile(`tls_cipher="TLS_[A-Z0-9_]+"`)

// TestCertInfoNamesTheNegotiatedALPN: the application protocol the
// server chose is on ocsp_cert_info.
func TestCertInfoNamesTheNegotiatedALPN(t *testing.T) {
	l := newLab(t)
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{l.responder.URL}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := testpki.NewTLSServer(leaf, nil, testpki.ServerOptions{RequireALPN: "h2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ra := startAgent(t, l.target("grpc", srv.Addr, ""), func() time.Time { return l.now })
	if line := metricLine(ra.metrics(t), "ocsp_cert_info{"); !strings.Contains(line, `alpn="h2"`) {
		t.Errorf("ocsp_cert_info lacks alpn=\"h2\": %s", line)
	}
}

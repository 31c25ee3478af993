package exporter

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// TestOneTargetsBadLabelsNeverBreakTheScrape serves a certificate that
// carries every bad label shape at once (invalid UTF-8, a duplicate URL,
// an over-long URL and more URLs than the cap) next to a healthy target.
func TestOneTargetsBadLabelsNeverBreakTheScrape(t *testing.T) {
	l := newLab(t)
	good := l.server(t, time.Hour)
	urls := []string{
		l.responder.URL + "/\xff\xfe",
		l.responder.URL,
		l.responder.URL,
		l.responder.URL + "/" + strings.Repeat("a", probe.MaxURLLength),
		l.responder.URL + "/" + strings.Repeat("é", 200),
	}
	for i := range 20 {
		urls = append(urls, l.responder.URL+"/extra/"+strings.Repeat("x", i))
	}
	leaf, err := l.inter.NewLeaf(testpki.LeafOptions{OCSPServers: urls})
	if err != nil {
		t.Fatal(err)
	}
	hostile, err := testpki.NewTLSServer(leaf, nil, testpki.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hostile.Close)

	ra := startAgent(t, l.target("good", good.Addr, "")+l.target("hostile", hostile.Addr, ""), func() time.Time { return l.now })
	code, body := ra.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: HTTP %d:\n%s", code, body)
	}
	if strings.Contains(body, "goroutine ") || strings.Contains(body, "panic") {
		t.Errorf("the scrape body carries a stack trace:\n%s", body)
	}
	if !strings.Contains(body, `ocsp_probe_success{target="good"} 1`) {
		t.Errorf("the healthy target's series are missing:\n%s", grep(body, `target="good"`))
	}
	if !utf8.ValidString(body) {
		t.Error("the exposition is not valid UTF-8")
	}
	responders := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "ocsp_responder_up{") {
			responders[line] = true
		}
		if strings.Contains(line, `target="hostile"`) || strings.HasPrefix(line, "ocsp_respond") {
			for _, v := range strings.Split(line, `"`) {
				if len(v) > MaxLabelValueBytes {
					t.Errorf("a label value of %d bytes was exported: %.80s…", len(v), v)
				}
			}
		}
	}
	if len(responders) == 0 || len(responders) > probe.MaxURLsPerCert {
		t.Errorf("the two targets export %d responder series, want 1..%d:\n%s", len(responders), probe.MaxURLsPerCert, grep(body, "ocsp_responder_up{"))
	}
}

package exporter

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/demo"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe"
)

// registryText is the exposition client_golang's registry and text
// encoder make of the same store: the reference the cached text must
// match.
func registryText(t *testing.T, a *Agent) string {
	t.Helper()
	families, err := a.registry.Gather()
	if err != nil {
		t.Fatalf("gathering the registry: %v", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// The text written from the targets' cached series must be exactly what
// client_golang makes of the same results, with a region, custom labels
// on every series, CRLs, revoked and failing targets (the demo fleet),
// and again after a reload changes the region, which every cached
// target must then be rendered with.
func TestCachedExpositionMatchesTheRegistry(t *testing.T) {
	now := func() time.Time { return testpki.Epoch }
	fleet, err := demo.Start(demo.Options{Now: now, Dir: t.TempDir(), Schedule: "0 0 1 1 *"})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	demoConfig, err := os.ReadFile(fleet.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	withRegion := func(region string) string {
		return strings.Replace(string(demoConfig), `region = "demo"`, `region = "`+region+`"`+"\nlabel_mode = \"all\"\nlabels = { team = 'edge\"quoted\\' }", 1)
	}
	writeConfig(t, fleet.ConfigFile, withRegion("eu-west"))
	ra := startAgentFile(t, fleet.ConfigFile, now)

	check := func(region string) {
		t.Helper()
		cached := ra.metrics(t)
		want := registryText(t, ra.Agent)
		if got, want := normalize(cached), normalize(want); got != want {
			t.Errorf("the cached exposition differs from client_golang's:\n%s", diff(want, got))
		}
		if !strings.Contains(cached, `ocsp_probe_success{region="`+region+`",target=`) {
			t.Errorf("no ocsp_probe_success carries region %q:\n%s", region, grep(cached, "ocsp_probe_success"))
		}
		if !strings.Contains(cached, `team="edge\"quoted\\"`) {
			t.Errorf("the custom label's quote and backslash are not escaped:\n%s", grep(cached, "ocsp_target_info"))
		}
	}
	check("eu-west")
	writeConfig(t, fleet.ConfigFile, withRegion("us-east"))
	if code, body := ra.post(t, "/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", code, body)
	}
	check("us-east")
	if m := ra.metrics(t); strings.Contains(m, "eu-west") {
		t.Errorf("a series still carries the old region:\n%s", grep(m, "eu-west"))
	}
}

// A target whose series cannot be exported consistently is left out of
// every scrape, and counted each time, in both paths, while the other
// targets' series stay.
func TestInconsistentTargetIsLeftOutOfEveryScrape(t *testing.T) {
	path := t.TempDir() + "/c.toml"
	writeConfig(t, path, "[[target]]\nname = \"good\"\nendpoint = \"127.0.0.1:1\"\n[[target]]\nname = \"twice\"\nendpoint = \"127.0.0.1:2\"\n")
	a, err := New(Options{ConfigFile: path, Now: func() time.Time { return testpki.Epoch }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a.store.sync(cfg.Targets)
	ep := &probe.StapleResult{Address: "127.0.0.1:2", HandshakeOK: false}
	a.store.record(a.store.get("good"), &probe.Report{Target: "good", Success: true}, testpki.Epoch)
	// The same address twice would export its series twice.
	a.store.record(a.store.get("twice"), &probe.Report{Target: "twice", Endpoints: []*probe.StapleResult{ep, ep}, Failures: []probe.Problem{{Reason: probe.ReasonConnect}}}, testpki.Epoch)

	for i, want := range []string{"1", "2"} {
		var b bytes.Buffer
		if err := a.writeMetrics(&b, expfmt.NewFormat(expfmt.TypeTextPlain)); err != nil {
			t.Fatal(err)
		}
		m := b.String()
		if !strings.Contains(m, `ocsp_probe_success{target="good"} 1`) || strings.Contains(m, `target="twice"`) {
			t.Errorf("scrape %d: want good's series and none of twice's:\n%s", i, grep(m, "ocsp_probe_success", "target="))
		}
		if line := "ocspwatch_scrape_targets_dropped_total " + want; !strings.Contains(m, line) {
			t.Errorf("scrape %d: missing %s:\n%s", i, line, grep(m, "dropped"))
		}
	}
	if m := registryText(t, a); !strings.Contains(m, "ocspwatch_scrape_targets_dropped_total 3") || strings.Contains(m, `target="twice"`) {
		t.Errorf("the registry path does not leave the target out and count it:\n%s", grep(m, "dropped", `target="twice"`))
	}
}

// scrape fetches /metrics with the given Accept header and no transparent
// decompression, so the test sees what was sent.
func scrape(t *testing.T, ra *runningAgent, accept, encoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ra.http.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with Accept %q: HTTP %d: %s", accept, resp.StatusCode, body)
	}
	return resp, body
}

// Headers as Prometheus sends them: 2.x by default, 3.x by default, and
// 3.x with native histograms, which puts protobuf first.
const (
	acceptPrometheus2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	acceptPrometheus3 = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	acceptNative      = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1"
	acceptProtobuf    = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
)

func TestMetricsFormatsAsPrometheusNegotiatesThem(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 3*time.Hour)
	ra := startAgent(t, "region = \"eu\"\n"+l.target("www", srv.Addr, "")+l.target("api", srv.Addr, ""), func() time.Time { return l.now })
	plain := ra.metrics(t)
	wantSeries := countOwnSamples(t, plain)

	t.Run("plain text by default", func(t *testing.T) {
		resp, body := scrape(t, ra, "", "")
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q, want text/plain; version=0.0.4", ct)
		}
		if got := countOwnSamples(t, string(body)); got != wantSeries {
			t.Errorf("%d series, want %d", got, wantSeries)
		}
	})
	for _, tc := range []struct{ name, accept string }{
		{"Prometheus 2", acceptPrometheus2},
		{"Prometheus 3", acceptPrometheus3},
		{"Prometheus 3 with native histograms, which also accepts text", acceptNative},
	} {
		t.Run(tc.name+": OpenMetrics", func(t *testing.T) {
			resp, body := scrape(t, ra, tc.accept, "")
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
				t.Fatalf("Content-Type %q, want OpenMetrics 1.0.0", ct)
			}
			checkOpenMetrics(t, string(body), wantSeries)
		})
	}
	t.Run("protobuf only", func(t *testing.T) {
		resp, body := scrape(t, ra, acceptProtobuf, "")
		format := expfmt.ResponseFormat(resp.Header)
		if format.FormatType() != expfmt.TypeProtoDelim {
			t.Fatalf("Content-Type %q, want delimited protobuf", resp.Header.Get("Content-Type"))
		}
		dec := expfmt.NewDecoder(bytes.NewReader(body), format)
		got := 0
		for {
			var f dto.MetricFamily
			if err := dec.Decode(&f); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(f.GetName(), "ocsp") {
				got += len(f.Metric)
			}
		}
		if got != wantSeries {
			t.Errorf("%d series in protobuf, want %d as in text", got, wantSeries)
		}
	})
	t.Run("protobuf's text encoding goes whole through client_golang", func(t *testing.T) {
		resp, body := scrape(t, ra, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", "")
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "encoding=text") {
			t.Fatalf("Content-Type %q, want protobuf's text encoding", ct)
		}
		// prototext varies its spacing on purpose.
		if strings.Contains(string(body), "\n# TYPE ocsp_") || !regexp.MustCompile(`name:\s+"ocsp_probe_success"`).Match(body) {
			t.Errorf("the body mixes formats or lacks ocsp_probe_success:\n%.400s", body)
		}
	})
	t.Run("gzip", func(t *testing.T) {
		resp, body := scrape(t, ra, acceptPrometheus2, "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		checkOpenMetrics(t, string(text), wantSeries)
		if _, body := scrape(t, ra, "", "gzip;q=0, identity"); bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
			t.Error("gzip;q=0 still got a gzip body")
		}
	})
}

// countOwnSamples parses a text exposition and counts the agent's samples.
func countOwnSamples(t *testing.T, text string) int {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the text exposition does not parse: %v", err)
	}
	n := 0
	for name, f := range families {
		if strings.HasPrefix(name, "ocsp") {
			n += len(f.Metric)
		}
	}
	return n
}

// checkOpenMetrics checks what the text parser cannot: one header per
// family, counters named without _total, every sample after its family's
// TYPE, and # EOF last. TestMonitoringStack has a real Prometheus parse it.
func checkOpenMetrics(t *testing.T, text string, wantSeries int) {
	t.Helper()
	if !strings.HasSuffix(text, "\n# EOF\n") || strings.Count(text, "# EOF") != 1 {
		t.Errorf("OpenMetrics must end with one # EOF:\n…%s", text[max(0, len(text)-200):])
	}
	typed := map[string]string{}
	current, samples := "", 0
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(name, " ")
			// client_golang's own go_memstats_alloc_bytes and
			// go_memstats_alloc_bytes_total collide under OpenMetrics'
			// naming; Prometheus accepts it, and they are not ours.
			if _, dup := typed[name]; dup && strings.HasPrefix(name, "ocsp") {
				t.Errorf("family %s has two TYPE lines", name)
			}
			if typ == "counter" && strings.HasSuffix(name, "_total") {
				t.Errorf("counter family %s keeps its _total suffix", name)
			}
			typed[name], current = typ, name
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if name != current && !(typed[current] == "counter" && name == current+"_total") &&
			!(typed[current] == "summary" && (name == current+"_sum" || name == current+"_count")) {
			t.Errorf("sample %s outside its family (current family %s)", name, current)
		}
		if strings.HasPrefix(name, "ocsp") {
			samples++
		}
	}
	if samples != wantSeries {
		t.Errorf("%d series in OpenMetrics, want %d", samples, wantSeries)
	}
}

// Every label a metric sets is reserved in the configuration, so a
// custom label can never name it; were one to get through, the emitter
// drops the group rather than write a label twice, which would fail the
// whole scrape in Prometheus.
func TestCustomLabelsNeverRepeatAMetricsLabel(t *testing.T) {
	for _, m := range slices.Concat(allMetrics, crlMetrics) {
		for _, name := range append(slices.Clone(m.Labels), "region") {
			if !config.IsReservedLabelName(name) {
				t.Errorf("%s's label %q is not reserved: a custom label could repeat it", m.Name, name)
			}
		}
	}
	var got []sample
	e := newEmitter(func(g []sample) error { got = g; return nil })
	err := e.group("t", func() {
		e.custom, e.onAll = []config.Label{{Name: "alpn", Value: "x"}}, true
		e.emit(mTLSUp, 1, "t", "127.0.0.1:443")
		e.emit(mCertInfo, 1, "t", "a", "s", "sub", "iss", "na", "fp", "r", "false", "false", "ocsp", "true", "TLS 1.3", "c", "h2")
	})
	if err == nil || got != nil {
		t.Errorf("a custom label named like one of the metric's own was exported: err %v, samples %v", err, got)
	}
}

// A zero quality refuses a value however it is written; any other keeps it.
func TestAcceptedValuesHonourZeroQuality(t *testing.T) {
	for header, want := range map[string]bool{
		"gzip":                    true,
		"gzip;q=0.5, identity":    true,
		"deflate, GZIP":           true,
		"gzip;q=0":                false,
		"gzip; q=0.0, identity":   false,
		"gzip;Q=0.000":            false,
		"identity, gzip ; q = 0 ": false,
		"":                        false,
	} {
		if got := acceptsGzip(http.Header{"Accept-Encoding": {header}}); got != want {
			t.Errorf("Accept-Encoding %q: gzip accepted %v, want %v", header, got, want)
		}
	}
	if _, ok := acceptedTextFormat(http.Header{"Accept": {acceptProtobuf + ",text/plain;version=0.0.4;q=0.0"}}); ok {
		t.Error("text/plain with q=0.0 counted as accepted")
	}
}

package exporter

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseProbeQuery(t *testing.T) {
	cases := []struct {
		query string
		want  probeQuery
		bad   string
	}{
		{query: "target=www", want: probeQuery{target: "www"}},
		{query: "target=www&debug=true", want: probeQuery{target: "www", debug: true}},
		{query: "endpoint=h:443&server_name=h", want: probeQuery{endpoint: "h:443", serverName: "h"}},
		{query: "", bad: "missing"},
		{query: "target=a&endpoint=b:1", bad: "not both"},
		{query: "target=a&target=b", bad: "2 times"},
		{query: "target=a&debug=yes", bad: "true or false"},
		{query: "target=a&module=x", bad: "unknown parameter"},
		{query: "target=a&server_name=x", bad: "goes with endpoint"},
		{query: "target=" + strings.Repeat("a", maxProbeParam+1), bad: "longer than"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		got, err := parseProbeQuery(q)
		switch {
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%q: err %v, want one with %q", c.query, err, c.bad)
		case c.bad == "" && (err != nil || got != c.want):
			t.Errorf("%q: %+v, %v; want %+v", c.query, got, err, c.want)
		}
	}
}

func FuzzParseProbeQuery(f *testing.F) {
	for _, s := range []string{"target=www", "endpoint=h:443&server_name=h&debug=true", "target=a&target=b", "%zz", "debug=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		pq, err := parseProbeQuery(q)
		if err != nil {
			return
		}
		if (pq.target == "") == (pq.endpoint == "") {
			t.Fatalf("%q: accepted with target %q and endpoint %q", raw, pq.target, pq.endpoint)
		}
		if len(pq.target) > maxProbeParam || len(pq.endpoint) > maxProbeParam || len(pq.serverName) > maxProbeParam {
			t.Fatalf("%q: an oversized parameter was accepted", raw)
		}
	})
}

package exporter

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The text formats are written from series each target rendered when its
// run ended: a target's series change only then, so a scrape of 50,000
// targets copies bytes instead of building 800,000 metrics. The
// Prometheus text format and OpenMetrics share the sample lines; only the
// family headers and the closing "# EOF" differ.

// families are every metric in the order a scrape writes them, by name
// as client_golang's registry sorts them.
var families = func() []*metricDef {
	var out []*metricDef
	for _, m := range slices.Concat(allMetrics, crlMetrics) {
		out = append(out, &m)
	}
	slices.SortFunc(out, func(a, b *metricDef) int { return strings.Compare(a.Name, b.Name) })
	return out
}()

var familyIndex = func() map[string]int {
	idx := make(map[string]int, len(families))
	for i, m := range families {
		idx[m.Name] = i
	}
	return idx
}()

// rendered is one group's series as exposition lines, grouped by family
// in families order.
type rendered struct {
	region string
	text   []byte
	segs   []segment
	// err is why the group could not be exported; a scrape leaves it out
	// and counts it, every time, as it would a group that fails then.
	err error
}

// segment says that the lines of family end at text[end], after the
// previous segment's.
type segment struct {
	family uint16
	end    uint32
}

// renderTarget renders one target's series with the region label.
func renderTarget(name string, r results, region string) *rendered {
	var out *rendered
	e := newEmitter(func(group []sample) error {
		out = renderSamples(group, region)
		return nil
	})
	if err := e.group(name, func() { e.target(snapshot{name: name, results: r}) }); err != nil {
		return &rendered{region: region, err: err}
	}
	return out
}

// renderer renders several groups into one rendered, for the series
// computed at scrape time (the agent's own, responders, CRLs, totals).
type renderer struct {
	region  string
	samples []sample
}

func (r *renderer) add(group []sample) error {
	r.samples = append(r.samples, group...)
	return nil
}

func (r *renderer) done() *rendered { return renderSamples(r.samples, r.region) }

// renderScratch holds the buffers a rendering grows, so that what a
// target keeps is an exact-size copy: 50,000 targets keep their series
// for as long as they run, and append's doubling would waste a third.
type renderScratch struct {
	text []byte
	segs []segment
}

var renderScratches = sync.Pool{New: func() any { return new(renderScratch) }}

func renderSamples(group []sample, region string) *rendered {
	slices.SortStableFunc(group, func(a, b sample) int { return cmp.Compare(a.family, b.family) })
	scratch := renderScratches.Get().(*renderScratch)
	defer renderScratches.Put(scratch)
	text, segs := scratch.text[:0], scratch.segs[:0]
	for _, s := range group {
		text = appendSample(text, s, region)
		f := uint16(s.family)
		if n := len(segs); n > 0 && segs[n-1].family == f {
			segs[n-1].end = uint32(len(text))
		} else {
			segs = append(segs, segment{family: f, end: uint32(len(text))})
		}
	}
	scratch.text, scratch.segs = text, segs
	return &rendered{region: region, text: bytes.Clone(text), segs: slices.Clone(segs)}
}

type labelPair struct{ name, value string }

// appendSample writes one sample line as client_golang's text encoder
// does, labels sorted by name, region among them, but without the
// metric's name: the family's segment implies it and writeFamilies puts
// it back, which keeps a third of every target's kept series out of the
// heap.
func appendSample(b []byte, s sample, region string) []byte {
	var buf [24]labelPair
	pairs := buf[:0]
	for i, n := range s.names {
		pairs = append(pairs, labelPair{n, s.values[i]})
	}
	if region != "" {
		pairs = append(pairs, labelPair{"region", region})
	}
	slices.SortFunc(pairs, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	if len(pairs) > 0 {
		b = append(b, '{')
		for i, p := range pairs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, p.name...)
			b = append(b, '=', '"')
			b = appendEscaped(b, p.value, false)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendValue(b, s.value)
	return append(b, '\n')
}

// appendEscaped escapes a label value, or with help a HELP text, which
// the Prometheus text format leaves its quotes unescaped in.
func appendEscaped(b []byte, s string, help bool) []byte {
	if !strings.ContainsAny(s, "\\\"\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && !help:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue formats a value valid in both formats: OpenMetrics
// accepts integers without a fraction.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendHeader writes a family's HELP and TYPE lines. OpenMetrics names
// a counter family without its _total suffix and escapes quotes in HELP.
func appendHeader(b []byte, m *metricDef, openMetrics bool) []byte {
	name, typ := m.Name, "gauge"
	if m.Type == prometheus.CounterValue {
		typ = "counter"
		if openMetrics {
			name = strings.TrimSuffix(name, "_total")
		}
	}
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, m.Help, !openMetrics)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// writeFamilies writes every family the groups have series of, each
// family's header once, then its lines from each group in turn.
func writeFamilies(w *bufio.Writer, groups []*rendered, openMetrics bool) error {
	// next[i] is the family of group i's next segment, kept in one flat
	// array: the loop over families then reads each group's own memory
	// only to write it. Reaching through every group for every family
	// cost 0.4 s of a 50,000-target scrape in cache misses.
	const done = math.MaxUint16
	next := make([]uint16, len(groups))
	cursor := make([]uint16, len(groups))
	var present [256]bool
	for i, g := range groups {
		next[i] = done
		if len(g.segs) > 0 {
			next[i] = g.segs[0].family
		}
		for _, s := range g.segs {
			present[s.family] = true
		}
	}
	var header []byte
	for f, m := range families {
		if !present[f] {
			continue
		}
		header = appendHeader(header[:0], m, openMetrics)
		if _, err := w.Write(header); err != nil {
			return err
		}
		for i, fam := range next {
			if fam != uint16(f) {
				continue
			}
			g, c := groups[i], cursor[i]
			start := uint32(0)
			if c > 0 {
				start = g.segs[c-1].end
			}
			if err := writeLines(w, m.Name, g.text[start:g.segs[c].end]); err != nil {
				return err
			}
			c++
			cursor[i], next[i] = c, done
			if int(c) < len(g.segs) {
				next[i] = g.segs[c].family
			}
		}
	}
	return nil
}

// writeLines writes a segment's lines, each after the metric's name.
func writeLines(w *bufio.Writer, name string, lines []byte) error {
	for len(lines) > 0 {
		end := bytes.IndexByte(lines, '\n') + 1
		if end == 0 {
			end = len(lines)
		}
		if _, err := w.WriteString(name); err != nil {
			return err
		}
		if _, err := w.Write(lines[:end]); err != nil {
			return err
		}
		lines = lines[end:]
	}
	return nil
}

// exposition collects what one text-format scrape writes: the groups
// rendered now and the targets' cached ones.
func (a *Agent) expositionGroups() []*rendered {
	cfg, health := a.configAndHealth()
	region := ""
	if cfg != nil {
		region = cfg.Region
	}
	c := &collector{store: a.store, agent: a, logger: a.logger}
	own := &renderer{region: region}
	e := newEmitter(own.add)
	e.group("", func() { e.agent(cfg, health, a.QueuedRuns()) })

	states := a.store.inOrder()
	groups := make([]*rendered, 0, len(states)+2)
	groups = append(groups, own.done())
	for _, st := range states {
		r := st.exposition.Load()
		if r == nil || r.region != region {
			r = a.store.rerender(st, r, region)
		}
		if r.err != nil {
			c.drop("target", st.name, r.err)
			continue
		}
		groups = append(groups, r)
	}
	rest := &renderer{region: region}
	e = newEmitter(rest.add)
	c.shared(e, a.store.lastReports())
	e.group("", func() { e.totals(a.store, &a.scrapeDropped) })
	return append(groups, rest.done())
}

// rerender renders a target whose cached series are missing or carry
// another region, and caches them unless a run replaced old meanwhile.
func (s *store) rerender(st *targetState, old *rendered, region string) *rendered {
	s.mu.RLock()
	r := st.results
	s.mu.RUnlock()
	fresh := renderTarget(st.name, r, region)
	if st.exposition.CompareAndSwap(old, fresh) {
		return fresh
	}
	// A run ended meanwhile; its rendering is newer, unless a reload is
	// changing the region and it carries the other one.
	if cur := st.exposition.Load(); cur.region == region {
		return cur
	}
	return fresh
}

// serveMetrics serves /metrics. The text format and OpenMetrics are
// written from the targets' cached series; a client that accepts only
// protobuf gets client_golang's encoder over the same series, which
// builds every metric and so is much slower for a large fleet. A client
// that accepts protobuf and a text format gets the text format: no
// ocspwatch series is a native histogram, so protobuf would carry
// nothing more.
func (a *Agent) serveMetrics(w http.ResponseWriter, r *http.Request) {
	format := expfmt.NegotiateIncludingOpenMetrics(r.Header)
	switch format.FormatType() {
	case expfmt.TypeTextPlain, expfmt.TypeOpenMetrics:
	default: // the protobuf encodings: delimited, text and compact
		text, ok := acceptedTextFormat(r.Header)
		if !ok {
			a.protobufHandler.ServeHTTP(w, r)
			return
		}
		format = text
	}
	h := w.Header()
	h.Set("Content-Type", string(format))
	h.Add("Vary", "Accept-Encoding")
	var out io.Writer = w
	if acceptsGzip(r.Header) {
		h.Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() {
			if err := gz.Close(); err != nil {
				a.logger.Debug("writing /metrics", "err", err)
			}
			gzipWriters.Put(gz)
		}()
		out = gz
	}
	if err := a.writeMetrics(out, format); err != nil {
		// The client went away; the status line is already sent.
		a.logger.Debug("writing /metrics", "err", err)
	}
}

var gzipWriters = sync.Pool{New: func() any {
	// BestSpeed: the exposition is repetitive text that compresses well
	// at any level, and the scrape's time is the budget that matters.
	gz, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return gz
}}

// writeMetrics writes the whole exposition: the Go and process families
// through client_golang's encoder, then the agent's own families.
func (a *Agent) writeMetrics(w io.Writer, format expfmt.Format) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := expfmt.NewEncoder(bw, format)
	runtimeFamilies, err := a.runtime.Gather()
	if err != nil {
		a.logger.Error("gathering the Go and process metrics", "err", err)
	}
	for _, f := range runtimeFamilies {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	if err := writeFamilies(bw, a.expositionGroups(), format.FormatType() == expfmt.TypeOpenMetrics); err != nil {
		return err
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil { // OpenMetrics' # EOF
			return err
		}
	}
	return bw.Flush()
}

// acceptedTextFormat is the format negotiated from the Accept header
// with its protobuf entries left out, if the client accepts a text one.
func acceptedTextFormat(h http.Header) (expfmt.Format, bool) {
	var kept []string
	textual := false
	for _, v := range acceptedValues(h.Get("Accept")) {
		if v.name == "application/vnd.google.protobuf" {
			continue
		}
		switch v.name {
		case "text/plain", "application/openmetrics-text", "text/*", "*/*":
			textual = true
		}
		kept = append(kept, v.raw)
	}
	if !textual {
		return "", false
	}
	return expfmt.NegotiateIncludingOpenMetrics(http.Header{"Accept": {strings.Join(kept, ",")}}), true
}

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(h http.Header) bool {
	for _, v := range acceptedValues(h.Get("Accept-Encoding")) {
		if v.name == "gzip" {
			return true
		}
	}
	return false
}

// acceptedValue is one entry of an Accept or Accept-Encoding header.
type acceptedValue struct{ name, raw string }

// acceptedValues lists the entries of an Accept or Accept-Encoding
// header that the client did not refuse with a zero quality.
func acceptedValues(header string) []acceptedValue {
	var out []acceptedValue
	for _, raw := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(raw, ";")
		refused := false
		for _, p := range strings.Split(params, ";") {
			key, value, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(key), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				refused = err == nil && q == 0
			}
		}
		if name = strings.ToLower(strings.TrimSpace(name)); name != "" && !refused {
			out = append(out, acceptedValue{name: name, raw: raw})
		}
	}
	return out
}

package exporter

import (
	"strings"
	"unicode/utf8"
)

// MaxLabelValueBytes caps every label value. Label values such as a
// responder URL come from certificates the agent does not control, and
// one oversized or invalid value must not cost the whole scrape.
const MaxLabelValueBytes = 256

// labelValue makes s safe to use as a label value: invalid UTF-8 becomes
// U+FFFD, and a value over MaxLabelValueBytes is cut on a rune boundary
// and marked with "…", so two long values that differ only at the end
// may collide; the emitter drops the target's series rather than fail the
// scrape when they do.
func labelValue(s string) string {
	if len(s) <= MaxLabelValueBytes && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxLabelValueBytes {
		return s
	}
	const ellipsis = "…"
	cut := MaxLabelValueBytes - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

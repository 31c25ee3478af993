// Package human formats durations and instants the way operators read
// them ("3d4h", "expires in 2h5m", "expired 10m ago"), and makes remote
// text safe to print on a terminal.
package human

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Duration renders d with its two largest units, down to seconds:
// 3d4h, 2h5m, 45m10s, 12s. Sub-second durations render as milliseconds.
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	if d < 10*time.Second {
		// Latencies of a few seconds need their tenths: 1.5s, not 1s.
		return d.Round(100 * time.Millisecond).String()
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var b strings.Builder
	shown := 0
	for _, u := range units {
		if d < u.size && shown == 0 {
			continue
		}
		n := d / u.size
		d -= n * u.size
		if n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
		shown++
		if shown == 2 {
			break
		}
	}
	return b.String()
}

// Until says how far t is from now: "in 3d4h" or "2h ago".
func Until(t, now time.Time) string {
	if d := t.Sub(now); d >= 0 {
		return "in " + Duration(d)
	}
	return Duration(now.Sub(t)) + " ago"
}

// Expiry says "expires in 3d4h" or "expired 2h ago".
func Expiry(t, now time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "expires in " + Duration(d)
	} else if d == 0 {
		return "expires now"
	}
	return "expired " + Duration(now.Sub(t)) + " ago"
}

// Safe escapes what a terminal would act on: control and format
// characters (ESC, BEL, CR, bidi overrides) and invalid UTF-8 become \x
// or \u escapes, so text from a certificate or a server prints as one
// inert line and cannot forge another, such as "verdict: OK".
func Safe(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		s = s[size:]
	}
	return b.String()
}

package exporter

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLabelValueIsValidUTF8AndCapped(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "http://ocsp.example.com", want: "http://ocsp.example.com"},
		{name: "invalid byte", in: "http://ocsp.example.com/\xff", want: "http://ocsp.example.com/\uFFFD"},
		{name: "exactly the cap", in: strings.Repeat("a", MaxLabelValueBytes), want: strings.Repeat("a", MaxLabelValueBytes)},
		{name: "over the cap", in: strings.Repeat("a", MaxLabelValueBytes+1), want: strings.Repeat("a", MaxLabelValueBytes-3) + "…"},
		{name: "cut inside a rune", in: strings.Repeat("é", MaxLabelValueBytes), want: strings.Repeat("é", (MaxLabelValueBytes-3)/2) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := labelValue(c.in)
			if got != c.want {
				t.Errorf("labelValue(%q) = %q, want %q", c.in, got, c.want)
			}
			if !utf8.ValidString(got) || len(got) > MaxLabelValueBytes {
				t.Errorf("labelValue(%q) = %q: %d bytes, valid UTF-8 %v", c.in, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"", "http://127.0.0.1:8080/ocsp", "\xff\xfe", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := labelValue(s)
		if !utf8.ValidString(got) || len(got) > MaxLabelValueBytes {
			t.Fatalf("labelValue(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && len(s) <= MaxLabelValueBytes && got != s {
			t.Fatalf("a valid short value changed: %q -> %q", s, got)
		}
	})
}

func TestUnixSurvivesYear9999(t *testing.T) {
	noExpiry := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	if got := unix(noExpiry); got != 253402300799 {
		t.Errorf("unix(9999-12-31T23:59:59Z) = %v, want 253402300799", got)
	}
	if got := unix(time.Unix(1, 500_000_000)); got != 1.5 {
		t.Errorf("unix(1.5s) = %v", got)
	}
}

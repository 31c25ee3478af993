package human

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{3*24*time.Hour + 4*time.Hour + 5*time.Minute, "3d4h"},
		{2*time.Hour + 5*time.Minute + 9*time.Second, "2h5m"},
		{2 * time.Hour, "2h"},
		{45*time.Minute + 10*time.Second, "45m10s"},
		{12 * time.Second, "12s"},
		{1503 * time.Millisecond, "1.5s"},
		{3 * time.Second, "3s"},
		{250 * time.Millisecond, "250ms"},
		{-90 * time.Second, "1m30s"},
		{-1500 * time.Millisecond, "1.5s"},
		{24*time.Hour + 30*time.Second, "1d"},
	} {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestExpiryAndUntil(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := Expiry(now.Add(3*time.Hour), now); got != "expires in 3h" {
		t.Errorf("Expiry = %q", got)
	}
	if got := Expiry(now.Add(-10*time.Minute), now); got != "expired 10m ago" {
		t.Errorf("Expiry past = %q", got)
	}
	if got := Expiry(now, now); got != "expires now" {
		t.Errorf("Expiry at the instant = %q", got)
	}
	if got := Until(now.Add(-time.Hour), now); got != "1h ago" {
		t.Errorf("Until = %q", got)
	}
}

package config

import (
	"fmt"
	"testing"
	"time"
)

func TestScheduleSpreadsTenThousandTargets(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	perSecond, perMilli := map[time.Time]int{}, map[time.Time]int{}
	for i := range 10000 {
		s, err := parseSchedule("@every 1m", fmt.Sprintf("target-%05d", i))
		if err != nil {
			t.Fatal(err)
		}
		next := s.Next(start)
		if d := next.Sub(start); d <= 0 || d > time.Minute {
			t.Fatalf("next run %s after start, want within (0, 1m]", d)
		}
		if again := s.Next(next); again.Sub(next) != time.Minute {
			t.Fatalf("period %s, want 1m", again.Sub(next))
		}
		perSecond[next.Truncate(time.Second)]++
		perMilli[next]++
	}
	// A perfect spread is 10000/60 ≈ 167 per second, and offsets have
	// millisecond resolution, so few targets share an instant.
	if len(perSecond) != 60 {
		t.Errorf("targets fire in %d distinct seconds, want all 60", len(perSecond))
	}
	for at, n := range perMilli {
		if n > 5 {
			t.Errorf("%d targets fire at the same instant %s", n, at.Format(time.StampMilli))
		}
	}
	for at, n := range perSecond {
		if n > 250 {
			t.Errorf("%d targets fire at %s", n, at.Format(time.TimeOnly))
		}
	}
}

func TestScheduleForms(t *testing.T) {
	from := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec    string
		name    string
		exactly time.Time
	}{
		{"0 */5 * * * *", "x", time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)},
		{"*/5 * * * *", "", time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)},
	} {
		s, err := parseSchedule(tc.spec, tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got := s.Next(from); !got.Equal(tc.exactly) {
			t.Errorf("%s: next %s, want %s", tc.spec, got, tc.exactly)
		}
	}
	s, err := parseSchedule("*/5 * * * *", "spread-me")
	if err != nil {
		t.Fatal(err)
	}
	off := ScheduleOffset(s)
	if got := s.Next(from); !got.Equal(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(off)) && !got.Equal(time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC).Add(off)) {
		t.Errorf("5-field schedule not shifted by its %s offset: %s", off, got)
	}
	every, err := parseSchedule("@every 90s", "")
	if err != nil {
		t.Fatal(err)
	}
	if next := every.Next(from); next.Sub(from) <= 0 || next.Sub(from) > 90*time.Second || every.Next(next).Sub(next) != 90*time.Second {
		t.Errorf("@every 90s: next %s", next)
	}
	for _, bad := range []string{"*/61 * * * *", "* * *", "@every 0s", "@every soon", "0 0 30 2 *", "@fortnightly"} {
		if _, err := parseSchedule(bad, "x"); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

package config

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// The fields of a cron expression with seconds, for step checks that
// robfig/cron leaves out ("*/61" would silently mean "at minute 0").
var cronFields = []struct {
	name     string
	min, max int
}{{"second", 0, 59}, {"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 6}}

// parseSchedule accepts a cron expression (seconds optional), a
// descriptor such as @hourly, or "@every 30s", and spreads it by a
// deterministic offset derived from name so that thousands of targets on
// the same schedule do not fire in the same second:
//   - "@every D" runs on a D-long grid shifted by hash(name) mod D;
//   - a 5-field expression or descriptor is shifted by hash(name) mod 60s;
//   - a 6-field expression names its seconds and is run exactly.
func parseSchedule(spec, name string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration", rest)
		}
		if d < time.Second {
			return nil, errors.New("@every needs at least 1s")
		}
		d = d.Round(time.Second)
		return everySchedule{period: d, offset: Spread(name, d)}, nil
	}
	fields := strings.Fields(spec)
	if !strings.HasPrefix(spec, "@") {
		if len(fields) != 5 && len(fields) != 6 {
			return nil, fmt.Errorf("has %d fields, want 5 (minute hour day month weekday) or 6 (with seconds first)", len(fields))
		}
		if err := checkSteps(fields); err != nil {
			return nil, err
		}
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	probeFrom := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if sched.Next(probeFrom).IsZero() {
		return nil, errors.New("never fires")
	}
	if len(fields) == 6 {
		return sched, nil
	}
	return shiftedSchedule{inner: sched, offset: Spread(name, time.Minute)}, nil
}

func checkSteps(fields []string) error {
	offset := 0
	if len(fields) == 5 {
		offset = 1
	}
	for i, f := range fields {
		bounds := cronFields[i+offset]
		for _, part := range strings.Split(f, ",") {
			_, stepText, ok := strings.Cut(part, "/")
			if !ok {
				continue
			}
			step, err := strconv.Atoi(stepText)
			if err != nil || step < 1 {
				return fmt.Errorf("%s field: step %q is not a positive number", bounds.name, stepText)
			}
			if span := bounds.max - bounds.min + 1; step >= span {
				return fmt.Errorf("%s field: step %d is not below the field's %d values (%d-%d)", bounds.name, step, span, bounds.min, bounds.max)
			}
		}
	}
	return nil
}

// Spread is a stable offset for name within period, to the millisecond:
// whole seconds would put a thousand targets on one schedule into 60
// slots a minute, and the agent's own contention into their timings. The
// agent's first pass after a start or reload spreads targets with it too.
func Spread(name string, period time.Duration) time.Duration {
	if name == "" || period < time.Millisecond {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64()%uint64(period/time.Millisecond)) * time.Millisecond
}

// everySchedule fires on a fixed grid, so the spread survives restarts and
// two agents with the same config fire at the same moments.
type everySchedule struct {
	period, offset time.Duration
}

func (s everySchedule) Next(t time.Time) time.Time {
	next := t.Truncate(s.period).Add(s.offset)
	for !next.After(t) {
		next = next.Add(s.period)
	}
	return next
}

// shiftedSchedule runs a cron schedule a fixed offset later.
type shiftedSchedule struct {
	inner  cron.Schedule
	offset time.Duration
}

func (s shiftedSchedule) Next(t time.Time) time.Time {
	next := s.inner.Next(t.Add(-s.offset))
	if next.IsZero() {
		return next
	}
	return next.Add(s.offset)
}

// ScheduleOffset reports the spread applied to a target, for the docs
// and the status page.
func ScheduleOffset(s cron.Schedule) time.Duration {
	switch v := s.(type) {
	case everySchedule:
		return v.offset
	case shiftedSchedule:
		return v.offset
	}
	return 0
}

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// whenHelp is the flag help for every time the CLI takes.
const whenHelp = "a time: 15m or 2h (ago), +30m (from now), now, RFC 3339, 2026-11-23 14:05 (local) or a Unix timestamp"

// parseWhen reads a time as people type one on call: relative to now
// (15m, 2h, 1d ago; +30m from now), now, RFC 3339, a local date and time,
// or Unix seconds. Empty is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	}
	rel, sign := s, -1
	if r, ok := strings.CutPrefix(s, "+"); ok {
		rel, sign = r, 1
	} else if r, ok := strings.CutPrefix(s, "-"); ok {
		rel = r
	}
	if d, err := model.ParseDuration(rel); err == nil {
		return now.Add(time.Duration(sign) * time.Duration(d)), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1e9 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not %s", s, whenHelp)
}

// duration is a flag value read as Prometheus reads durations, so 1d and
// 1w work as well as 90m and 1h30m.
type duration time.Duration

func (d *duration) String() string { return model.Duration(*d).String() }

// Set parses a duration like 90m, 1h30m, 1d or 1w.
func (d *duration) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 30m, 2h, 1d or 1w", s)
	}
	*d = duration(v)
	return nil
}

// Type names the value in help.
func (d *duration) Type() string { return "duration" }

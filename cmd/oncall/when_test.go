package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, loc)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"", time.Time{}, ""},
		{"now", now, ""},
		{"5m", now.Add(-5 * time.Minute), ""},
		{"-1h30m", now.Add(-90 * time.Minute), ""},
		{"1d", now.Add(-24 * time.Hour), ""},
		{"+2h", now.Add(2 * time.Hour), ""},
		{"2026-11-23T08:00:00Z", time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), ""},
		{"2026-11-23 14:05", time.Date(2026, 11, 23, 14, 5, 0, 0, loc), ""},
		{"2026-11-22", time.Date(2026, 11, 22, 0, 0, 0, 0, loc), ""},
		{"1795435200", time.Unix(1795435200, 0), ""},
		{"1795435200.5", time.Unix(1795435200, 5e8), ""},
		{"yesterday", time.Time{}, `"yesterday" is not a time: 15m or 2h (ago)`},
		{"5", time.Time{}, `"5" is not`},
	} {
		got, err := parseWhen(tc.in, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestDurationFlag(t *testing.T) {
	var d duration
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("%s = %v, %v", in, time.Duration(d), err)
		}
	}
	if err := d.Set("soon"); err == nil || !strings.Contains(err.Error(), `"soon" is not a duration`) {
		t.Errorf("soon: %v", err)
	}
}

package nflog

import (
	"testing"
	"time"
)

func set(fps ...uint64) map[uint64]struct{} {
	m := map[uint64]struct{}{}
	for _, fp := range fps {
		m[fp] = struct{}{}
	}
	return m
}

func TestNeedsUpdate(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	repeat := time.Hour
	logged := func(firing, resolved []uint64) *Entry {
		e := NewEntry(Key{}, set(firing...), set(resolved...), t0, repeat)
		return &e
	}
	tests := []struct {
		name             string
		entry            *Entry
		firing, resolved []uint64
		sendResolved     bool
		at               time.Duration
		want             bool
	}{
		{"first firing alerts", nil, []uint64{1}, nil, false, 0, true},
		{"nothing ever fired", nil, nil, []uint64{1}, true, 0, false},
		{"same firing set", logged([]uint64{1, 2}, nil), []uint64{1, 2}, nil, true, time.Minute, false},
		{"a new alert joins", logged([]uint64{1}, nil), []uint64{1, 2}, nil, false, time.Minute, true},
		{"partial resolution without send_resolved", logged([]uint64{1, 2}, nil), []uint64{1}, []uint64{2}, false, time.Minute, false},
		{"partial resolution with send_resolved", logged([]uint64{1, 2}, nil), []uint64{1}, []uint64{2}, true, time.Minute, true},
		{"resolution already notified", logged([]uint64{1}, []uint64{2}), []uint64{1}, []uint64{2}, true, time.Minute, false},
		{"all resolved clears the log even without send_resolved", logged([]uint64{1}, nil), nil, []uint64{1}, false, time.Minute, true},
		{"all resolved, nothing was firing", logged(nil, []uint64{1}), nil, []uint64{1}, true, time.Minute, false},
		{"repeat interval not yet passed", logged([]uint64{1}, nil), []uint64{1}, nil, false, time.Hour, false},
		{"repeat interval passed", logged([]uint64{1}, nil), []uint64{1}, nil, false, time.Hour + time.Second, true},
	}
	for _, tc := range tests {
		got := NeedsUpdate(tc.entry, set(tc.firing...), set(tc.resolved...), tc.sendResolved, repeat, t0.Add(tc.at))
		if got != tc.want {
			t.Errorf("%s: NeedsUpdate = %v, want %v", tc.name, got, tc.want)
		}
	}
	if e := logged([]uint64{3, 1, 2}, nil); !e.ExpiresAt.Equal(t0.Add(2*repeat)) || e.Firing[0] != 1 || e.Firing[2] != 3 {
		t.Errorf("entry: %+v", e)
	}
}

// Reason names NeedsUpdate's cause as Alertmanager does.
func TestReason(t *testing.T) {
	set := func(fps ...uint64) map[uint64]struct{} {
		m := map[uint64]struct{}{}
		for _, f := range fps {
			m[f] = struct{}{}
		}
		return m
	}
	prev := &Entry{Firing: []uint64{1, 2}, Resolved: []uint64{3}}
	for _, tc := range []struct {
		e                *Entry
		firing, resolved map[uint64]struct{}
		sendResolved     bool
		want             string
	}{
		{nil, set(1), set(), false, "first notification"},
		{prev, set(1, 4), set(), false, "new alerts added"},
		{prev, set(), set(1, 2, 3), true, "all alerts resolved"},
		{prev, set(1), set(2, 3), true, "some alerts resolved"},
		{prev, set(1), set(2, 3), false, "repeat interval elapsed"},
		{prev, set(1, 2), set(3), true, "repeat interval elapsed"},
	} {
		if got := Reason(tc.e, tc.firing, tc.resolved, tc.sendResolved); got != tc.want {
			t.Errorf("Reason(%v, %v, %v, %v) = %q, want %q", tc.e, tc.firing, tc.resolved, tc.sendResolved, got, tc.want)
		}
	}
}

package backtest

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

func TestChunks(t *testing.T) {
	tests := []struct {
		n, max int
		want   []chunk
	}{
		{0, 3, nil},
		{3, 3, []chunk{{0, 3}}},
		{10, 3, []chunk{{0, 3}, {3, 6}, {6, 9}, {9, 10}}},
		{40321, MaxPoints, []chunk{{0, 11000}, {11000, 22000}, {22000, 33000}, {33000, 40321}}},
	}
	for _, tc := range tests {
		if got := chunks(tc.n, tc.max); !slices.Equal(got, tc.want) {
			t.Errorf("chunks(%d, %d) = %v, want %v", tc.n, tc.max, got, tc.want)
		}
	}
}

// The grid starts at the group's first slot at or after since and ends
// at its last at or before until.
func TestGrid(t *testing.T) {
	// Slots at :20 of every minute.
	slot := func(ns int64) time.Time {
		t := time.Unix(0, ns).UTC()
		s := t.Truncate(time.Minute).Add(20 * time.Second)
		if s.After(t) {
			s = s.Add(-time.Minute)
		}
		return s
	}
	tests := []struct {
		since, until time.Duration
		first        time.Duration
		n            int
	}{
		{0, 10 * time.Minute, 20 * time.Second, 10},
		{20 * time.Second, 10*time.Minute + 20*time.Second, 20 * time.Second, 11},
		{21 * time.Second, 10 * time.Minute, 80 * time.Second, 9},
		{21 * time.Second, 50 * time.Second, 80 * time.Second, 0},
	}
	for _, tc := range tests {
		g := grid(epoch.Add(tc.since), epoch.Add(tc.until), time.Minute, 0, slot)
		if g.first != epoch.Add(tc.first) || g.n != tc.n {
			t.Errorf("grid(%v, %v) starts at %v with %d instants, want %v and %d", tc.since, tc.until, g.first.Sub(epoch), g.n, tc.first, tc.n)
		}
	}
	// query_offset: each instant queries that much earlier, to the
	// millisecond as the engine reads it.
	g := grid(epoch, epoch.Add(time.Hour), time.Minute, 90*time.Second, func(int64) time.Time { return epoch.Add(1500 * time.Microsecond) })
	if got, want := g.queryMillis(2), epoch.Add(2*time.Minute-90*time.Second).UnixMilli()+1; got != want {
		t.Errorf("queryMillis(2) = %d, want %d", got, want)
	}
}

// A range query's points land on their instants; points off the grid are
// not results.
func TestByInstant(t *testing.T) {
	ls := labels.FromStrings("a", "b")
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	vs := byInstant([]metrics.Series{{Labels: ls, Points: []metrics.Point{{T: at(0), V: 1}, {T: at(time.Minute), V: 2}, {T: at(90 * time.Second), V: 9},
		{T: at(3 * time.Minute), V: 4}, {T: at(-time.Minute), V: 9}}}}, epoch.UnixMilli(), time.Minute.Milliseconds(), 3)
	if len(vs) != 3 || len(vs[0]) != 1 || vs[0][0].F != 1 || len(vs[1]) != 1 || vs[1][0].F != 2 || len(vs[2]) != 0 {
		t.Errorf("vectors %v", vs)
	}
}

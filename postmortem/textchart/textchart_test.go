package textchart

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/golden"
)

func TestSparkline(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		values []float64
		w      int
		want   string
	}{
		{"rising", []float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, "▁▂▃▄▅▆▇█"},
		{"flat", []float64{3, 3, 3}, 10, "▁▁▁"},
		{"gap", []float64{0, nan, 7}, 3, "▁ █"},
		{"spike kept when squeezed", []float64{0, 0, 0, 9, 0, 0, 0, 0}, 4, "▁█▁▁"},
		{"nothing finite", []float64{nan, math.Inf(1)}, 2, "  "},
		{"no room", []float64{1}, 0, ""},
		{"negative", []float64{-2, 0, 2}, 3, "▁▅█"},
	} {
		if got := Sparkline(tc.values, tc.w); got != tc.want {
			t.Errorf("%s: Sparkline(%v, %d) = %q, want %q", tc.name, tc.values, tc.w, got, tc.want)
		}
	}
}

func TestValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.5: "0.5", 0.12345: "0.123", 1234: "1234", 8620.57: "8621", 123.4: "123", 12345: "12.3k", 2.5e6: "2.5M", 3e9: "3G", -0.25: "-0.25"} {
		if got := Value(v); got != want {
			t.Errorf("Value(%v) = %q, want %q", v, got, want)
		}
	}
}

// An error ratio that climbs, holds and falls back, with a gap where the
// source had no samples: the chart keeps the gap, the peak reaches the
// top row, and the axes name the range and the times.
func TestChartGolden(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 60 {
		v := 0.01
		switch {
		case i >= 20 && i < 35:
			v = 0.02 + float64(i-20)*0.06
		case i >= 35 && i < 40:
			v = 0.9
		case i >= 44 && i < 47:
			continue // no samples
		case i >= 40:
			v = 0.05
		}
		pts = append(pts, Point{T: start.Add(time.Duration(i) * time.Minute), V: v})
	}
	got := strings.Join(Chart(pts, start, start.Add(time.Hour), 60, 4), "\n") + "\n"
	golden.File(t, "chart.txt", got)
	if !strings.Contains(got, "0.9 ┤") || !strings.Contains(got, "11-23 10:00Z") || !strings.Contains(got, "11-23 11:00Z") {
		t.Errorf("axes missing:\n%s", got)
	}
	if empty := Chart(nil, start, start.Add(time.Hour), 20, 3); len(empty) != 1 || !strings.Contains(empty[0], "no samples") {
		t.Errorf("empty chart: %q", empty)
	}
}

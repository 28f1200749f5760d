package chart

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
)

func ramp(name string, start time.Time, n int, step time.Duration, f func(i int) float64) metrics.Series {
	s := metrics.Series{Labels: labels.FromStrings("job", name)}
	for i := range n {
		s.Points = append(s.Points, metrics.Point{T: start.Add(time.Duration(i) * step), V: f(i)})
	}
	return s
}

func TestSeriesChart(t *testing.T) {
	env := tuitest.Env()
	end := tuitest.Now
	start := end.Add(-time.Hour)
	ss := []metrics.Series{
		ramp("api", start, 61, time.Minute, func(i int) float64 { return 2 + math.Sin(float64(i)/6) }),
		ramp("db", start, 61, time.Minute, func(i int) float64 {
			if i > 40 {
				return 0.2
			}
			return 1.5
		}),
	}
	for _, size := range []struct{ w, h int }{{78, 16}, {150, 30}} {
		v := Series(env.Theme, ss, start, end, size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		plain := ansi.Strip(v)
		for _, want := range []string{"09:05", "09:4", `{job="api"}`, `{job="db"} now 0.2`} {
			if !strings.Contains(plain, want) {
				t.Errorf("%dx%d: %q missing:\n%s", size.w, size.h, want, plain)
			}
		}
		if !strings.ContainsAny(plain, "⠁⠂⠄⡀⠈⠐⠠⢀⣀⠉⠒⠤") {
			t.Errorf("no braille line:\n%s", plain)
		}
	}
	tuitest.Golden(t, "two_series_78x16", Series(env.Theme, ss, start, end, 78, 16))
}

func TestSeriesChartEdges(t *testing.T) {
	env := tuitest.Env()
	end := tuitest.Now
	start := end.Add(-time.Hour)
	if v := ansi.Strip(Series(env.Theme, nil, start, end, 60, 10)); !strings.Contains(v, "No samples in 1h.") {
		t.Errorf("empty:\n%s", v)
	}
	nan := []metrics.Series{ramp("x", start, 10, time.Minute, func(int) float64 { return math.NaN() })}
	if v := ansi.Strip(Series(env.Theme, nan, start, end, 60, 10)); !strings.Contains(v, "No samples") {
		t.Errorf("NaN only:\n%s", v)
	}
	flat := []metrics.Series{ramp("x", start, 61, time.Minute, func(int) float64 { return 5 })}
	tuitest.Size(t, Series(env.Theme, flat, start, end, 60, 10), 60, 10)
	var many []metrics.Series
	for i := range 9 {
		many = append(many, ramp(string(rune('a'+i)), start, 61, time.Minute, func(j int) float64 { return float64(i + j) }))
	}
	if v := ansi.Strip(Series(env.Theme, many, start, end, 100, 40)); !strings.Contains(v, "… and 3 more series") {
		t.Errorf("more than six:\n%s", v)
	}
	poisoned := []metrics.Series{{Labels: labels.FromStrings("job", tuitest.Poison), Points: flat[0].Points}}
	if v := Series(env.Theme, poisoned, start, end, 100, 12); !tuitest.Clean(v) {
		t.Errorf("label values drawn raw:\n%q", v)
	}
}

func TestValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 0.0312: "0.0312", 1235.7: "1236", 12345: "12.3k", 3.2e6: "3.2M",
		4.5e9: "4.5G", 1e-6: "1.0e-06", -2.5: "-2.5", math.Inf(1): "+Inf", math.NaN(): "NaN"} {
		if got := Value(v); got != want {
			t.Errorf("Value(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSparkline(t *testing.T) {
	env := tuitest.Env()
	v := ansi.Strip(Sparkline(env.Theme, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}, 9, env.Theme.OK))
	if ansi.StringWidth(v) != 9 || !strings.HasSuffix(v, "█") {
		t.Errorf("%q", v)
	}
	long := make([]float64, 600)
	for i := range long {
		long[i] = float64(i % 60)
	}
	if w := ansi.StringWidth(Sparkline(env.Theme, long, 20, env.Theme.OK)); w != 20 {
		t.Errorf("600 values in 20 cells: width %d", w)
	}
	if v := ansi.Strip(Sparkline(env.Theme, nil, 10, env.Theme.OK)); v != "no data   " {
		t.Errorf("empty: %q", v)
	}
}

func TestSparklineOfZeros(t *testing.T) {
	env := tuitest.Env()
	if v := ansi.Strip(Sparkline(env.Theme, []float64{0, 0, 0, 0}, 6, env.Theme.OK)); v != "  ▁▁▁▁" {
		t.Errorf("zeros: %q", v)
	}
}

// Small values (ratios) fill the line as large ones do.
func TestSparklineOfSmallValues(t *testing.T) {
	env := tuitest.Env()
	if v := ansi.Strip(Sparkline(env.Theme, []float64{0.0001, 0.002, 0.003, 0.0015}, 4, env.Theme.OK)); v != "▁▅█▄" {
		t.Errorf("ratios: %q", v)
	}
}

// Package chart draws metrics in the terminal with ntcharts: a time-series
// chart of several series (braille lines over time and value axes, a
// legend), and one-line sparklines.
package chart

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/v2/linechart/timeserieslinechart"
	"github.com/NimbleMarkets/ntcharts/v2/sparkline"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/theme"
)

// MaxSeries is how many series one chart draws; the legend says how many
// more there were.
const MaxSeries = 6

// Line is one line of a chart with its legend.
type Line struct {
	Name   string
	Points []metrics.Point
}

// FromSeries names each series by its labels.
func FromSeries(ss []metrics.Series) []Line {
	out := make([]Line, len(ss))
	for i, s := range ss {
		out[i] = Line{Name: s.Labels.String(), Points: s.Points}
	}
	return out
}

// Series draws series over [start, end] in exactly w×h cells, each named
// by its labels.
func Series(th *theme.Theme, ss []metrics.Series, start, end time.Time, w, h int) string {
	return Draw(th, FromSeries(ss), start, end, w, h)
}

// Draw draws lines over [start, end] in exactly w×h cells: the chart, then
// one legend line per line (as room allows).
func Draw(th *theme.Theme, ss []Line, start, end time.Time, w, h int) string {
	if w < 20 || h < 4 {
		return layout.Lines([]string{th.Dim.Render("(too small for a chart)")}, w, h)
	}
	drawn := ss
	if len(drawn) > MaxSeries {
		drawn = drawn[:MaxSeries]
	}
	legend := min(len(drawn)+boolInt(len(ss) > len(drawn)), max(1, h/4))
	chartH := h - legend
	lo, hi, any := yRange(drawn, start, end)
	if !any {
		return layout.Lines([]string{th.Dim.Render("No samples in " + short(end.Sub(start)) + ".")}, w, h)
	}
	c := timeserieslinechart.New(w, chartH,
		timeserieslinechart.WithTimeRange(start, end),
		timeserieslinechart.WithYRange(lo, hi),
		timeserieslinechart.WithXLabelFormatter(timeLabels(end.Sub(start))),
		timeserieslinechart.WithYLabelFormatter(func(_ int, v float64) string { return Value(v) }),
		timeserieslinechart.WithAxesStyles(th.Dim.Style, th.Dim.Style),
		timeserieslinechart.WithXYSteps(max(1, w/20), max(1, chartH/4)),
	)
	for i, s := range drawn {
		name := strconv.Itoa(i)
		c.SetDataSetStyle(name, th.SeriesStyle(i))
		for _, p := range s.Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) || p.T.Before(start) || p.T.After(end) {
				continue
			}
			c.PushDataSet(name, timeserieslinechart.TimePoint{Time: p.T, Value: p.V})
		}
	}
	c.DrawBrailleAll()
	lines := strings.Split(c.View(), "\n")
	more := len(ss) - len(drawn)
	for i, s := range drawn {
		if len(lines) >= h-boolInt(more > 0) {
			more += len(drawn) - i
			break
		}
		last := s.Points[len(s.Points)-1].V
		lines = append(lines, th.SeriesStyle(i).Render("━━ ")+termtext.Clean(s.Name)+th.Dim.Render(" now "+Value(last)))
	}
	if more > 0 {
		lines = append(lines, th.Dim.Render(fmt.Sprintf("… and %d more series", more)))
	}
	return layout.Lines(lines, w, h)
}

// yRange is the value range of the samples within [start, end], padded
// so a flat line is not drawn on an axis.
func yRange(ss []Line, start, end time.Time) (lo, hi float64, any bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) || p.T.Before(start) || p.T.After(end) {
				continue
			}
			lo, hi, any = math.Min(lo, p.V), math.Max(hi, p.V), true
		}
	}
	if !any {
		return 0, 1, false
	}
	if lo == hi {
		d := math.Max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d, true
	}
	pad := (hi - lo) * 0.05
	if lo >= 0 && lo-pad < 0 {
		return 0, hi + pad, true // counts and ratios do not go below zero
	}
	return lo - pad, hi + pad, true
}

// timeLabels formats the time axis in local time, with seconds when the
// range is short.
func timeLabels(span time.Duration) func(int, float64) string {
	layout := "15:04"
	switch {
	case span <= 10*time.Minute:
		layout = "15:04:05"
	case span > 36*time.Hour:
		layout = "01-02 15h"
	}
	return func(_ int, v float64) string { return time.Unix(int64(v), 0).Local().Format(layout) }
}

// Value prints a sample value in at most 7 characters: 0.0312, 1.25k, 3.2M.
func Value(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return map[bool]string{true: "+Inf", false: "-Inf"}[v > 0]
	case a == 0:
		return "0"
	case a >= 1e12:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a >= 1e9:
		return trim(v/1e9, 3) + "G"
	case a >= 1e6:
		return trim(v/1e6, 3) + "M"
	case a >= 1e4:
		return trim(v/1e3, 3) + "k"
	case a >= 1:
		return trim(v, 4)
	case a >= 1e-4:
		return trim(v, 3)
	}
	return strconv.FormatFloat(v, 'e', 1, 64)
}

// trim prints v with sig significant digits and no trailing zeros.
func trim(v float64, sig int) string {
	s := strconv.FormatFloat(v, 'g', sig, 64)
	if strings.ContainsAny(s, "e") {
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// Sparkline draws values in w cells of one line, from zero to their
// maximum, the newest on the right.
func Sparkline(th *theme.Theme, values []float64, w int, style theme.Style) string {
	if w <= 0 {
		return ""
	}
	var vs []float64
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return layout.Fit(th.Dim.Render("no data"), w)
	}
	if len(vs) > w {
		vs = resample(vs, w)
	}
	sl := sparkline.New(w, 1)
	// The sparkline's scale starts at 1 and only grows: a ratio of 0.003
	// would draw nothing. Scale to the values' own maximum.
	if top := slices.Max(vs); top > 0 {
		sl.SetMax(top)
	}
	sl.PushAll(vs)
	sl.Draw()
	// A zero draws nothing; the lowest bar keeps a flat zero line visible.
	line := []rune(ansi.Strip(sl.View()))
	for i := len(line) - len(vs); i < len(line); i++ {
		if i >= 0 && line[i] == ' ' {
			line[i] = '▁'
		}
	}
	return style.Render(string(line))
}

// resample averages values into n buckets.
func resample(vs []float64, n int) []float64 {
	out := make([]float64, n)
	for i := range n {
		from, to := i*len(vs)/n, (i+1)*len(vs)/n
		sum := 0.0
		for _, v := range vs[from:to] {
			sum += v
		}
		out[i] = sum / float64(max(1, to-from))
	}
	return out
}

func short(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

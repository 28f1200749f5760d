// Package textchart draws series as plain Unicode text, for documents
// rather than terminals: a one-line sparkline of block elements, and a
// block chart of a few rows with its value and time axes. Nothing here
// styles or colours: the text reads the same in a Markdown file, a diff
// and a terminal.
package textchart

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// blocks are the eight heights of a column, lowest first.
var blocks = []rune("▁▂▃▄▅▆▇█")

// Point is one sample of a series.
type Point struct {
	T time.Time
	V float64
}

// Sparkline draws values in w cells, one block element per cell (the
// highest of the values that fall in it); a cell with no finite value is
// a space. The lowest value is ▁ and the highest █; a flat line is drawn
// at the bottom.
func Sparkline(values []float64, w int) string {
	if w <= 0 || len(values) == 0 {
		return ""
	}
	cells := resample(values, w)
	lo, hi, ok := bounds(cells)
	var b strings.Builder
	for _, v := range cells {
		switch {
		case !ok || math.IsNaN(v):
			b.WriteRune(' ')
		case hi == lo:
			b.WriteRune(blocks[0])
		default:
			i := int(math.Round((v - lo) / (hi - lo) * float64(len(blocks)-1)))
			b.WriteRune(blocks[i])
		}
	}
	return b.String()
}

// resample fits values into n cells. With fewer values than cells each
// value keeps one cell (the line is shorter); with more, each cell is the
// highest finite value of its share, so that a spike is never lost.
func resample(values []float64, n int) []float64 {
	if len(values) <= n {
		return values
	}
	out := make([]float64, n)
	for i := range out {
		a, b := i*len(values)/n, (i+1)*len(values)/n
		out[i] = math.NaN()
		for _, v := range values[a:b] {
			if finite(v) && (math.IsNaN(out[i]) || v > out[i]) {
				out[i] = v
			}
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// bounds are the lowest and highest finite values.
func bounds(vs []float64) (lo, hi float64, ok bool) {
	for _, v := range vs {
		if !finite(v) {
			continue
		}
		if !ok || v < lo {
			lo = v
		}
		if !ok || v > hi {
			hi = v
		}
		ok = true
	}
	return lo, hi, ok
}

// Chart draws points over [start, end] as a block chart w columns wide
// and h rows high, with the highest and lowest values on the left axis
// and the start and end times (UTC) under it. Each column holds the
// highest value of the points in its share of the time range; a column
// with none is empty. It returns the lines, without a trailing newline.
func Chart(points []Point, start, end time.Time, w, h int) []string {
	w, h = max(w, 8), max(h, 1)
	cols := make([]float64, w)
	for i := range cols {
		cols[i] = math.NaN()
	}
	span := end.Sub(start)
	for _, p := range points {
		if !finite(p.V) || p.T.Before(start) || p.T.After(end) {
			continue
		}
		i := w - 1
		if span > 0 {
			i = min(w-1, int(float64(p.T.Sub(start))/float64(span)*float64(w)))
		}
		if math.IsNaN(cols[i]) || p.V > cols[i] {
			cols[i] = p.V
		}
	}
	lo, hi, ok := bounds(cols)
	if !ok {
		return []string{"(no samples from " + stamp(start) + " to " + stamp(end) + ")"}
	}
	if lo > 0 && hi > 0 {
		lo = 0 // a rate or a ratio reads best from zero
	}
	top, bottom := Value(hi), Value(lo)
	axis := max(len(top), len(bottom))
	levels := h * len(blocks)
	var out []string
	for row := h - 1; row >= 0; row-- {
		label := strings.Repeat(" ", axis) + " │"
		switch row {
		case h - 1:
			label = pad(top, axis) + " ┤"
		case 0:
			label = pad(bottom, axis) + " ┤"
		}
		var b strings.Builder
		b.WriteString(label)
		for _, v := range cols {
			if math.IsNaN(v) {
				b.WriteRune(' ')
				continue
			}
			n := levels // the height in eighths of a row
			if hi > lo {
				n = int(math.Round((v - lo) / (hi - lo) * float64(levels)))
			}
			n = max(n, 1) // a sample is never invisible
			switch fill := n - row*len(blocks); {
			case fill >= len(blocks):
				b.WriteRune(blocks[len(blocks)-1])
			case fill > 0:
				b.WriteRune(blocks[fill-1])
			default:
				b.WriteRune(' ')
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	out = append(out, strings.Repeat(" ", axis)+" └"+strings.Repeat("─", w))
	from, to := stamp(start), stamp(end)
	gap := max(1, w-len(from)-len(to)+1)
	out = append(out, strings.Repeat(" ", axis+2)+from+strings.Repeat(" ", gap)+to)
	return out
}

func pad(s string, n int) string { return strings.Repeat(" ", n-len(s)) + s }

// stamp is a time on the time axis: month, day, hour and minute in UTC.
func stamp(t time.Time) string { return t.UTC().Format("01-02 15:04Z") }

// Value writes a value with three significant digits (whole numbers up
// to 9999) and an SI suffix for tens of thousands, millions and billions.
func Value(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case a == 0:
		return "0"
	case a >= 1e9:
		return trim(v/1e9) + "G"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e4:
		return trim(v/1e3) + "k"
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return trim(v)
}

func trim(v float64) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if strings.ContainsAny(s, "e") {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

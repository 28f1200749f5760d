// Package layout cuts text to the cells it is given: fitting a line to a
// width, framing a pane with a titled rule, setting columns side by side,
// and keeping a selected row in view.
package layout

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/tui/theme"
)

// Fit makes s exactly w cells wide: cut with "…" or padded with spaces.
// Styled text keeps its styles.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

// Lines makes text exactly h lines of w cells: cut, or padded with blank
// lines.
func Lines(lines []string, w, h int) string {
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		b.WriteString(Fit(line, w))
	}
	return b.String()
}

// Box frames lines under a title rule: h lines of w cells in all.
func Box(th theme.Theme, title string, lines []string, w, h int, focused bool) []string {
	if h <= 0 {
		return nil
	}
	style := th.Title
	if focused {
		style = th.TitleFocused
	}
	head := "─ " + title + " "
	rule := head + strings.Repeat("─", max(0, w-ansi.StringWidth(head)))
	out := make([]string, 0, h)
	out = append(out, style.Render(Fit(rule, w)))
	for i := 0; i < h-1; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		out = append(out, Fit(line, w))
	}
	return out
}

// Besides joins columns line by line with a separator; a column shorter
// than the others is padded to its first line's width.
func Besides(sep string, cols ...[]string) []string {
	n := 0
	for _, c := range cols {
		n = max(n, len(c))
	}
	widths := make([]int, len(cols))
	for j, c := range cols {
		if len(c) > 0 {
			widths[j] = ansi.StringWidth(c[0])
		}
	}
	out := make([]string, n)
	parts := make([]string, len(cols))
	for i := range n {
		for j, c := range cols {
			if i < len(c) {
				parts[j] = c[i]
			} else {
				parts[j] = strings.Repeat(" ", widths[j])
			}
		}
		out[i] = strings.Join(parts, sep)
	}
	return out
}

// Window returns the rows [from, to) of a list of n rows to show in h
// rows so that the selected row is visible, keeping the previous top row
// top when it still does.
func Window(n, selected, h, top int) (from, to int) {
	if h <= 0 || n <= 0 {
		return 0, 0
	}
	if n <= h {
		return 0, n
	}
	from = min(max(top, 0), n-h)
	if selected < from {
		from = selected
	}
	if selected >= from+h {
		from = selected - h + 1
	}
	from = max(0, min(from, n-h))
	return from, from + h
}

// Short renders a duration in a few cells, as a countdown reads: 45s,
// 1m23s, 2h05m, 3d.
func Short(d time.Duration) string {
	d = max(0, d).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Count prints 12345 as 12,345.
func Count(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

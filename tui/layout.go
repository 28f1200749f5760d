package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// fit makes s exactly w cells wide: cut with "…" or padded with spaces.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// box renders a pane: a title rule and h-1 content lines, each exactly w
// cells wide. Content beyond the box is cut.
func box(th theme, title string, lines []string, w, h int, focused bool) []string {
	if h <= 0 {
		return nil
	}
	style := th.Title
	if focused {
		style = th.TitleFocused
	}
	head := "─ " + title + " "
	rule := head + strings.Repeat("─", max(0, w-ansi.StringWidth(head)))
	out := []string{style.Render(fit(rule, w))}
	for i := 0; i < h-1; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		out = append(out, fit(line, w))
	}
	return out
}

// besides joins columns of equal height line by line with a separator.
func besides(sep string, cols ...[]string) []string {
	n := 0
	for _, c := range cols {
		n = max(n, len(c))
	}
	out := make([]string, n)
	for i := range n {
		parts := make([]string, len(cols))
		for j, c := range cols {
			if i < len(c) {
				parts[j] = c[i]
			}
		}
		out[i] = strings.Join(parts, sep)
	}
	return out
}

// window returns the range [from, to) of a list of n rows to show in h rows
// so that the selected row is visible.
func window(n, selected, h int) (int, int) {
	if n <= h {
		return 0, n
	}
	from := max(0, min(selected-h/2, n-h))
	return from, from + h
}

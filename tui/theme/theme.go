// Package theme is the console's look: styles named by what they mean
// (firing, acknowledged, focused title), built from a dark or a light
// palette, so no pane ever picks a colour itself.
package theme

import (
	"fmt"
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Mode says which palette to use.
type Mode int

// The modes: Auto follows the terminal's background (asked for at start).
const (
	Auto Mode = iota
	Dark
	Light
)

// ParseMode reads "auto", "dark" or "light".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "dark":
		return Dark, nil
	case "light":
		return Light, nil
	}
	return Auto, fmt.Errorf("theme %q: want auto, dark or light", s)
}

// Theme holds every style of the console.
type Theme struct {
	Dark bool
	// Header is the top bar; HeaderAlarm the part of it that must be seen
	// (the server unreachable, oncall blind).
	Header, HeaderAlarm Style
	// Tab and TabActive name the panes; Crumb is the trail inside one.
	Tab, TabActive, Crumb Style
	// Title and TitleFocused head a box.
	Title, TitleFocused Style
	// Alert states.
	Firing, Pending, Resolved, Muted Style
	// Incident states.
	Triggered, Acked Style
	// Text.
	Dim, Bold, Selected, Error, Warn, OK, Key Style
	// Series colours charts cycle through.
	Series []color.Color
}

// New returns the theme for a dark or a light background.
func New(dark bool) Theme {
	c := lipgloss.LightDark(dark)
	red := c(lipgloss.Color("#c4002b"), lipgloss.Color("#ff5f5f"))
	yellow := c(lipgloss.Color("#8a6100"), lipgloss.Color("#ffd75f"))
	green := c(lipgloss.Color("#1c7a1c"), lipgloss.Color("#87d787"))
	grey := c(lipgloss.Color("#6c6c6c"), lipgloss.Color("#8a8a8a"))
	blue := c(lipgloss.Color("#005fd7"), lipgloss.Color("#5fafff"))
	magenta := c(lipgloss.Color("#9b1c9b"), lipgloss.Color("#d787d7"))
	cyan := c(lipgloss.Color("#00767a"), lipgloss.Color("#5fd7d7"))
	fg := c(lipgloss.Color("#1c1c1c"), lipgloss.Color("#ffffff"))
	bar := c(lipgloss.Color("#d0d8e8"), lipgloss.Color("#303a4a"))
	return Theme{
		Dark:         dark,
		Header:       fast(lipgloss.NewStyle().Bold(true).Foreground(fg).Background(bar)),
		HeaderAlarm:  fast(lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ffffff")).Background(lipgloss.Color("#af0000"))),
		Tab:          fast(lipgloss.NewStyle().Foreground(grey)),
		TabActive:    fast(lipgloss.NewStyle().Bold(true).Foreground(blue).Reverse(true)),
		Crumb:        fast(lipgloss.NewStyle().Foreground(blue)),
		Title:        fast(lipgloss.NewStyle().Foreground(grey)),
		TitleFocused: fast(lipgloss.NewStyle().Bold(true).Foreground(blue)),
		Firing:       fast(lipgloss.NewStyle().Bold(true).Foreground(red)),
		Pending:      fast(lipgloss.NewStyle().Foreground(yellow)),
		Resolved:     fast(lipgloss.NewStyle().Foreground(grey)),
		Muted:        fast(lipgloss.NewStyle().Foreground(grey).Italic(true)),
		Triggered:    fast(lipgloss.NewStyle().Bold(true).Foreground(red)),
		Acked:        fast(lipgloss.NewStyle().Foreground(yellow)),
		Dim:          fast(lipgloss.NewStyle().Foreground(grey)),
		Bold:         fast(lipgloss.NewStyle().Bold(true)),
		Selected:     fast(lipgloss.NewStyle().Reverse(true)),
		Error:        fast(lipgloss.NewStyle().Foreground(red)),
		Warn:         fast(lipgloss.NewStyle().Foreground(yellow)),
		OK:           fast(lipgloss.NewStyle().Foreground(green)),
		Key:          fast(lipgloss.NewStyle().Bold(true).Foreground(blue)),
		Series:       []color.Color{blue, magenta, green, yellow, cyan, red},
	}
}

// Style is a lipgloss style that draws one line of text fast: its escape
// sequences are worked out once, not on every call (a frame draws
// hundreds of styled fragments).
type Style struct {
	lipgloss.Style
	pre, post string
}

func fast(s lipgloss.Style) Style {
	pre, post, _ := strings.Cut(s.Render("\x00"), "\x00")
	return Style{Style: s, pre: pre, post: post}
}

// Render styles text; several lines or several strings go the slow way.
func (s Style) Render(strs ...string) string {
	if len(strs) != 1 || strings.IndexByte(strs[0], '\n') >= 0 {
		return s.Style.Render(strs...)
	}
	return s.pre + strs[0] + s.post
}

// SeriesStyle returns the style of the i-th series of a chart.
func (t Theme) SeriesStyle(i int) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(t.Series[i%len(t.Series)])
}

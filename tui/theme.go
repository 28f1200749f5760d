package tui

import "charm.land/lipgloss/v2"

// theme holds every style of the console, by meaning rather than colour, so
// panes never pick colours themselves.
type theme struct {
	Header, HeaderDim                    lipgloss.Style
	Title, TitleFocused                  lipgloss.Style
	Firing, Pending, Resolved            lipgloss.Style
	Triggered, Acked                     lipgloss.Style
	Dim, Bold, Selected, Error, Warn, OK lipgloss.Style
	Key                                  lipgloss.Style
}

func defaultTheme() theme {
	red, yellow, green := lipgloss.Color("#ff5f5f"), lipgloss.Color("#ffd75f"), lipgloss.Color("#87d787")
	grey, blue := lipgloss.Color("#8a8a8a"), lipgloss.Color("#5fafff")
	return theme{
		Header:       lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ffffff")).Background(lipgloss.Color("#303a4a")),
		HeaderDim:    lipgloss.NewStyle().Foreground(lipgloss.Color("#c0c0c0")).Background(lipgloss.Color("#303a4a")),
		Title:        lipgloss.NewStyle().Foreground(grey),
		TitleFocused: lipgloss.NewStyle().Bold(true).Foreground(blue),
		Firing:       lipgloss.NewStyle().Bold(true).Foreground(red),
		Pending:      lipgloss.NewStyle().Foreground(yellow),
		Resolved:     lipgloss.NewStyle().Foreground(grey),
		Triggered:    lipgloss.NewStyle().Bold(true).Foreground(red),
		Acked:        lipgloss.NewStyle().Foreground(yellow),
		Dim:          lipgloss.NewStyle().Foreground(grey),
		Bold:         lipgloss.NewStyle().Bold(true),
		Selected:     lipgloss.NewStyle().Reverse(true),
		Error:        lipgloss.NewStyle().Foreground(red),
		Warn:         lipgloss.NewStyle().Foreground(yellow),
		OK:           lipgloss.NewStyle().Foreground(green),
		Key:          lipgloss.NewStyle().Bold(true).Foreground(blue),
	}
}

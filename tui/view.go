package tui

// The console's frame: the header that says whether the state can be
// trusted, the tabs and crumbs, the focused pane and the footer.

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
)

// View lays the console out: header, tabs and crumbs, the focused pane
// (or the help), the palette over the bottom, the footer.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	st := m.env.State
	f, _, _ := st.Counts()
	switch {
	case !st.Known() && st.Err != nil: // no count: "0 firing" would claim calm
		v.WindowTitle = "oncall: server unreachable"
	case !st.Known():
		v.WindowTitle = "oncall: connecting…"
	case st.Stale():
		v.WindowTitle = fmt.Sprintf("oncall: %d firing (stale)", f)
	default:
		v.WindowTitle = fmt.Sprintf("oncall: %d firing", f)
	}
	if m.opts.Mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

func (m *Model) render() string {
	w, h := max(m.w, 40), max(m.h, 8)
	lines := []string{m.header(w)}
	lines = append(lines, m.why(w)...)
	lines = append(lines, m.tabs(w))
	bodyH := h - len(lines) - 1
	var body string
	if m.help.shown {
		body = m.help.view(m.allKeys(), w, bodyH)
	} else {
		body = m.panes[m.focus].View(w, bodyH)
	}
	bl := strings.Split(body, "\n")
	if pl := m.palette.View(w); len(pl) > 0 {
		n := min(len(pl), len(bl))
		bl = append(bl[:len(bl)-n], pl[len(pl)-n:]...)
	}
	lines = append(lines, bl...)
	lines = append(lines, m.footer(w))
	return strings.Join(lines, "\n")
}

// why spells out, under the header, the error that makes the console
// unable to reach the server: in full, on at most two lines.
func (m *Model) why(w int) []string {
	st := m.env.State
	if st.Connected || st.Err == nil {
		return nil
	}
	text := "  why: " + firstLine(st.Err)
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap(text, w, " /:"), "\n") {
		if len(out) == 2 {
			break
		}
		out = append(out, m.th.Error.Render(layout.Fit(l, w)))
	}
	return out
}

// allKeys are the bindings the help lists: everywhere, then the focused
// pane's, then the others'.
func (m *Model) allKeys() []keySection {
	out := []keySection{{"Everywhere", globalBindings()}}
	order := append([]int{m.focus}, seq(len(m.panes))...)
	seen := map[int]bool{}
	for _, i := range order {
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, keySection{paneTitle(m.panes[i].Name()), m.panes[i].Keys()})
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// paneTitle is how the tabs name a pane.
func paneTitle(name string) string {
	switch name {
	case "oncall":
		return "On call"
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

func (m *Model) tabLabel(i int) string {
	if m.compactTabs() {
		return fmt.Sprintf("%d %s", i+1, paneTitle(m.panes[i].Name()))
	}
	return fmt.Sprintf(" %d %s ", i+1, paneTitle(m.panes[i].Name()))
}

// compactTabs says the tabs, padded, do not fit the width: they are drawn
// without their padding.
func (m *Model) compactTabs() bool {
	n := 0
	for i := range m.panes {
		n += ansi.StringWidth(paneTitle(m.panes[i].Name())) + len(fmt.Sprint(i+1)) + 4
	}
	return n > max(m.w, 40)
}

// header says what the console shows and whether it can be trusted: the
// server, the counts, the open incidents, or — prominently — that the
// server cannot be reached (since when, the last known state kept) or
// that oncall is blind.
func (m *Model) header(w int) string {
	st := m.env.State
	now := m.opts.Now()
	right := fmt.Sprintf(" %s · %s ", termtext.Clean(m.opts.User), now.Local().Format("15:04:05"))
	retry, shortRetry := "", ""
	if !m.retryAt.IsZero() && m.retryAt.After(now) {
		retry = " · retrying in " + layout.Short(m.retryAt.Sub(now))
		shortRetry = " · retry " + layout.Short(m.retryAt.Sub(now))
	}
	switch {
	case !st.Known() && st.Err != nil:
		since := fmt.Sprintf("since %s (%s)", st.Since.Local().Format("15:04:05"), layout.Short(now.Sub(st.Since)))
		return m.alarm(w, right, " SERVER UNREACHABLE "+since+retry, " UNREACHABLE "+since+shortRetry)
	case !st.Known():
		return m.th.Header.Render(layout.Fit(" "+termtext.Clean(m.opts.Title)+" · connecting…", w-ansi.StringWidth(right)) + right)
	case st.Stale():
		since := fmt.Sprintf("since %s (%s)", st.Since.Local().Format("15:04:05"), layout.Short(now.Sub(st.Since)))
		at := st.At.Local().Format("15:04:05")
		return m.alarm(w, right, " STALE · server unreachable "+since+retry+" · showing its state of "+at,
			" STALE "+since+" · state of "+at+shortRetry)
	case st.Ready != nil && !st.Ready.Ready:
		alarm := " oncall is BLIND: " + termtext.Clean(strings.Join(st.Ready.Failing(), "; "))
		return m.th.HeaderAlarm.Render(layout.Fit(alarm, w-ansi.StringWidth(right)) + right)
	}
	f, mu, pe := st.Counts()
	parts := []string{termtext.Clean(m.opts.Title), fmt.Sprintf("%d firing · %d muted · %d pending", f, mu, pe)}
	for _, inc := range st.Incidents {
		parts = append(parts, inc.Ref()+" "+inc.Status.String())
	}
	if m.opts.ReadOnly {
		parts = append(parts, "read-only")
	}
	return m.th.Header.Render(layout.Fit(" "+strings.Join(parts, "  ·  "), w-ansi.StringWidth(right)) + right)
}

// alarm draws the header of a console that cannot trust what it shows:
// the long wording when it fits beside right (who and the clock), else
// the short one, else the short one alone, since the alarm matters more
// than the clock.
func (m *Model) alarm(w int, right, long, short string) string {
	rw := ansi.StringWidth(right)
	switch {
	case ansi.StringWidth(long)+rw <= w:
		return m.th.HeaderAlarm.Render(layout.Fit(long, w-rw) + right)
	case ansi.StringWidth(short)+rw <= w:
		return m.th.HeaderAlarm.Render(layout.Fit(short, w-rw) + right)
	}
	return m.th.HeaderAlarm.Render(layout.Fit(short, w))
}

// tabs names the panes, the focused one marked, then where the user is
// inside it.
func (m *Model) tabs(w int) string {
	var b strings.Builder
	for i := range m.panes {
		label := m.tabLabel(i)
		if i == m.focus {
			b.WriteString(m.th.TabActive.Render(label))
		} else {
			b.WriteString(m.th.Tab.Render(label))
		}
		b.WriteByte(' ')
	}
	if c := m.panes[m.focus].Crumbs(); len(c) > 0 {
		b.WriteString(m.th.Crumb.Render(" " + paneTitle(m.panes[m.focus].Name()) + " › " + termtext.Clean(strings.Join(c, " › "))))
	}
	return layout.Fit(b.String(), w)
}

// footer is the last status, or the focused pane's main keys.
func (m *Model) footer(w int) string {
	if m.status != "" {
		style := m.th.OK
		if m.statusErr {
			style = m.th.Error
		}
		return layout.Fit(" "+style.Render(m.status), w)
	}
	var parts []string
	keys := append(m.panes[m.focus].Keys(), globalKeys.Palette, globalKeys.Help, globalKeys.Quit)
	if m.palette.IsOpen() || m.help.shown {
		keys = nil
	}
	for _, k := range keys {
		if !k.Enabled() {
			continue
		}
		h := k.Help()
		desc, _, _ := strings.Cut(h.Desc, " (")
		desc, _, _ = strings.Cut(desc, ":")
		parts = append(parts, m.th.Key.Render(h.Key)+" "+m.th.Dim.Render(desc))
	}
	return layout.Fit(" "+strings.Join(parts, "  "), w)
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) && len(joined.Unwrap()) > 0 {
		err = joined.Unwrap()[0]
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return termtext.Clean(s)
}

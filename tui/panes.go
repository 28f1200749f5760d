package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
)

// binding is one key of a keymap, with its help text. The help overlay is
// generated from the keymaps, so it cannot drift from what the keys do.
type binding struct {
	keys []string
	help string
}

// pane is one component of the console.
type pane interface {
	title(s *snapshot) string
	// key handles a key while the pane is focused; handled reports whether
	// it was the pane's.
	key(k string, s *snapshot) (handled bool, cmd tea.Cmd)
	render(s *snapshot, w, h int, focused bool, now time.Time) []string
	keymap() []binding
}

// cursor is a selection in a list; it is shared by the list panes.
type cursor struct{ i int }

var listKeys = []binding{
	{[]string{"j", "down"}, "next"},
	{[]string{"k", "up"}, "previous"},
	{[]string{"g", "home"}, "first"},
	{[]string{"G", "end"}, "last"},
}

func (c *cursor) key(k string, n int) bool {
	switch k {
	case "j", "down":
		c.i++
	case "k", "up":
		c.i--
	case "g", "home":
		c.i = 0
	case "G", "end":
		c.i = n - 1
	default:
		return false
	}
	c.clamp(n)
	return true
}

func (c *cursor) clamp(n int) { c.i = max(0, min(c.i, n-1)) }

// short renders a duration the way a human reads a countdown: 45s, 1m23s, 2h05m.
func short(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// incidentsPane lists open incidents with their escalation state.
type incidentsPane struct {
	th theme
	cursor
}

func (p *incidentsPane) title(s *snapshot) string {
	return fmt.Sprintf("Incidents (%d open)", len(s.incidents))
}
func (p *incidentsPane) keymap() []binding { return listKeys }

func (p *incidentsPane) key(k string, s *snapshot) (bool, tea.Cmd) {
	return p.cursor.key(k, len(s.incidents)), nil
}

// selected returns the selected incident, if any.
func (p *incidentsPane) selected(s *snapshot) (incidents.Incident, bool) {
	if len(s.incidents) == 0 {
		return incidents.Incident{}, false
	}
	p.clamp(len(s.incidents))
	return s.incidents[p.i], true
}

func (p *incidentsPane) status(inc incidents.Incident, now time.Time) string {
	switch inc.Status {
	case incidents.StatusTriggered:
		return p.th.Triggered.Render("TRIGGERED")
	case incidents.StatusAcknowledged:
		return p.th.Acked.Render("acknowledged")
	default:
		return p.th.Resolved.Render("resolved")
	}
}

func (p *incidentsPane) render(s *snapshot, w, h int, focused bool, now time.Time) []string {
	if len(s.incidents) == 0 {
		if !s.known() {
			return []string{p.th.Error.Render("Unknown: the server has not answered.")}
		}
		return []string{p.th.OK.Render("No open incidents."), p.th.Dim.Render("Pages arrive here when a paging alert group fires.")}
	}
	var lines []string
	p.clamp(len(s.incidents))
	for i, inc := range s.incidents {
		line := fmt.Sprintf("%s %-6s %s %s", marker(i == p.i), inc.Ref(), p.status(inc, now), inc.Title)
		if i == p.i && focused {
			line = p.th.Selected.Render(fit(line, w))
		}
		lines = append(lines, line)
		e := inc.Escalation
		esc := fmt.Sprintf("    step %d %s: %s", e.Step+1, e.StepName, strings.Join(e.Paged, ", "))
		switch {
		case inc.Status == incidents.StatusAcknowledged:
			esc += p.th.Acked.Render(fmt.Sprintf(" · acked by %s %s ago", inc.AckedBy, short(now.Sub(inc.AckedAt))))
		case !e.NextAt.IsZero() && e.NextAt.After(now):
			esc += p.th.Warn.Render(fmt.Sprintf(" · escalates in %s", short(e.NextAt.Sub(now))))
		case !e.NextAt.IsZero():
			esc += p.th.Warn.Render(" · escalating now")
		default:
			esc += p.th.Dim.Render(" · last step, no further escalation")
		}
		lines = append(lines, esc+p.th.Dim.Render(fmt.Sprintf(" · %s · open %s", inc.Service, short(now.Sub(inc.OpenedAt)))))
	}
	if inc, ok := p.selected(s); ok && len(lines)+2 < h {
		lines = append(lines, "")
		if inc.RunbookURL != "" {
			lines = append(lines, p.th.Bold.Render("runbook ")+inc.RunbookURL)
		}
		tl := inc.Timeline
		room := h - 1 - len(lines)
		if room > 0 && len(tl) > room {
			tl = tl[len(tl)-room:]
		}
		for _, ev := range tl {
			lines = append(lines, p.th.Dim.Render(ev.At.Local().Format("15:04:05")+" ")+ev.Text)
		}
	}
	return lines
}

func marker(selected bool) string {
	if selected {
		return "▸"
	}
	return " "
}

// alertsPane lists firing then pending alerts.
type alertsPane struct {
	th theme
	cursor
}

func (p *alertsPane) title(s *snapshot) string {
	f, mu, pe := s.counts()
	if mu > 0 {
		return fmt.Sprintf("Alerts (%d firing, %d muted, %d pending)", f, mu, pe)
	}
	return fmt.Sprintf("Alerts (%d firing, %d pending)", f, pe)
}
func (p *alertsPane) keymap() []binding { return listKeys }
func (p *alertsPane) key(k string, s *snapshot) (bool, tea.Cmd) {
	return p.cursor.key(k, len(s.alerts)), nil
}

func (p *alertsPane) render(s *snapshot, w, h int, focused bool, now time.Time) []string {
	if len(s.alerts) == 0 {
		if !s.known() {
			return []string{p.th.Error.Render("Unknown: the server has not answered.")}
		}
		return []string{p.th.OK.Render("Nothing firing.")}
	}
	p.clamp(len(s.alerts))
	from, to := window(len(s.alerts), p.i, h-1)
	var lines []string
	for i := from; i < to; i++ {
		a := s.alerts[i]
		state := p.th.Firing.Render("FIRING   ")
		switch {
		case a.Status.State == alerts.StatePending:
			state = p.th.Pending.Render("pending  ")
		case a.Status.State == alerts.StateResolved:
			state = p.th.Resolved.Render("resolved ")
		case len(a.Status.SilencedBy) > 0:
			state = p.th.Dim.Render("silenced ")
		case len(a.Status.InhibitedBy) > 0:
			state = p.th.Dim.Render("inhibited")
		}
		line := fmt.Sprintf("%s %s %-7s %-12s %6s  %s", marker(i == p.i), state, a.Severity(), a.Labels.Get("service"), short(now.Sub(a.StartsAt)), a.Summary())
		if i == p.i && focused {
			line = p.th.Selected.Render(fit(line, w))
		}
		lines = append(lines, line)
	}
	return lines
}

// oncallPane shows who each escalation step pages right now.
type oncallPane struct{ th theme }

func (p *oncallPane) title(s *snapshot) string {
	if len(s.oncall) > 0 {
		return "On call · " + s.oncall[0].Policy
	}
	return "On call"
}
func (p *oncallPane) keymap() []binding                     { return nil }
func (p *oncallPane) key(string, *snapshot) (bool, tea.Cmd) { return false, nil }

func (p *oncallPane) render(s *snapshot, w, h int, focused bool, now time.Time) []string {
	if len(s.oncall) == 0 {
		if !s.known() {
			return []string{p.th.Error.Render("Unknown: the server has not answered.")}
		}
		return []string{p.th.Dim.Render("No escalation policy configured.")}
	}
	var lines []string
	for _, a := range s.oncall {
		lines = append(lines, p.step(a, now))
	}
	return lines
}

func (p *oncallPane) step(a oncall.Assignment, now time.Time) string {
	who := strings.Join(a.Users, ", ")
	if who == "" {
		who = p.th.Error.Render("nobody")
	}
	line := fmt.Sprintf("%d %-19s %s", a.Step+1, a.StepName, p.th.Bold.Render(who))
	if !a.Until.IsZero() {
		line += p.th.Dim.Render(" until " + a.Until.Local().Format("Mon 15:04"))
	}
	return line + p.th.Dim.Render(" · ack "+short(a.AckTimeout))
}

// pagesPane is the console receiver's feed: the pages sent, newest first.
type pagesPane struct{ th theme }

func (p *pagesPane) title(s *snapshot) string              { return "Pages sent" }
func (p *pagesPane) keymap() []binding                     { return nil }
func (p *pagesPane) key(string, *snapshot) (bool, tea.Cmd) { return false, nil }

func (p *pagesPane) render(s *snapshot, w, h int, focused bool, now time.Time) []string {
	if len(s.pages) == 0 {
		return []string{p.th.Dim.Render("No pages yet.")}
	}
	var lines []string
	for _, pg := range s.pages {
		state := p.th.OK.Render("sent")
		if pg.SentAt.IsZero() {
			state = p.th.Warn.Render(fmt.Sprintf("queued (%d tries)", pg.Attempts))
		}
		lines = append(lines, fmt.Sprintf("%s → %s %s %s", p.th.Dim.Render(pg.CreatedAt.Local().Format("15:04:05")), p.th.Bold.Render(pg.Target), p.th.Dim.Render(pg.StepName), state))
	}
	return lines
}

// Package oncallpane is the console's on-call pane: each step of the
// escalation policy with who it pages now, until when, and who takes over
// next; and the pages sent, with their delivery.
package oncallpane

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/state"
)

var keys = struct{ Up, Down key.Binding }{
	Up:   key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous step")),
	Down: key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next step")),
}

// Pane is the on-call pane.
type Pane struct {
	env *state.Env
	tbl table.Model
}

// New returns the on-call pane.
func New(env *state.Env) *Pane {
	th := env.Theme
	st := table.DefaultStyles()
	st.Header = th.Dim.Style.Bold(true).Padding(0, 1, 0, 0)
	st.Cell = st.Cell.Padding(0, 1, 0, 0)
	st.Selected = th.Selected.Style
	return &Pane{env: env, tbl: table.New(table.WithStyles(st), table.WithFocused(true))}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "oncall" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding { return []key.Binding{keys.Up, keys.Down} }

// Capturing is always false: the pane has no input.
func (p *Pane) Capturing() bool { return false }

// Crumbs is empty: the pane has no detail.
func (p *Pane) Crumbs() []string { return nil }

// Back has nothing to leave.
func (p *Pane) Back() bool { return false }

// Update moves the selection.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	if k, ok := m.(tea.KeyPressMsg); ok {
		p.tbl, _ = p.tbl.Update(k)
	}
	return nil
}

// Title names the policy.
func (p *Pane) Title() string {
	if oc := p.env.State.OnCall; len(oc) > 0 {
		return "On call · policy " + termtext.Clean(oc[0].Policy)
	}
	return "On call"
}

// View draws the pane in w×h cells: the steps, then the pages sent.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	st := p.env.State
	out := layout.Box(*th, p.Title(), nil, w, 1, true)
	if len(st.OnCall) == 0 {
		if !st.Known() {
			out = append(out, th.Error.Render("Unknown: the server has not answered."))
		} else {
			out = append(out, th.Dim.Render("No escalation policy configured: add policies (and schedules) to oncall.yaml."))
		}
		return layout.Lines(out, w, h)
	}
	now := p.env.Now()
	nameW, nowW := min(20, max(12, w/5)), min(30, max(10, w/5))
	nextW := max(8, w-(4+nameW+nowW+16+7)-6)
	cols := []table.Column{{Title: "STEP", Width: 4}, {Title: "NAME", Width: nameW}, {Title: "NOW", Width: nowW},
		{Title: "UNTIL", Width: 16}, {Title: "NEXT", Width: nextW}, {Title: "ACK IN", Width: 7}}
	var rows []table.Row
	for _, a := range st.OnCall {
		who := termtext.Clean(strings.Join(a.Users, ", "))
		if who == "" {
			who = th.Error.Render("nobody")
		}
		until, next := "—", "—"
		if !a.Until.IsZero() {
			until = a.Until.Local().Format("Mon 15:04") + " (" + layout.Short(a.Until.Sub(now)) + ")"
			next = termtext.Clean(strings.Join(a.Next, ", "))
		}
		rows = append(rows, table.Row{fmt.Sprint(a.Step + 1), termtext.Clean(a.StepName), who, until, next, layout.Short(a.Delay)})
	}
	p.tbl.SetColumns(cols)
	p.tbl.SetWidth(w)
	p.tbl.SetRows(rows)
	p.tbl.SetHeight(len(rows) + 1)
	out = append(out, strings.Split(p.tbl.View(), "\n")...)

	out = append(out, "")
	out = append(out, layout.Box(*th, "Pages sent", nil, w, 1, false)...)
	if len(st.Pages) == 0 {
		out = append(out, th.Dim.Render("No pages yet."))
	}
	for _, pg := range st.Pages {
		state := th.OK.Render("delivered")
		if pg.SentAt.IsZero() {
			state = th.Warn.Render(fmt.Sprintf("queued (%d tries)", pg.Attempts))
			if pg.LastError != "" {
				state += th.Error.Render(" " + termtext.Clean(pg.LastError))
			}
		}
		out = append(out, fmt.Sprintf("%s INC-%d %-8s → %s %s %s", th.Dim.Render(pg.CreatedAt.Local().Format("15:04:05")), pg.IncidentID,
			termtext.Clean(pg.Kind), th.Bold.Render(termtext.Clean(pg.Target)), th.Dim.Render(termtext.Clean(pg.StepName)), state))
	}
	return layout.Lines(out, w, h)
}

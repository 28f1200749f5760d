// Package incidentspane is the console's incident pane: the open
// incidents with where each stands in its escalation (who was paged, the
// countdown to the next step, who acknowledged) and whether it still
// needs an incident commander; acknowledging, escalating, mitigating and
// resolving them, taking the commander's role, adding a note; and the
// detail of one with its roles, updates, tasks, whole timeline, the pages
// it sent and the alerts of its service.
package incidentspane

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/filterbox"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var keys = struct {
	Up, Down, Open, Ack, Escalate, Mitigate, Resolve, Commander, Note, Filter, Back key.Binding
}{
	Up:        key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous")),
	Down:      key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next")),
	Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "the incident's detail and timeline")),
	Ack:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "acknowledge: you own it, escalation stops")),
	Escalate:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "escalate: page the next step now (asks to confirm)")),
	Mitigate:  key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mitigated: the impact has stopped")),
	Resolve:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resolve (asks to confirm)")),
	Commander: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "take the incident commander's role")),
	Note:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "add a note to the timeline")),
	Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter: text, service=, severity=, status=")),
	Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the list")),
}

// Pane is the incident pane.
type Pane struct {
	env     *state.Env
	box     *filterbox.Box
	filter  logs.Filter
	tbl     table.Model
	shown   []int64 // the ids in the table's rows
	selID   int64
	open    int64 // the incident whose detail is open (0: none)
	vp      viewport.Model
	confirm int64  // the incident awaiting y/n
	verb    string // what y confirms: "resolve" or "escalate"
	note    textinput.Model
	noteFor int64 // the incident the note being typed is for (0: none)
	tblW    int
}

// New returns the incident pane.
func New(env *state.Env) *Pane {
	th := env.Theme
	st := table.DefaultStyles()
	st.Header = th.Dim.Style.Bold(true)
	st.Cell = st.Cell.Padding(0, 1, 0, 0)
	st.Header = st.Header.Padding(0, 1, 0, 0)
	st.Selected = th.Selected.Style
	t := table.New(table.WithStyles(st), table.WithFocused(true))
	t.KeyMap.PageDown.SetKeys("pgdown", "ctrl+d")
	t.KeyMap.PageUp.SetKeys("pgup", "ctrl+u")
	t.KeyMap.HalfPageDown.SetEnabled(false)
	t.KeyMap.HalfPageUp.SetEnabled(false)
	note := textinput.New()
	ist := textinput.DefaultStyles(th.Dark)
	ist.Cursor.Blink = false
	ist.Focused.Prompt = th.Key.Style
	note.SetStyles(ist)
	note.CharLimit = 2000
	return &Pane{env: env, box: filterbox.New(th), tbl: t, vp: viewport.New(), note: note}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "incidents" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	acts := []key.Binding{keys.Ack, keys.Escalate, keys.Mitigate, keys.Resolve, keys.Commander, keys.Note}
	if p.open != 0 {
		return append(acts, keys.Back)
	}
	return append(append([]key.Binding{keys.Up, keys.Down, keys.Open}, acts...), keys.Filter)
}

// Capturing reports whether an input takes every key.
func (p *Pane) Capturing() bool { return p.box.Editing() || p.confirm != 0 || p.noteFor != 0 }

// Crumbs names the open incident.
func (p *Pane) Crumbs() []string {
	if p.open != 0 {
		return []string{fmt.Sprintf("INC-%d", p.open)}
	}
	return nil
}

// Back closes the detail.
func (p *Pane) Back() bool {
	if p.open != 0 {
		p.open = 0
		return true
	}
	return false
}

// Update handles keys, state changes and palette requests (`:incident 42`).
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Open:
		if id, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(m.Arg), "INC-"), 10, 64); err == nil {
			if _, ok := p.env.State.Incident(id); !ok {
				return status(fmt.Sprintf("no open incident INC-%d", id), true)
			}
			p.open, p.selID = id, id
			p.vp.GotoTop()
			return nil
		}
		p.open = 0
		p.box.Set(m.Arg)
		p.applyFilter()
	case tea.KeyPressMsg:
		return p.key(m)
	}
	return nil
}

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	if p.confirm != 0 {
		id, verb := p.confirm, p.verb
		p.confirm = 0
		if k.String() != "y" && k.String() != "Y" {
			return status(verb+" cancelled", false)
		}
		if verb == "escalate" {
			return func() tea.Msg { return msg.Act{Incident: id, Action: "escalate"} }
		}
		return func() tea.Msg { return msg.Resolve{Incident: id} }
	}
	if p.noteFor != 0 {
		switch k.String() {
		case "esc":
			p.noteFor = 0
			p.note.Blur()
			return status("note cancelled", false)
		case "enter":
			id, text := p.noteFor, strings.TrimSpace(p.note.Value())
			p.noteFor = 0
			p.note.Blur()
			if text == "" {
				return status("an empty note is not added", false)
			}
			return func() tea.Msg { return msg.Act{Incident: id, Action: "note", Text: text} }
		}
		var cmd tea.Cmd
		p.note, cmd = p.note.Update(k)
		return cmd
	}
	if p.box.Editing() {
		if changed, cmd := p.box.Update(k); changed {
			p.applyFilter()
			return cmd
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Ack):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			if inc.Status == incidents.StatusAcknowledged {
				return status(fmt.Sprintf("%s is already acknowledged by %s", inc.Ref(), termtext.Clean(inc.AckedBy)), false)
			}
			id := inc.ID
			return func() tea.Msg { return msg.Ack{Incident: id} }
		})
	case key.Matches(k, keys.Resolve):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			p.confirm, p.verb = inc.ID, "resolve"
			return nil
		})
	case key.Matches(k, keys.Escalate):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			if inc.Status == incidents.StatusMitigated {
				return status(fmt.Sprintf("%s is mitigated: reopen it to page again (oncall incident reopen %d)", inc.Ref(), inc.ID), true)
			}
			p.confirm, p.verb = inc.ID, "escalate"
			return nil
		})
	case key.Matches(k, keys.Mitigate):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			if inc.Status == incidents.StatusMitigated {
				return status(inc.Ref()+" is already mitigated", false)
			}
			id := inc.ID
			return func() tea.Msg { return msg.Act{Incident: id, Action: "mitigate"} }
		})
	case key.Matches(k, keys.Commander):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			id := inc.ID
			return func() tea.Msg { return msg.Act{Incident: id, Action: "assign", Role: string(incidents.RoleCommander)} }
		})
	case key.Matches(k, keys.Note):
		return p.act(func(inc *incidents.Incident) tea.Cmd {
			p.noteFor = inc.ID
			p.note.Prompt = "note on " + inc.Ref() + ": "
			p.note.SetValue("")
			return p.note.Focus()
		})
	case p.open != 0:
		p.vp, _ = p.vp.Update(k)
		return nil
	case key.Matches(k, keys.Filter):
		return p.box.Open()
	case key.Matches(k, keys.Open):
		if id, ok := p.selected(); ok {
			p.open = id
			p.vp.GotoTop()
		}
		return nil
	}
	p.rebuild(p.tblW)
	p.tbl, _ = p.tbl.Update(k)
	if c := p.tbl.Cursor(); c >= 0 && c < len(p.shown) {
		p.selID = p.shown[c]
	}
	return nil
}

// act runs f on the incident the user means: the open one, else the
// selected one.
func (p *Pane) act(f func(*incidents.Incident) tea.Cmd) tea.Cmd {
	if p.env.ReadOnly {
		return status("read-only console: acting on incidents is off", true)
	}
	id := p.open
	if id == 0 {
		var ok bool
		if id, ok = p.selected(); !ok {
			return status("no open incident", false)
		}
	}
	inc, ok := p.env.State.Incident(id)
	if !ok {
		return status(fmt.Sprintf("INC-%d is no longer open", id), true)
	}
	return f(inc)
}

func (p *Pane) selected() (int64, bool) {
	p.rebuild(p.tblW)
	if c := p.tbl.Cursor(); c >= 0 && c < len(p.shown) {
		return p.shown[c], true
	}
	return 0, false
}

func (p *Pane) applyFilter() {
	f, err := logs.ParseFilter(p.box.Value())
	if err != nil {
		p.box.Err = strings.TrimPrefix(err.Error(), "filter: ")
		return
	}
	p.box.Err, p.filter = "", f
}

// view is an incident as the filter sees it.
func view(inc *incidents.Incident) *logs.Entry {
	return &logs.Entry{Message: inc.Title + " " + inc.Summary, Service: inc.Service, Fields: map[string]string{
		"severity": inc.Severity.String(), "sev": inc.Severity.String(), "alert_severity": inc.AlertSeverity, "status": inc.Status.String(), "acked_by": inc.AckedBy,
		"policy": inc.Escalation.Policy, "step": inc.Escalation.StepName, "paged": strings.Join(inc.Escalation.Paged, ","), "id": inc.Ref()}}
}

// columns sizes the table for width w: the title takes what is left, and
// on a narrow screen the open time, severity and service give way to it.
func columns(w int) []table.Column {
	cols := []table.Column{{Title: "ID", Width: 7}, {Title: "STATUS", Width: 13}, {Title: "SEV", Width: 6}, {Title: "TITLE"},
		{Title: "SERVICE", Width: 14}, {Title: "OPEN", Width: 7}, {Title: "ESCALATION", Width: min(64, max(24, w/3))}}
	title := func() int {
		used := 0
		for i, c := range cols {
			if i != 3 && c.Width > 0 {
				used += c.Width + 1
			}
		}
		return w - used - 1
	}
	for _, drop := range []int{5, 2, 4} {
		if title() >= 20 {
			break
		}
		cols[drop].Width = 0
	}
	cols[3].Width = max(10, title())
	return cols
}

// rebuild fills the table for width w from the state: oldest first, the
// countdowns as of now.
func (p *Pane) rebuild(w int) {
	if w <= 0 {
		w = 120
	}
	p.tblW = w
	th := p.env.Theme
	now := p.env.Now()
	var rows []table.Row
	p.shown = p.shown[:0]
	cursor := 0
	for i := range p.env.State.Incidents {
		inc := &p.env.State.Incidents[i]
		if !p.filter.Empty() && !p.filter.Match(view(inc)) {
			continue
		}
		if inc.ID == p.selID {
			cursor = len(rows)
		}
		p.shown = append(p.shown, inc.ID)
		rows = append(rows, table.Row{inc.Ref(), p.statusCell(inc), inc.Severity.String(), termtext.Clean(inc.Title),
			termtext.Clean(inc.Service), layout.Short(now.Sub(inc.OpenedAt)), ansi.Strip(p.escalation(inc, now))})
	}
	_ = th
	p.tbl.SetColumns(columns(w))
	p.tbl.SetWidth(w)
	p.tbl.SetRows(rows)
	p.tbl.SetCursor(cursor)
}

func (p *Pane) statusCell(inc *incidents.Incident) string {
	th := p.env.Theme
	switch inc.Status {
	case incidents.StatusTriggered:
		return th.Triggered.Render("TRIGGERED")
	case incidents.StatusAcknowledged:
		return th.Acked.Render("acknowledged")
	case incidents.StatusMitigated:
		return th.OK.Render("mitigated")
	}
	return th.Resolved.Render(inc.Status.String())
}

// escalation says where the incident stands in its policy.
func (p *Pane) escalation(inc *incidents.Incident, now time.Time) string {
	th := p.env.Theme
	e := inc.Escalation
	who := termtext.Clean(strings.Join(e.Paged, ", "))
	if who == "" {
		who = "nobody"
	}
	s := fmt.Sprintf("step %d %s: %s", e.Step+1, termtext.Clean(e.StepName), who)
	if inc.CommanderNeeded {
		s = th.Error.Render("no IC! ") + s
	}
	if inc.Drill {
		s = th.Dim.Render("drill · ") + s
	}
	switch {
	case e.Policy == "":
		s = th.Dim.Render("declared by " + termtext.Clean(inc.DeclaredBy) + ", nobody paged")
		if inc.CommanderNeeded {
			s = th.Error.Render("no IC! ") + s
		}
		return s
	case inc.Status == incidents.StatusMitigated:
		return s + th.OK.Render(fmt.Sprintf(" · mitigated by %s %s ago", termtext.Clean(inc.MitigatedBy), layout.Short(now.Sub(inc.MitigatedAt))))
	case inc.Status == incidents.StatusAcknowledged && !e.NextAt.IsZero():
		return s + th.Acked.Render(fmt.Sprintf(" · acked by %s, pages again in %s", termtext.Clean(inc.AckedBy), layout.Short(e.NextAt.Sub(now))))
	case inc.Status == incidents.StatusAcknowledged:
		return s + th.Acked.Render(fmt.Sprintf(" · acked by %s %s ago", termtext.Clean(inc.AckedBy), layout.Short(now.Sub(inc.AckedAt))))
	case !e.NextAt.IsZero() && e.NextAt.After(now):
		return s + th.Warn.Render(" · escalates in "+layout.Short(e.NextAt.Sub(now)))
	case !e.NextAt.IsZero():
		return s + th.Warn.Render(" · escalating now")
	}
	return s + th.Dim.Render(" · last step")
}

// Title heads the pane.
func (p *Pane) Title() string {
	n, trig, noIC := 0, 0, 0
	for _, inc := range p.env.State.Incidents {
		n++
		if inc.Status == incidents.StatusTriggered {
			trig++
		}
		if inc.CommanderNeeded {
			noIC++
		}
	}
	t := fmt.Sprintf("Incidents · %d open · %d unacknowledged", n, trig)
	if noIC > 0 {
		t += fmt.Sprintf(" · %d need an incident commander", noIC)
	}
	if !p.filter.Empty() {
		t += fmt.Sprintf(" · %d match the filter", len(p.shown))
	}
	return t
}

// View draws the pane in w×h cells.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	if p.open != 0 {
		return p.detail(w, h)
	}
	p.rebuild(w)
	out := layout.Box(*th, p.Title(), nil, w, 1, true)
	if p.box.Shown() {
		out = append(out, p.box.View(w))
	}
	out = append(out, p.inputLines()...)
	st := p.env.State
	if len(p.shown) == 0 {
		switch {
		case !st.Known():
			out = append(out, th.Error.Render("Unknown: the server has not answered."))
		case len(st.Incidents) == 0:
			out = append(out, th.OK.Render("No open incidents."), th.Dim.Render("An incident opens when an alert group routed to an incident receiver fires."))
		default:
			out = append(out, th.Dim.Render("No open incident matches the filter."))
		}
		return layout.Lines(out, w, h)
	}
	p.tbl.SetHeight(max(2, h-len(out)))
	out = append(out, strings.Split(p.tbl.View(), "\n")...)
	return layout.Lines(out, w, h)
}

// inputLines are the question or the note being typed, if any.
func (p *Pane) inputLines() []string {
	th := p.env.Theme
	if p.noteFor != 0 {
		return []string{p.note.View()}
	}
	if p.confirm == 0 {
		return nil
	}
	inc, ok := p.env.State.Incident(p.confirm)
	if !ok {
		return nil
	}
	q := fmt.Sprintf("resolve %s %q? y/n", inc.Ref(), termtext.Clean(inc.Title))
	if p.verb == "escalate" {
		q = fmt.Sprintf("escalate %s: page the next step now? y/n", inc.Ref())
	}
	return []string{th.Warn.Render(q)}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func status(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return msg.Status{Text: text, Err: isErr} }
}

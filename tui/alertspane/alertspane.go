// Package alertspane is the console's alert pane: alerts grouped as they
// notify (one group per receiver and group labels, as Alertmanager
// groups them), with their state and silenced or inhibited marks; a
// filter over labels, annotations and state; the detail of one alert
// with its rule, a chart of its expression over the last hour and the
// series behind it; silencing it.
//
// The list is drawn row by row rather than with the Bubbles table: group
// header rows span the width, which the table cannot draw.
package alertspane

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/filterbox"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var keys = struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Open, Fold, View, Filter, Silence key.Binding
}{
	Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous")),
	Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next")),
	PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
	PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
	Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "first")),
	Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "last")),
	Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "the alert's detail (on a group: fold it)")),
	Fold:     key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "fold or unfold the group")),
	View:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "grouped as they notify, or one flat list")),
	Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter: text, label=value, sev=page, state=firing")),
	Silence:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "silence the alert (asks how long)")),
}

// row is one line of the list: a group header or an alert.
type row struct {
	group *groupRow
	fp    uint64
}

type groupRow struct {
	key     string
	title   string
	firing  int
	muted   int
	pending int
	folded  bool
}

// Pane is the alert pane.
type Pane struct {
	env *state.Env
	box *filterbox.Box

	filter  logs.Filter
	views   map[uint64]cachedView // each alert seen as a log entry, for the filter
	rows    []row
	stale   bool // rows must be derived again
	flat    bool
	folded  map[string]bool
	cur     int
	top     int
	selFP   uint64 // the selected alert, kept across updates
	selKey  string // or the selected group
	shownN  int    // alerts that pass the filter
	detail  *detail
	prompt  *textinput.Model // the silence duration being typed
	promptE string
}

// New returns the alert pane.
func New(env *state.Env) *Pane {
	return &Pane{env: env, box: filterbox.New(env.Theme), folded: map[string]bool{}, stale: true}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "alerts" }

// Keys are the pane's bindings (the detail's when it is open).
func (p *Pane) Keys() []key.Binding {
	if p.detail != nil {
		return detailKeys()
	}
	return []key.Binding{keys.Up, keys.Down, keys.PageUp, keys.PageDown, keys.Top, keys.Bottom, keys.Open, keys.Fold, keys.View, keys.Filter, keys.Silence}
}

// Capturing reports whether an input takes every key.
func (p *Pane) Capturing() bool { return p.box.Editing() || p.prompt != nil }

// Crumbs names the alert whose detail is open.
func (p *Pane) Crumbs() []string {
	if p.detail != nil {
		return []string{p.detail.title()}
	}
	return nil
}

// Back closes the detail.
func (p *Pane) Back() bool {
	if p.detail != nil {
		p.detail = nil
		return true
	}
	return false
}

// Update handles keys, state changes, palette requests and query answers.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Changed:
		if m.Kinds&(state.KindAlerts|state.KindGroups) != 0 {
			p.stale = true
		}
		if p.detail != nil {
			p.detail.refresh()
		}
	case msg.Open:
		p.detail = nil
		p.box.Set(m.Arg)
		p.applyFilter()
	case msg.RangeResult, msg.InstantResult, msg.HistoryResult:
		if p.detail != nil {
			p.detail.answer(m)
		}
	case tea.KeyPressMsg:
		return p.key(m)
	case tea.PasteMsg:
		if p.box.Editing() {
			if changed, cmd := p.box.Update(m); changed {
				p.applyFilter()
				return cmd
			}
		}
	}
	return nil
}

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case p.prompt != nil:
		return p.promptKey(k)
	case p.box.Editing():
		changed, cmd := p.box.Update(k)
		if changed {
			p.applyFilter()
		}
		return cmd
	case p.detail != nil:
		if key.Matches(k, keys.Silence) {
			return p.startSilence(p.detail.fp)
		}
		return p.detail.key(k)
	}
	p.derive()
	switch {
	case key.Matches(k, keys.Up):
		p.move(-1)
	case key.Matches(k, keys.Down):
		p.move(1)
	case key.Matches(k, keys.PageUp):
		p.move(-10)
	case key.Matches(k, keys.PageDown):
		p.move(10)
	case key.Matches(k, keys.Top):
		p.move(-len(p.rows))
	case key.Matches(k, keys.Bottom):
		p.move(len(p.rows))
	case key.Matches(k, keys.Filter):
		return p.box.Open()
	case key.Matches(k, keys.View):
		p.flat, p.stale = !p.flat, true
	case key.Matches(k, keys.Fold):
		p.fold()
	case key.Matches(k, keys.Open):
		if r, ok := p.selected(); ok && r.group != nil {
			p.fold()
		} else if ok {
			p.detail = newDetail(p.env, r.fp)
			return p.detail.load()
		}
	case key.Matches(k, keys.Silence):
		if r, ok := p.selected(); ok && r.group == nil {
			return p.startSilence(r.fp)
		}
	}
	return nil
}

func (p *Pane) fold() {
	if r, ok := p.selected(); ok && r.group != nil {
		p.folded[r.group.key] = !p.folded[r.group.key]
		p.stale = true
	}
}

// applyFilter parses the box's text; a filter that does not parse keeps
// the previous one and says why.
func (p *Pane) applyFilter() {
	f, err := logs.ParseFilter(p.box.Value())
	if err != nil {
		p.box.Err = strings.TrimPrefix(err.Error(), "filter: ")
		return
	}
	p.box.Err, p.filter, p.stale = "", f, true
}

// selected is the row under the cursor.
func (p *Pane) selected() (row, bool) {
	p.derive()
	if p.cur < 0 || p.cur >= len(p.rows) {
		return row{}, false
	}
	return p.rows[p.cur], true
}

func (p *Pane) move(d int) {
	if len(p.rows) == 0 {
		return
	}
	p.cur = max(0, min(len(p.rows)-1, p.cur+d))
	p.remember()
}

// remember notes what is selected, so the cursor stays on it when the
// list is derived again.
func (p *Pane) remember() {
	if p.cur < len(p.rows) {
		r := p.rows[p.cur]
		p.selFP, p.selKey = r.fp, ""
		if r.group != nil {
			p.selKey = r.group.key
		}
	}
}

// cachedView is an alert's view as of its last update and state.
type cachedView struct {
	entry   *logs.Entry
	updated time.Time
	state   string
}

// current reports whether the view still describes the alert.
func (v cachedView) current(a *alerts.Alert) bool {
	return v.updated.Equal(a.UpdatedAt) && v.state == stateName(a)
}

// view is an alert as the filter sees it: labels and annotations as
// fields, the summary as the message, the severity as a level, and state,
// sev and receiver as extra fields.
func view(a *alerts.Alert) *logs.Entry {
	e := &logs.Entry{Message: a.Summary(), Service: a.Labels.Get("service"), Fields: map[string]string{}}
	a.Labels.Range(func(l labels.Label) { e.Fields[l.Name] = l.Value })
	a.Annotations.Range(func(l labels.Label) {
		if _, ok := e.Fields[l.Name]; !ok {
			e.Fields[l.Name] = l.Value
		}
	})
	e.Fields["state"] = stateName(a)
	e.Fields["sev"] = a.Severity()
	e.Fields["receiver"] = strings.Join(a.Status.Receivers, ",")
	switch a.Severity() {
	case "critical", "page", "error":
		e.Level = logs.LevelError
	case "warning", "ticket", "warn":
		e.Level = logs.LevelWarn
	default:
		e.Level = logs.LevelInfo
	}
	return e
}

// stateName is what the list calls an alert's state.
func stateName(a *alerts.Alert) string {
	switch {
	case a.Status.State == alerts.StatePending:
		return "pending"
	case a.Status.State == alerts.StateResolved:
		return "resolved"
	case len(a.Status.SilencedBy) > 0:
		return "silenced"
	case len(a.Status.InhibitedBy) > 0:
		return "inhibited"
	}
	return "firing"
}

// derive builds the rows from the state: groups as the server dispatches
// them, then the alerts no group holds (pending, or routed nowhere).
func (p *Pane) derive() {
	if !p.stale {
		return
	}
	p.stale = false
	st := p.env.State
	if p.views == nil || len(p.views) > 2*len(st.Alerts)+1024 {
		p.views = make(map[uint64]cachedView, len(st.Alerts))
	}
	pass := func(a *alerts.Alert, fp uint64) bool {
		if p.filter.Empty() {
			return true
		}
		v, ok := p.views[fp]
		if !ok || !v.current(a) {
			v = cachedView{entry: view(a), updated: a.UpdatedAt, state: stateName(a)}
			p.views[fp] = v
		}
		return p.filter.Match(v.entry)
	}
	p.rows = p.rows[:0]
	p.shownN = 0
	if p.flat {
		for i := range st.Alerts {
			if fp := st.Fingerprints[i]; pass(&st.Alerts[i], fp) {
				p.rows = append(p.rows, row{fp: fp})
				p.shownN++
			}
		}
	} else {
		inGroup := map[uint64]bool{}
		type member struct {
			g       *groupRow
			members []uint64
			worst   int
		}
		var gs []member
		for gi := range st.Groups {
			g := &st.Groups[gi]
			m := member{g: &groupRow{key: g.Key + "\x00" + g.Receiver, title: g.Receiver + " · " + g.Labels.String()}}
			for _, fp := range g.Fingerprints {
				a, ok := st.Alert(fp)
				if !ok {
					continue
				}
				inGroup[fp] = true
				if !pass(a, fp) {
					continue
				}
				m.members = append(m.members, fp)
				count(m.g, a)
				if stateName(a) == "firing" {
					m.worst = max(m.worst, state.SeverityRank(a.Severity()))
				}
			}
			gs = append(gs, m)
		}
		// The groups that page come first: unmuted firing alerts, by
		// severity, then by how many; the server's order otherwise.
		slices.SortStableFunc(gs, func(a, b member) int {
			return cmp.Or(cmp.Compare(min(b.g.firing, 1), min(a.g.firing, 1)), cmp.Compare(b.worst, a.worst), cmp.Compare(b.g.firing, a.g.firing))
		})
		for _, m := range gs {
			p.addGroup(m.g, m.members)
		}
		rest := &groupRow{key: "\x00rest", title: "not notifying: pending, or routed to no receiver"}
		var members []uint64
		for i := range st.Alerts {
			a := &st.Alerts[i]
			if fp := st.Fingerprints[i]; !inGroup[fp] && a.Status.State != alerts.StateResolved && pass(a, fp) {
				members = append(members, fp)
				count(rest, a)
			}
		}
		p.addGroup(rest, members)
	}
	// Keep the cursor on what was selected.
	p.cur = min(p.cur, max(0, len(p.rows)-1))
	for i, r := range p.rows {
		if (r.fp != 0 && r.fp == p.selFP) || (r.group != nil && p.selKey != "" && r.group.key == p.selKey) {
			p.cur = i
			break
		}
	}
}

func count(g *groupRow, a *alerts.Alert) {
	switch stateName(a) {
	case "firing":
		g.firing++
	case "pending":
		g.pending++
	case "silenced", "inhibited":
		g.muted++
	}
}

func (p *Pane) addGroup(g *groupRow, members []uint64) {
	if len(members) == 0 {
		return
	}
	g.folded = p.folded[g.key]
	p.rows = append(p.rows, row{group: g})
	p.shownN += len(members)
	if g.folded {
		return
	}
	for _, fp := range members {
		p.rows = append(p.rows, row{fp: fp})
	}
}

// Title heads the pane with the counts.
func (p *Pane) Title() string {
	f, mu, pe := p.env.State.Counts()
	t := fmt.Sprintf("Alerts · %d firing · %d muted · %d pending", f, mu, pe)
	if !p.filter.Empty() {
		t += fmt.Sprintf(" · %d match the filter", p.shownN)
	}
	if p.flat {
		t += " · flat"
	} else {
		t += " · grouped as they notify"
	}
	return t
}

// View draws the pane in w×h cells.
func (p *Pane) View(w, h int) string {
	if p.detail != nil {
		return p.detail.view(w, h, p.promptLine(w))
	}
	p.derive()
	th := p.env.Theme
	out := layout.Box(*th, p.Title(), nil, w, 1, true)
	if p.box.Shown() {
		out = append(out, p.box.View(w))
	}
	if pl := p.promptLine(w); pl != "" {
		out = append(out, pl)
	}
	rows := h - len(out)
	st := p.env.State
	if len(p.rows) == 0 {
		switch {
		case !st.Known():
			out = append(out, th.Error.Render("Unknown: the server has not answered."))
		case len(st.Alerts) == 0:
			out = append(out, th.OK.Render("Nothing firing, nothing pending."))
		default:
			out = append(out, th.Dim.Render(fmt.Sprintf("No alert of %d matches the filter.", len(st.Alerts))))
		}
		return layout.Lines(out, w, h)
	}
	from, to := layout.Window(len(p.rows), p.cur, rows, p.top)
	p.top = from
	now := p.env.Now()
	// The name as long as the longest shown (at most 32); on a narrow
	// screen the service (in the group's header) gives way.
	nameW := 9
	for i := from; i < to; i++ {
		if a, ok := st.Alert(p.rows[i].fp); ok && p.rows[i].group == nil {
			nameW = max(nameW, ansi.StringWidth(termtext.Clean(a.Name())))
		}
	}
	nameW = min(nameW, 32, max(12, w/3))
	cols := columns{name: nameW, service: w >= 110}
	for i := from; i < to; i++ {
		r := p.rows[i]
		var line string
		if r.group != nil {
			line = p.groupLine(r.group)
		} else if a, ok := st.Alert(r.fp); ok {
			line = p.alertLine(a, cols, now)
		}
		if i == p.cur {
			line = th.Selected.Render(layout.Fit(line, w))
		}
		out = append(out, line)
	}
	return layout.Lines(out, w, h)
}

func (p *Pane) groupLine(g *groupRow) string {
	th := p.env.Theme
	mark := "▾"
	if g.folded {
		mark = "▸"
	}
	var parts []string
	if g.firing > 0 {
		parts = append(parts, th.Firing.Render(fmt.Sprintf("%d firing", g.firing)))
	}
	if g.muted > 0 {
		parts = append(parts, th.Muted.Render(fmt.Sprintf("%d muted", g.muted)))
	}
	if g.pending > 0 {
		parts = append(parts, th.Pending.Render(fmt.Sprintf("%d pending", g.pending)))
	}
	return th.Bold.Render(mark+" "+termtext.Clean(g.title)) + "  " + strings.Join(parts, th.Dim.Render(" · "))
}

// stateCell is the alert's state, coloured, 9 cells wide.
func (p *Pane) stateCell(a *alerts.Alert) string {
	th := p.env.Theme
	switch s := stateName(a); s {
	case "firing":
		return th.Firing.Render("FIRING   ")
	case "pending":
		return th.Pending.Render("pending  ")
	case "resolved":
		return th.Resolved.Render("resolved ")
	default:
		return th.Muted.Render(fmt.Sprintf("%-9s", s))
	}
}

// columns say how an alert's row is laid out.
type columns struct {
	name    int
	service bool
}

func (p *Pane) alertLine(a *alerts.Alert, c columns, now time.Time) string {
	th := p.env.Theme
	svc := ""
	if c.service {
		svc = layout.Fit(termtext.Clean(a.Labels.Get("service")), 14) + " "
	}
	return fmt.Sprintf("  %s %-8s %s %s%6s  %s", p.stateCell(a), layout.Fit(termtext.Clean(a.Severity()), 8),
		layout.Fit(termtext.Clean(a.Name()), c.name), svc, layout.Short(now.Sub(a.StartsAt)), th.Dim.Render(termtext.Clean(a.Summary())))
}

func status(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return msg.Status{Text: text, Err: isErr} }
}

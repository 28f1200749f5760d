// Package overviewpane is the console's first screen: every service the
// rules and alerts name, the ones in trouble first, with what fires, its
// open incident, the error budget its SLOs have left and a sparkline of
// its signal over the last hour; who is on call now; and whether oncall
// itself can see.
package overviewpane

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/chart"
	"github.com/oncallhq/oncall/tui/filterbox"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// sparkEvery is how often the sparklines are queried again.
const sparkEvery = time.Minute

var keys = struct{ Up, Down, Open, Ack, Filter key.Binding }{
	Up:     key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous service")),
	Down:   key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next service")),
	Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "the service's alerts")),
	Ack:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "acknowledge its incident (else the oldest paging)")),
	Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter (name, team=, tier=, state=)")),
}

// maxSignals bounds the queries one refresh of the sparklines makes.
const maxSignals = 20

// spark is one service's signal over the last hour.
type spark struct {
	values []float64
	last   float64
	rank   int // the severity of the rule it comes from
	order  int // and its place among the rules
	round  int
}

// signal is a rule's signal, queried once for every service it returns
// series for.
type signal struct {
	expr    string
	rank    int
	order   int
	service string // the rule's service label, for series without one
}

// Pane is the overview.
type Pane struct {
	env     *state.Env
	box     *filterbox.Box
	cur     int
	sparks  map[string]*spark // by service
	asked   time.Time
	round   int
	queries map[string]signal // by request ID
	failed  int               // signals whose query failed this round
	budgets map[string]budget // by service: its SLO with the least budget left
	budgetQ string            // the ID of the budget query in flight
}

// budgetExpr is the recorded error budget left of every SLO oncall
// generates (Sloth's series and labels).
const budgetExpr = "slo:period_error_budget_remaining:ratio"

// budget is the error budget left of a service's worst SLO: 1 is all of
// it, 0 none, below 0 overspent.
type budget struct {
	slo  string
	left float64
}

// New returns the overview.
func New(env *state.Env) *Pane {
	return &Pane{env: env, box: filterbox.New(env.Theme), sparks: map[string]*spark{}, queries: map[string]signal{}, budgets: map[string]budget{}}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "overview" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	return []key.Binding{keys.Up, keys.Down, keys.Open, keys.Ack, keys.Filter}
}

// Capturing reports whether the filter line takes the keys.
func (p *Pane) Capturing() bool { return p.box.Editing() }

// Crumbs is empty: the overview has no detail of its own.
func (p *Pane) Crumbs() []string { return nil }

// Back has nothing to leave.
func (p *Pane) Back() bool { return false }

// Update handles keys, the clock (sparklines are queried again every
// minute) and their answers.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Tick:
		if m.Now.Sub(p.asked) >= sparkEvery {
			return p.query()
		}
	case msg.Changed:
		if m.Kinds&state.KindRules != 0 || (p.asked.IsZero() && p.env.State.Known()) {
			return p.query()
		}
	case msg.InstantResult:
		if m.ID != p.budgetQ || m.Expr != budgetExpr {
			return nil
		}
		p.budgetQ = ""
		if m.Err != nil {
			p.failed++
			return nil
		}
		clear(p.budgets)
		for _, s := range m.Result.Vector {
			svc := s.Labels.Get("sloth_service")
			if b, ok := p.budgets[svc]; svc == "" || (ok && b.left <= s.Value) {
				continue
			}
			p.budgets[svc] = budget{slo: s.Labels.Get("sloth_slo"), left: s.Value}
		}
	case msg.RangeResult:
		sig, ok := p.queries[m.ID]
		if !ok || sig.expr != m.Expr {
			return nil
		}
		delete(p.queries, m.ID)
		if m.Err != nil {
			p.failed++
			return nil
		}
		for _, s := range m.Series {
			svc := s.Labels.Get("service")
			if svc == "" {
				svc = sig.service
			}
			if svc == "" || len(s.Points) == 0 {
				continue
			}
			if old := p.sparks[svc]; old != nil && old.round == p.round &&
				(old.rank > sig.rank || (old.rank == sig.rank && old.order < sig.order)) {
				continue // a more severe (or earlier) rule's signal stands for the service
			}
			sp := &spark{rank: sig.rank, order: sig.order, round: p.round}
			for _, pt := range s.Points {
				sp.values = append(sp.values, pt.V)
			}
			sp.last = sp.values[len(sp.values)-1]
			p.sparks[svc] = sp
		}
	case msg.Open:
		p.box.Set(m.Arg)
		p.cur = 0
	case tea.PasteMsg:
		if p.box.Editing() {
			_, cmd := p.box.Update(m)
			p.cur = 0
			return cmd
		}
	case tea.KeyPressMsg:
		if p.box.Editing() {
			changed, cmd := p.box.Update(m)
			if changed {
				p.cur = 0
			}
			return cmd
		}
		n := len(p.services())
		switch {
		case key.Matches(m, keys.Filter):
			return p.box.Open()
		case key.Matches(m, keys.Up):
			p.cur = max(0, p.cur-1)
		case key.Matches(m, keys.Down):
			p.cur = min(max(0, n-1), p.cur+1)
		case key.Matches(m, keys.Open):
			if svcs := p.services(); p.cur < len(svcs) {
				name := svcs[p.cur].Name
				return func() tea.Msg { return msg.Open{Pane: "alerts", Arg: "service=" + name} }
			}
		case key.Matches(m, keys.Ack):
			return p.ack()
		}
	}
	return nil
}

// ack acknowledges the selected service's incident, or the incident that
// has paged longest.
func (p *Pane) ack() tea.Cmd {
	if p.env.ReadOnly {
		return func() tea.Msg { return msg.Status{Text: "read-only console: acknowledging is off", Err: true} }
	}
	var target *incidents.Incident
	if svcs := p.services(); p.cur < len(svcs) && svcs[p.cur].Incident != nil && svcs[p.cur].Incident.Status == incidents.StatusTriggered {
		target = svcs[p.cur].Incident
	}
	for i := range p.env.State.Incidents {
		if inc := &p.env.State.Incidents[i]; target == nil && inc.Status == incidents.StatusTriggered {
			target = inc
		}
	}
	if target == nil {
		return func() tea.Msg { return msg.Status{Text: "no incident is paging"} }
	}
	id := target.ID
	return func() tea.Msg { return msg.Ack{Incident: id} }
}

// query asks for the signal of every rule over the last hour (the most
// severe rules first, at most maxSignals): each series a signal returns
// draws the sparkline of the service it names.
func (p *Pane) query() tea.Cmd {
	now := p.env.Now()
	p.asked, p.failed = now, 0
	p.round++
	clear(p.queries)
	byExpr := map[string]*signal{}
	var sigs []*signal
	for _, r := range p.env.State.Rules {
		expr := alerts.SplitCondition(r.Expr).Signal
		rank := state.SeverityRank(r.Labels["severity"])
		if s, ok := byExpr[expr]; ok {
			s.rank = max(s.rank, rank)
			continue
		}
		s := &signal{expr: expr, rank: rank, order: len(sigs), service: r.Labels["service"]}
		byExpr[expr] = s
		sigs = append(sigs, s)
	}
	slices.SortStableFunc(sigs, func(a, b *signal) int { return b.rank - a.rank })
	var cmds []tea.Cmd
	if slices.ContainsFunc(p.env.State.Catalog, func(s catalog.Service) bool { return len(s.SLOs) > 0 }) {
		p.budgetQ = fmt.Sprintf("overview:%d:budget", p.round)
		bid := p.budgetQ
		cmds = append(cmds, func() tea.Msg { return msg.InstantQuery{ID: bid, Expr: budgetExpr, At: now} })
	}
	for i, s := range sigs {
		if i == maxSignals {
			break
		}
		id, expr := fmt.Sprintf("overview:%d:%d", p.round, i), s.expr
		p.queries[id] = *s
		cmds = append(cmds, func() tea.Msg {
			return msg.RangeQuery{ID: id, Expr: expr, Start: now.Add(-time.Hour), End: now, Step: time.Minute}
		})
	}
	return tea.Batch(cmds...)
}

// services are the state's services and those only the signals name,
// as the filter keeps them.
func (p *Pane) services() []state.Service {
	all := p.allServices()
	terms := strings.Fields(strings.ToLower(p.box.Value()))
	if len(terms) == 0 {
		return all
	}
	var out []state.Service
	for _, sv := range all {
		if matches(&sv, terms) {
			out = append(out, sv)
		}
	}
	return out
}

// stateWord is a service's state as the filter (state=) and the list name it.
func stateWord(sv *state.Service) string {
	switch {
	case sv.Incident != nil:
		return "incident"
	case sv.Firing > 0:
		return "firing"
	case sv.Muted > 0:
		return "muted"
	case sv.Pending > 0:
		return "pending"
	}
	return "ok"
}

// matches reports whether every term matches the service: team=, tier=
// and state= exactly, a bare word anywhere in its name or team.
func matches(sv *state.Service, terms []string) bool {
	for _, t := range terms {
		k, v, kv := strings.Cut(t, "=")
		var ok bool
		switch {
		case kv && k == "team":
			ok = strings.EqualFold(sv.Team, v)
		case kv && k == "tier":
			ok = fmt.Sprint(sv.Tier) == v
		case kv && k == "state":
			ok = stateWord(sv) == v || (v == "firing" && sv.Incident != nil && sv.Firing > 0)
		default:
			ok = strings.Contains(strings.ToLower(sv.Name), t) || strings.Contains(strings.ToLower(sv.Team), t)
		}
		if !ok {
			return false
		}
	}
	return true
}

// allServices are the state's services and those only the signals name.
func (p *Pane) allServices() []state.Service {
	svcs := p.env.State.Services()
	known := map[string]bool{}
	for _, s := range svcs {
		known[s.Name] = true
	}
	var extra []string
	for name := range p.sparks {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) == 0 {
		return svcs
	}
	slices.Sort(extra)
	out := slices.Clone(svcs)
	for _, name := range extra {
		out = append(out, state.Service{Name: name})
	}
	return out
}

// View draws the overview in w×h cells.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	st := p.env.State
	svcs := p.services()
	f, mu, pe := st.Counts()
	title := fmt.Sprintf("Overview · %s · %d firing · %d muted · %d pending · %d open incidents", plural(len(svcs), "service"), f, mu, pe, len(st.Incidents))
	if p.failed > 0 {
		title += fmt.Sprintf(" · %d signal queries failed", p.failed)
	}
	if v := p.box.Value(); v != "" {
		title = fmt.Sprintf("Overview · %d of %s matching · %d firing · %d muted · %d pending · %d open incidents", len(svcs), plural(len(p.allServices()), "service"), f, mu, pe, len(st.Incidents))
	}
	out := layout.Box(*th, title, nil, w, 1, true)
	if p.box.Shown() {
		out = append(out, p.box.View(w))
	}
	if !st.Known() {
		out = append(out, th.Error.Render("Unknown: the server has not answered. Nothing here means calm until it does."))
		return layout.Lines(out, w, h)
	}
	// Services.
	sparkW := min(40, max(10, w/6))
	wide := w >= 120
	budgetHead := ""
	if len(p.budgets) > 0 {
		budgetHead = fmt.Sprintf("%-*s ", budgetW, "BUDGET")
	}
	if wide {
		out = append(out, th.Dim.Render(fmt.Sprintf("  %-18s %-9s %6s %5s %7s  %s%-*s %s", "SERVICE", "STATE", "FIRING", "MUTED", "PENDING", budgetHead, sparkW+8, "LAST HOUR", "INCIDENT")))
	} else {
		out = append(out, th.Dim.Render(fmt.Sprintf("  %-16s %-9s %-8s  %s%-*s %s", "SERVICE", "STATE", "F/M/P", budgetHead, sparkW+8, "LAST HOUR", "INCIDENT")))
	}
	room := max(3, h-len(out)-len(st.OnCall)-5)
	switch {
	case len(svcs) == 0 && p.box.Value() != "":
		out = append(out, "  "+th.Dim.Render("No service matches the filter (esc esc clears it)."))
	case len(svcs) == 0:
		out = append(out, "  "+th.Dim.Render("No service yet: the catalogue, rules, alerts and incidents name services with a service label."))
	}
	p.cur = min(p.cur, max(0, len(svcs)-1))
	from, to := layout.Window(len(svcs), p.cur, room, 0)
	now := p.env.Now()
	for i := from; i < to; i++ {
		line := p.serviceLine(&svcs[i], sparkW, wide, now)
		if i == p.cur {
			line = th.Selected.Render(layout.Fit(line, w))
		}
		out = append(out, line)
	}
	if to < len(svcs) {
		out = append(out, th.Dim.Render(fmt.Sprintf("  … %d more", len(svcs)-to)))
	}
	// Who is on call, and oncall's own health.
	out = append(out, "")
	out = append(out, layout.Box(*th, "On call now", nil, w, 1, false)...)
	if len(st.OnCall) == 0 {
		out = append(out, "  "+th.Dim.Render("No escalation policy configured."))
	}
	for _, a := range st.OnCall {
		who := termtext.Clean(strings.Join(a.Users, ", "))
		if who == "" {
			who = th.Error.Render("nobody")
		}
		line := fmt.Sprintf("  %d %-20s %s", a.Step+1, termtext.Clean(a.StepName), th.Bold.Render(who))
		if !a.Until.IsZero() {
			line += th.Dim.Render(" until " + a.Until.Local().Format("Mon 15:04"))
			if len(a.Next) > 0 {
				line += th.Dim.Render(", then " + termtext.Clean(strings.Join(a.Next, ", ")))
			}
		}
		out = append(out, line)
	}
	out = append(out, "", p.readiness())
	// The latest pages, as room allows.
	if room := h - len(out) - 2; room > 0 && len(st.Pages) > 0 {
		out = append(out, "")
		out = append(out, layout.Box(*th, "Latest pages", nil, w, 1, false)...)
		for _, pg := range st.Pages[:min(room, len(st.Pages))] {
			state := th.OK.Render("delivered")
			if pg.SentAt.IsZero() {
				state = th.Warn.Render(fmt.Sprintf("queued (%d tries)", pg.Attempts))
			}
			out = append(out, fmt.Sprintf("  %s INC-%d %-8s → %s %s %s", th.Dim.Render(pg.CreatedAt.Local().Format("15:04:05")), pg.IncidentID,
				termtext.Clean(pg.Kind), th.Bold.Render(termtext.Clean(pg.Target)), th.Dim.Render(termtext.Clean(pg.StepName)), state))
		}
	}
	return layout.Lines(out, w, h)
}

func (p *Pane) serviceLine(sv *state.Service, sparkW int, wide bool, now time.Time) string {
	th := p.env.Theme
	stateCell := th.OK.Render(fmt.Sprintf("%-9s", "ok"))
	switch {
	case sv.Incident != nil:
		stateCell = th.Firing.Render(fmt.Sprintf("%-9s", "INCIDENT"))
	case sv.Firing > 0:
		stateCell = th.Firing.Render(fmt.Sprintf("%-9s", "FIRING"))
	case sv.Muted > 0:
		stateCell = th.Muted.Render(fmt.Sprintf("%-9s", "muted"))
	case sv.Pending > 0:
		stateCell = th.Pending.Render(fmt.Sprintf("%-9s", "pending"))
	}
	sparkCell := layout.Fit(th.Dim.Render("no signal"), sparkW+8)
	switch sp := p.sparks[sv.Name]; {
	case sp != nil:
		style := th.OK
		if sv.Firing > 0 || sv.Incident != nil {
			style = th.Firing
		}
		sparkCell = chart.Sparkline(p.env.Theme, sp.values, sparkW, style) + " " + layout.Fit(chart.Value(sp.last), 7)
	case len(p.queries) > 0:
		sparkCell = layout.Fit(th.Dim.Render("…"), sparkW+8)
	}
	inc := th.Dim.Render("—")
	if i := sv.Incident; i != nil {
		inc = i.Ref() + " " + incidentState(p, i, now)
	}
	sparkCell = p.budgetCell(sv.Name) + sparkCell
	if !wide {
		counts := fmt.Sprintf("%d/%d/%d", sv.Firing, sv.Muted, sv.Pending)
		return fmt.Sprintf("  %s %s %-8s  %s %s", layout.Fit(termtext.Clean(sv.Name), 16), stateCell, counts, sparkCell, inc)
	}
	return fmt.Sprintf("  %s %s %6d %5d %7d  %s %s", layout.Fit(termtext.Clean(sv.Name), 18), stateCell, sv.Firing, sv.Muted, sv.Pending, sparkCell, inc)
}

// budgetW is the width of the BUDGET column.
const budgetW = 11

// budgetCell is the error budget left of the service's worst SLO, when
// any service has SLOs: green above half, amber below, red once spent.
func (p *Pane) budgetCell(service string) string {
	if len(p.budgets) == 0 {
		return ""
	}
	th := p.env.Theme
	b, ok := p.budgets[service]
	switch {
	case !ok:
		return layout.Fit(th.Dim.Render("—"), budgetW) + " "
	case b.left <= 0:
		return layout.Fit(th.Firing.Render("spent"), budgetW) + " "
	case b.left < 0.5:
		return layout.Fit(th.Warn.Render(fmt.Sprintf("%.0f%% left", b.left*100)), budgetW) + " "
	}
	return layout.Fit(th.OK.Render(fmt.Sprintf("%.0f%% left", b.left*100)), budgetW) + " "
}

func incidentState(p *Pane, i *incidents.Incident, now time.Time) string {
	th := p.env.Theme
	switch i.Status {
	case incidents.StatusAcknowledged:
		return th.Acked.Render("acked by " + termtext.Clean(i.AckedBy))
	case incidents.StatusTriggered:
		s := th.Triggered.Render("TRIGGERED") + th.Dim.Render(" paged "+termtext.Clean(strings.Join(i.Escalation.Paged, ", ")))
		if n := i.Escalation.NextAt; !n.IsZero() && n.After(now) {
			s += th.Warn.Render(" · escalates in " + layout.Short(n.Sub(now)))
		}
		return s
	}
	return i.Status.String()
}

// readiness says whether oncall itself works, in one line.
func (p *Pane) readiness() string {
	th := p.env.Theme
	r := p.env.State.Ready
	switch {
	case r == nil:
		return th.Dim.Render("oncall: readiness unknown")
	case r.Ready:
		return th.OK.Render("oncall: ready") + th.Dim.Render(" ("+r.Role+")")
	}
	return th.Error.Render("oncall is BLIND: " + termtext.Clean(strings.Join(r.Failing(), "; ")))
}

// plural prints "1 service", "2 services".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

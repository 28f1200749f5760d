// Package postmortempane is the console's review pane: the agenda of the
// weekly postmortem review for an ISO week, as `oncall postmortem review`
// prints it — the week's incidents with severity, duration and
// postmortem status; postmortems due or stuck in review; overdue action
// items by owner; the on-call load; signal quality; the medians of the
// time to acknowledge and to resolve against the previous weeks; and the
// postmortem files that could not be read. The pane asks the root for a
// week's review with a Query and draws the Result it gets back.
package postmortempane

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/postmortem/textchart"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// Query asks the root for the review of Week; the root answers with a
// Result for the same week.
type Query struct{ Week review.Week }

// Result answers a Query.
type Result struct {
	Week   review.Week
	Review review.Review
	Err    error
}

var keys = struct {
	Up, Down, PageUp, PageDown, Top, Prev, Next, This, Reload key.Binding
}{
	Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "scroll up")),
	Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "scroll down")),
	PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
	PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", "space"), key.WithHelp("pgdn", "page down")),
	Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
	Prev:     key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous week")),
	Next:     key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next week")),
	This:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "this week")),
	Reload:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload")),
}

// Pane is the review pane.
type Pane struct {
	env *state.Env
	// week is the week shown (or asked for); zero until the pane is first
	// looked at.
	week    review.Week
	loading bool
	loaded  bool
	rev     review.Review
	err     error
	top     int
	// lastH is the body height last drawn, for paging.
	lastH int
}

// New returns the review pane; it asks for this week's review the first
// time it is shown.
func New(env *state.Env) *Pane { return &Pane{env: env, lastH: 20} }

// Name is the pane's name.
func (p *Pane) Name() string { return "review" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	return []key.Binding{keys.Prev, keys.Next, keys.This, keys.Reload, keys.Up, keys.Down, keys.PageUp, keys.PageDown, keys.Top}
}

// Capturing is always false: the pane has no input.
func (p *Pane) Capturing() bool { return false }

// Crumbs names the week shown.
func (p *Pane) Crumbs() []string {
	if p.week.Year == 0 {
		return nil
	}
	return []string{p.week.String()}
}

// Back has no detail to leave.
func (p *Pane) Back() bool { return false }

// ask requests the review of w.
func (p *Pane) ask(w review.Week) tea.Cmd {
	if w != p.week {
		p.top = 0
	}
	p.week, p.loading, p.err = w, true, nil
	return func() tea.Msg { return Query{Week: w} }
}

// thisWeek is the ISO week of the console's clock.
func (p *Pane) thisWeek() review.Week { return review.WeekOf(p.env.Now()) }

// Update asks for a review when the pane is first shown (its first tick
// while focused, or `:review [WEEK]` from the palette), takes the answer,
// and handles the keys.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Open:
		arg := strings.TrimSpace(m.Arg)
		if arg == "" {
			if p.week.Year == 0 || !p.loaded {
				return p.ask(p.thisWeek())
			}
			return nil
		}
		w, err := review.ParseWeek(arg)
		if err != nil {
			return func() tea.Msg { return msg.Status{Text: "review: " + err.Error(), Err: true} }
		}
		return p.ask(w)
	case msg.Tick:
		if p.week.Year == 0 && !p.loading {
			return p.ask(p.thisWeek())
		}
	case Result:
		if m.Week != p.week {
			return nil // an answer for a week no longer shown
		}
		p.loading = false
		if m.Err != nil {
			p.err = m.Err
			return nil
		}
		p.rev, p.loaded = m.Review, true
	case tea.KeyPressMsg:
		return p.key(m)
	}
	return nil
}

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Prev):
		return p.ask(p.current().Prev())
	case key.Matches(k, keys.Next):
		return p.ask(review.WeekOf(p.current().End()))
	case key.Matches(k, keys.This):
		return p.ask(p.thisWeek())
	case key.Matches(k, keys.Reload):
		return p.ask(p.current())
	case key.Matches(k, keys.Up):
		p.top--
	case key.Matches(k, keys.Down):
		p.top++
	case key.Matches(k, keys.PageUp):
		p.top -= max(1, p.lastH-1)
	case key.Matches(k, keys.PageDown):
		p.top += max(1, p.lastH-1)
	case key.Matches(k, keys.Top):
		p.top = 0
	}
	p.top = max(0, p.top)
	return nil
}

// current is the week shown, or this week before any.
func (p *Pane) current() review.Week {
	if p.week.Year == 0 {
		return p.thisWeek()
	}
	return p.week
}

// Title names the week and its days.
func (p *Pane) Title() string {
	if p.week.Year == 0 {
		return "Postmortem review"
	}
	t := fmt.Sprintf("Postmortem review · %s · %s – %s (UTC)", p.week, p.week.Start().Format("Mon 2 Jan"), p.week.End().Add(-time.Second).Format("Mon 2 Jan 2006"))
	if p.loading {
		t += " · loading…"
	}
	return t
}

// View draws the pane in w×h cells: the title, then the agenda, scrolled.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	out := layout.Box(*th, p.Title(), nil, w, 1, true)
	var body []string
	switch {
	case p.err != nil:
		body = []string{th.Error.Render("Could not build the review: " + termtext.Clean(firstLine(p.err))),
			th.Dim.Render("r tries again; [ and ] change the week.")}
	case !p.loaded && p.loading:
		body = []string{th.Dim.Render("Reading the week's incidents, pages, alerts and postmortems…")}
	case !p.loaded:
		body = []string{th.Dim.Render("The review of this week appears here: t loads it.")}
	default:
		body = p.agenda()
		if p.loading {
			body = append([]string{th.Dim.Render("(showing " + p.rev.Week + " until the new week arrives)")}, body...)
		}
	}
	bodyH := max(1, h-1)
	p.lastH = bodyH
	p.top = min(p.top, max(0, len(body)-bodyH))
	body = body[min(p.top, len(body)):]
	if len(body) > bodyH && bodyH > 1 {
		body = append(body[:bodyH-1], th.Dim.Render(fmt.Sprintf("… %d more lines: j/pgdn scrolls", len(body)-bodyH+1)))
	}
	return layout.Lines(append(out, body...), w, h)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// agenda is the review as lines, section by section.
func (p *Pane) agenda() []string {
	th := p.env.Theme
	r := p.rev
	c := termtext.Clean
	dur := func(d review.Dur) string { return postmortem.Duration(time.Duration(d)) }
	var out []string
	add := func(s ...string) { out = append(out, s...) }
	section := func(title string) {
		if len(out) > 0 {
			add("")
		}
		add(th.Bold.Render(title))
	}

	section(fmt.Sprintf("Incidents (%d)", len(r.Incidents)))
	if len(r.Incidents) == 0 {
		add(th.Dim.Render("  No incidents this week."))
	}
	for _, i := range r.Incidents {
		d := dur(i.Duration)
		if i.Open {
			d += " open"
		}
		pm := i.Postmortem
		switch pm {
		case "":
			pm = th.Dim.Render("—")
		case "missing":
			pm = th.Warn.Render("no postmortem")
		default:
			pm = th.OK.Render(pm)
		}
		title := c(i.Title)
		if i.Drill {
			title += th.Dim.Render(" (drill)")
		}
		if i.DeclaredBy != "" {
			title += th.Dim.Render(" (declared by " + c(i.DeclaredBy) + ")")
		}
		add(fmt.Sprintf("  %-7s %-4s %-12s %s  %-10s %s  %s", i.Ref, or(i.Severity, "—"), layout.Fit(c(or(i.Service, "—")), 12),
			i.Opened.UTC().Format("Mon 15:04Z"), d, layout.Fit(pm, 13), title))
	}

	section(fmt.Sprintf("Postmortems due or stuck in review (%d)", len(r.Due)+len(r.Stuck)))
	if len(r.Due)+len(r.Stuck) == 0 {
		add(th.Dim.Render("  None."))
	}
	for _, d := range r.Due {
		switch {
		case d.NotStarted:
			add(fmt.Sprintf("  %-7s %s  %s", d.ID, th.Warn.Render("no postmortem yet"), c(d.Title)) + th.Dim.Render("  oncall postmortem new "+d.ID))
		case d.Overdue:
			add(fmt.Sprintf("  %-7s %s  %s%s", d.ID, th.Error.Render("draft overdue since "+d.Due), c(d.Title), ownerOf(d.Owner)))
		default:
			add(fmt.Sprintf("  %-7s draft due %s  %s%s", d.ID, d.Due, c(d.Title), ownerOf(d.Owner)))
		}
	}
	for _, s := range r.Stuck {
		add(fmt.Sprintf("  %-7s %s  %s%s", s.ID, th.Warn.Render("in review for "+dur(s.For)), c(s.Title), ownerOf(s.Owner)))
	}

	n := 0
	for _, o := range r.OverdueActions {
		n += len(o.Items)
	}
	section(fmt.Sprintf("Overdue action items (%d)", n))
	if n == 0 {
		add(th.Dim.Render("  None."))
	}
	for _, o := range r.OverdueActions {
		add("  " + th.Bold.Render(c(o.Owner)))
		for _, a := range o.Items {
			line := fmt.Sprintf("    %s (%s): due %s, %s", c(a.Title), c(a.Postmortem), a.Due, th.Error.Render(fmt.Sprintf("%d days late", a.DaysLate)))
			if a.Ticket != "" {
				line += " " + th.Dim.Render(c(a.Ticket))
			}
			add(line)
		}
	}

	l := r.Load
	head := fmt.Sprintf("On-call load: %s; %d of %d shifts paged", plural(l.Pages, "page"), len(l.Shifts), len(l.Shifts)+l.Quiet)
	if l.DrillPages > 0 {
		head += fmt.Sprintf(" (%s apart)", plural(l.DrillPages, "drill page"))
	}
	section(head)
	if l.Flagged > 0 {
		add("  " + th.Error.Render(fmt.Sprintf("⚠ %s over 2 pages in 12 hours", plural(l.Flagged, "shift"))))
	}
	if l.OutsideShifts > 0 {
		add("  " + th.Dim.Render(plural(l.OutsideShifts, "page")+" to people no schedule had on call"))
	}
	for _, s := range l.Shifts {
		busy := fmt.Sprintf("busiest 12 h: %d", s.Busiest12h)
		if s.Flagged {
			busy = th.Error.Render(busy + " ⚠")
		}
		add(fmt.Sprintf("  %s %s  %s → %s  %s  %s", c(s.Label()), th.Bold.Render(c(strings.Join(s.Users, ", "))),
			s.Start.UTC().Format("Mon 02 15:04Z"), s.End.UTC().Format("Mon 02 15:04Z"), plural(s.Pages, "page"), busy))
	}
	for _, pl := range l.People {
		sleep := fmt.Sprintf("%d asleep", pl.SleepHours)
		if pl.SleepHours > 0 {
			sleep = th.Warn.Render(sleep)
		}
		add(fmt.Sprintf("  %s (%s): %s — %d in working hours, %d off hours, %s", th.Bold.Render(c(pl.User)), c(pl.TimeZone), plural(pl.Pages, "page"),
			pl.WorkingHours, pl.OffHours, sleep))
	}

	sg := r.Signal
	section("Signal quality")
	if len(sg.Noisiest) == 0 {
		add(th.Dim.Render("  No alert fired."))
	} else {
		add("  Noisiest alerts:")
	}
	for _, a := range sg.Noisiest {
		line := fmt.Sprintf("    %s  %s on %s", th.Bold.Render(c(a.Alert)), plural(a.Firings, "firing"), plural(a.Series, "series"))
		if a.Ended > 0 {
			line += fmt.Sprintf(", median %s firing (n=%d)", dur(a.MedianFiring), a.Ended)
		}
		if a.Short > 0 {
			line += th.Warn.Render(fmt.Sprintf(", %d under 5 min", a.Short))
		}
		add(line)
	}
	notes := func(title string, ns []review.IncidentNote) {
		if len(ns) == 0 {
			add("  " + title + ": " + th.Dim.Render("none"))
			return
		}
		add("  " + title + ":")
		for _, n := range ns {
			add(fmt.Sprintf("    %-7s %s: %s", n.Ref, c(n.Title), th.Dim.Render(c(n.Why))))
		}
	}
	notes("Pages that needed no action", sg.NoAction)
	if len(sg.Repeats) == 0 {
		add("  Repeat incidents: " + th.Dim.Render("none"))
	} else {
		add("  Repeat incidents:")
	}
	for _, rp := range sg.Repeats {
		add(fmt.Sprintf("    %s %s: %s", rp.Kind, th.Bold.Render(c(rp.Name)), strings.Join(rp.Incidents, ", ")))
	}
	notes("Declared by hand, no alert caught", sg.Uncaught)

	t := r.Times
	section("Time to acknowledge and to resolve (medians, n = incidents counted; drills apart)")
	var counts, ttas []float64
	for _, wt := range append(append([]review.WeekTimes{}, t.Previous...), t.This) {
		line := fmt.Sprintf("  %s  %s  acknowledge %-18s resolve %s", wt.Week, fmt.Sprintf("%-12s", plural(wt.Incidents, "incident")), wt.TTA, wt.TTR)
		if wt.Week == t.This.Week {
			line = th.Bold.Render(line)
		}
		add(line)
		counts = append(counts, float64(wt.Incidents))
		v := float64(wt.TTA.Median)
		if wt.TTA.N == 0 {
			v = math.NaN()
		}
		ttas = append(ttas, v)
	}
	add(fmt.Sprintf("  previous %d weeks        acknowledge %-18s resolve %s", len(t.Previous), t.PrevTTA, t.PrevTTR))
	add(fmt.Sprintf("  incidents per week %s  median time to acknowledge %s (oldest first)", textchart.Sparkline(counts, len(counts)), textchart.Sparkline(ttas, len(ttas))))
	add(fmt.Sprintf("  against the previous %d weeks: acknowledge %s, resolve %s", len(t.Previous),
		review.Trend(t.This.TTA, t.PrevTTA), review.Trend(t.This.TTR, t.PrevTTR)))

	if len(r.Skipped)+len(r.Notes) > 0 {
		section("Not counted")
		for _, s := range r.Skipped {
			add("  " + th.Warn.Render("skipped ") + c(s))
		}
		for _, n := range r.Notes {
			add("  " + c(n))
		}
	}
	return out
}

func ownerOf(o string) string {
	if o == "" {
		return " · no owner"
	}
	return " · " + termtext.Clean(o)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "series") {
		return fmt.Sprintf("%d %s", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

package alertspane

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/chart"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// chartSpan is how far back the detail's chart looks.
const chartSpan = time.Hour

var dkeys = struct {
	Scroll, Refresh, Silence, Back key.Binding
}{
	Scroll:  key.NewBinding(key.WithKeys("j", "k", "up", "down", "pgup", "pgdown"), key.WithHelp("j/k pgup/pgdn", "scroll")),
	Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "query the chart and series again")),
	Silence: keys.Silence,
	Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the list")),
}

func detailKeys() []key.Binding {
	return []key.Binding{dkeys.Scroll, dkeys.Refresh, dkeys.Silence, dkeys.Back}
}

// detail is one alert in full: what it says, where it comes from, the
// expression's recent past and the series behind it now.
type detail struct {
	env  *state.Env
	fp   uint64
	vp   viewport.Model
	expr string // the alert's expression ("" when unknown)
	from string // where the expression comes from
	cond alerts.Condition

	series  []metrics.Series // the signal over time
	thresh  []metrics.Series // the threshold over time, when it is an expression
	start   time.Time
	end     time.Time
	rangeE  error
	instant *metrics.Result
	instE   error
	// hist are this alert's recorded state changes (nil: not asked yet).
	hist    []alerts.Transition
	histE   error
	histSet bool
	loading int // queries out
	// w is the width the content was drawn for; dirty says it must be
	// drawn again (the alert or an answer changed).
	w     int
	dirty bool
}

func newDetail(env *state.Env, fp uint64) *detail {
	d := &detail{env: env, fp: fp, vp: viewport.New(), dirty: true}
	d.vp.SoftWrap = false
	d.refresh()
	return d
}

// id names this detail's queries, so answers to an older one are dropped.
func (d *detail) id() string { return fmt.Sprintf("alerts:%016x", d.fp) }

// refresh finds the alert's expression: its rule's, or the one in its
// generator URL (Prometheus puts it there).
func (d *detail) refresh() {
	d.dirty = true
	a, ok := d.env.State.Alert(d.fp)
	if !ok {
		return
	}
	if r, ok := d.env.State.RuleOf(a); ok {
		d.expr, d.from = r.Expr, fmt.Sprintf("rule %s in %s:%d (group %s)", r.Name, r.File, r.Line, r.Group)
	} else if e := exprFromGeneratorURL(a.GeneratorURL); e != "" {
		d.expr, d.from = e, "the generator URL of the alert ("+hostOf(a.GeneratorURL)+")"
	}
	if d.expr != "" {
		d.cond = alerts.SplitCondition(d.expr)
	}
}

// thresholdIsNumber reports whether the threshold is a constant, drawn as
// a flat line rather than queried.
func (d *detail) thresholdIsNumber() (float64, bool) {
	v, err := strconv.ParseFloat(d.cond.Threshold, 64)
	return v, err == nil
}

// historySpan is how far back the detail lists the alert's state changes.
const historySpan = 7 * 24 * time.Hour

// load asks for the chart and the series behind the alert, and its
// history.
func (d *detail) load() tea.Cmd {
	var hist tea.Cmd
	if a, ok := d.env.State.Alert(d.fp); ok {
		id, name, since := d.id(), a.Name(), d.env.Now().Add(-historySpan)
		hist = func() tea.Msg { return msg.HistoryQuery{ID: id, Alert: name, Since: since} }
	}
	if d.expr == "" {
		return hist
	}
	now := d.env.Now()
	d.loading, d.dirty = 2, true
	d.rangeE, d.instE, d.thresh = nil, nil, nil
	id, expr, signal := d.id(), d.expr, d.cond.Signal
	step := max(15*time.Second, chartSpan/240)
	cmds := []tea.Cmd{
		func() tea.Msg {
			return msg.RangeQuery{ID: id, Expr: signal, Start: now.Add(-chartSpan), End: now, Step: step}
		},
		func() tea.Msg { return msg.InstantQuery{ID: id, Expr: expr, At: now} },
	}
	if _, num := d.thresholdIsNumber(); d.cond.Threshold != "" && !num {
		threshold := d.cond.Threshold
		d.loading++
		cmds = append(cmds, func() tea.Msg {
			return msg.RangeQuery{ID: id, Expr: threshold, Start: now.Add(-chartSpan), End: now, Step: step}
		})
	}
	return tea.Batch(append(cmds, hist)...)
}

// answer takes a query's result.
func (d *detail) answer(m tea.Msg) {
	d.dirty = true
	switch m := m.(type) {
	case msg.RangeResult:
		if m.ID != d.id() {
			return
		}
		switch m.Expr {
		case d.cond.Signal:
			d.series, d.rangeE, d.start, d.end = m.Series, m.Err, m.Start, m.End
		case d.cond.Threshold:
			d.thresh = m.Series
			if m.Err != nil {
				d.rangeE = m.Err
			}
		default:
			return
		}
		d.loading--
	case msg.InstantResult:
		if m.ID != d.id() || m.Expr != d.expr {
			return
		}
		r := m.Result
		d.instant, d.instE = &r, m.Err
		d.loading--
	case msg.HistoryResult:
		if m.ID != d.id() {
			return
		}
		d.hist, d.histE, d.histSet = nil, m.Err, true
		for _, t := range m.Transitions {
			if t.Fingerprint == d.fp {
				d.hist = append(d.hist, t)
			}
		}
	}
}

// historyRows lists the alert's last state changes and how often it
// fired in the span: an alert that fires every day is a flapping one.
func (d *detail) historyRows(now time.Time) []string {
	th := d.env.Theme
	switch {
	case d.histE != nil:
		return []string{"  " + th.Error.Render("history: "+termtext.Clean(oneLine(d.histE.Error())))}
	case !d.histSet:
		return []string{"  " + th.Dim.Render("asking for its history…")}
	case len(d.hist) == 0:
		return []string{"  " + th.Dim.Render("no state changes recorded in the last 7 days")}
	}
	fired := 0
	for _, t := range d.hist {
		if t.State == alerts.StateFiring {
			fired++
		}
	}
	out := []string{"  " + th.Dim.Render(fmt.Sprintf("fired %d times in the last 7 days", fired))}
	shown := d.hist[max(0, len(d.hist)-8):]
	for i := len(shown) - 1; i >= 0; i-- {
		t := shown[i]
		st := map[alerts.State]string{alerts.StateFiring: th.Firing.Render("firing  "), alerts.StatePending: th.Pending.Render("pending "), alerts.StateResolved: th.Resolved.Render("resolved")}[t.State]
		out = append(out, "  "+t.At.Local().Format("Mon 02 Jan 15:04:05")+"  "+st+th.Dim.Render(" ("+layout.Short(now.Sub(t.At))+" ago)"))
	}
	return out
}

func (d *detail) key(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, dkeys.Refresh) {
		return d.load()
	}
	d.vp, _ = d.vp.Update(k)
	return nil
}

// title is the breadcrumb: the alert's name and identifying labels.
func (d *detail) title() string {
	a, ok := d.env.State.Alert(d.fp)
	if !ok {
		return "(resolved and gone)"
	}
	return termtext.Clean(a.Name())
}

func (d *detail) view(w, h int, prompt string) string {
	th := d.env.Theme
	head := layout.Box(*th, "Alert · "+d.title(), nil, w, 1, true)
	if prompt != "" {
		head = append(head, prompt)
	}
	d.vp.SetWidth(w)
	d.vp.SetHeight(h - len(head))
	if d.dirty || d.w != w {
		off := d.vp.YOffset()
		d.vp.SetContentLines(d.content(w))
		d.vp.SetYOffset(off)
		d.w, d.dirty = w, false
	}
	return layout.Lines(append(head, strings.Split(d.vp.View(), "\n")...), w, h)
}

// content is the detail's text, drawn for width w.
func (d *detail) content(w int) []string {
	th := d.env.Theme
	a, ok := d.env.State.Alert(d.fp)
	if !ok {
		return []string{th.Dim.Render("This alert is no longer known to the server (resolved and forgotten)."), "", th.Dim.Render("esc back to the list")}
	}
	now := d.env.Now()
	var out []string
	section := func(name string) { out = append(out, "", th.Bold.Render(name)) }
	row := func(k, v string) { out = append(out, "  "+th.Dim.Render(fmt.Sprintf("%-16s", k))+v) }
	wrapRow := func(k, v string) {
		lines := wrap(termtext.CleanLines(v), max(20, w-20))
		row(k, lines[0])
		for _, l := range lines[1:] {
			out = append(out, strings.Repeat(" ", 18)+l)
		}
	}

	st := stateName(a)
	state := map[string]string{"firing": th.Firing.Render("FIRING"), "pending": th.Pending.Render("pending"), "resolved": th.Resolved.Render("resolved")}[st]
	if state == "" {
		state = th.Muted.Render(st)
	}
	out = append(out, fmt.Sprintf("%s for %s · severity %s · service %s", state, layout.Short(now.Sub(a.StartsAt)),
		th.Bold.Render(termtext.Clean(a.Severity())), th.Bold.Render(termtext.Clean(a.Labels.Get("service")))))
	if s := a.Summary(); s != "" {
		out = append(out, "")
		for _, l := range wrap(termtext.CleanLines(s), w-2) {
			out = append(out, th.Bold.Render(l))
		}
	}

	if d.expr != "" {
		section("Over the last hour")
		if d.cond.Op != "" {
			// Each part wrapped under its own label: a long expression
			// is read whole, not cut at the edge.
			part := func(label, text string) {
				for i, l := range wrap(termtext.Clean(text), w-2-12) {
					if i == 0 {
						out = append(out, "  "+th.Dim.Render(label)+l)
					} else {
						out = append(out, "  "+strings.Repeat(" ", 12)+l)
					}
				}
			}
			part("the signal  ", d.cond.Signal)
			part("fires when  ", d.cond.Op+" "+d.cond.Threshold)
			if d.cond.Gate != "" {
				part("only while  ", d.cond.Gate)
			}
		}
		switch {
		case d.rangeE != nil:
			out = append(out, "  "+th.Error.Render("query failed: "+termtext.Clean(oneLine(d.rangeE.Error()))))
		case d.series == nil && d.loading > 0:
			out = append(out, "  "+th.Dim.Render("querying…"))
		default:
			out = append(out, strings.Split(chart.Draw(d.env.Theme, d.charted(), d.start, d.end, w-2, 14), "\n")...)
		}
		section("The series behind it now")
		switch {
		case d.instE != nil:
			out = append(out, "  "+th.Error.Render("query failed: "+termtext.Clean(oneLine(d.instE.Error()))))
		case d.instant == nil:
			out = append(out, "  "+th.Dim.Render("querying…"))
		case len(d.instant.Vector) == 0:
			out = append(out, "  "+th.Dim.Render("none: the expression returns nothing now (the condition no longer holds)"))
		default:
			vs := slices.Clone(d.instant.Vector)
			for i, s := range vs {
				if i == 10 {
					out = append(out, "  "+th.Dim.Render(fmt.Sprintf("… %d more", len(vs)-10)))
					break
				}
				out = append(out, "  "+layout.Fit(termtext.Clean(s.Labels.String()), max(10, w-14))+" "+th.Bold.Render(chart.Value(s.Value)))
			}
		}
	}

	section("Annotations")
	var names []string
	a.Annotations.Range(func(l labels.Label) { names = append(names, l.Name) })
	if len(names) == 0 {
		out = append(out, "  "+th.Dim.Render("none"))
	}
	for _, n := range orderAnnotations(names) {
		wrapRow(termtext.Clean(n), a.Annotations.Get(n))
	}

	section("Labels")
	a.Labels.Range(func(l labels.Label) { row(termtext.Clean(l.Name), termtext.Clean(l.Value)) })

	section("Where it comes from")
	if d.expr == "" {
		out = append(out, "  "+th.Dim.Render("No rule of this server and no generator URL names its expression: it was sent as is."))
	} else {
		row("from", termtext.Clean(d.from))
		wrapRow("expr", strings.TrimSpace(d.expr))
		if r, ok := d.env.State.RuleOf(a); ok {
			if r.For > 0 {
				row("for", r.For.String())
			}
			if r.KeepFiringFor > 0 {
				row("keep firing for", r.KeepFiringFor.String())
			}
		}
	}

	section("Routing and muting")
	row("receivers", termtext.Clean(orNone(strings.Join(a.Status.Receivers, ", "))))
	row("silenced by", termtext.Clean(orNone(strings.Join(a.Status.SilencedBy, ", "))))
	row("inhibited by", termtext.Clean(orNone(strings.Join(a.Status.InhibitedBy, ", "))))
	if inc := d.incident(a); inc != "" {
		row("incident", inc)
	}

	section("History")
	row("started", a.StartsAt.Local().Format("2006-01-02 15:04:05")+th.Dim.Render(" ("+layout.Short(now.Sub(a.StartsAt))+" ago)"))
	if !a.UpdatedAt.IsZero() {
		row("last update", a.UpdatedAt.Local().Format("15:04:05")+th.Dim.Render(" ("+layout.Short(now.Sub(a.UpdatedAt))+" ago)"))
	}
	if !a.EndsAt.IsZero() {
		verb := "ends"
		if a.EndsAt.Before(now) {
			verb = "ended"
		}
		row(verb, a.EndsAt.Local().Format("15:04:05"))
	}
	if a.GeneratorURL != "" {
		row("source", termtext.Clean(a.GeneratorURL))
	}
	out = append(out, "")
	out = append(out, d.historyRows(now)...)
	out = append(out, "", th.Dim.Render("s silence · r query again · esc back"))
	return out
}

// charted is what the chart draws: the signal's series (at most five),
// then the threshold, a flat line when it is a number.
func (d *detail) charted() []chart.Line {
	ss := d.series
	if len(ss) > chart.MaxSeries-1 {
		ss = ss[:chart.MaxSeries-1]
	}
	lines := chart.FromSeries(ss)
	if len(lines) == 1 && ss[0].Labels.IsEmpty() {
		lines[0].Name = "signal"
	}
	name := "threshold (" + d.cond.Op + " " + d.cond.Threshold + ")"
	if v, ok := d.thresholdIsNumber(); ok && len(d.series) > 0 {
		lines = append(lines, chart.Line{Name: name, Points: []metrics.Point{{T: d.start, V: v}, {T: d.end, V: v}}})
	}
	for _, t := range d.thresh {
		n := name
		if !t.Labels.IsEmpty() {
			n += " " + t.Labels.String()
		}
		lines = append(lines, chart.Line{Name: n, Points: t.Points})
	}
	return lines
}

// incident names the open incident of the alert's service, if any.
func (d *detail) incident(a *alerts.Alert) string {
	for _, inc := range d.env.State.Incidents {
		if inc.Service != "" && inc.Service == a.Labels.Get("service") {
			s := inc.Ref() + " " + inc.Status.String()
			if inc.AckedBy != "" {
				s += " by " + termtext.Clean(inc.AckedBy)
			}
			return s
		}
	}
	return ""
}

// orderAnnotations puts the ones people read first first.
func orderAnnotations(names []string) []string {
	rank := func(n string) int {
		switch n {
		case "summary":
			return 0
		case "description":
			return 1
		case "runbook_url", "runbook":
			return 2
		case "dashboard", "dashboard_url":
			return 3
		}
		return 4
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	return names
}

// exprFromGeneratorURL reads the expression from a Prometheus graph link
// (…/graph?g0.expr=…).
func exprFromGeneratorURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Query().Get("g0.expr")
}

func hostOf(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Host
	}
	return ""
}

// wrap cuts text into lines of at most w cells, at spaces when it can.
func wrap(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, strings.Split(ansi.Wordwrap(para, max(1, w), ""), "\n")...)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

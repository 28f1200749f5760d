// Package checklistpane is the console's readiness pane: the newest run of
// every production-readiness checklist for every service (the level it
// must reach, the level it reached, what blocks it), and for one service
// the results of its newest run check by check with the links of each
// probe, the attestations, waivers and pushed results that count now, and
// its earlier runs.
//
// Runs are not part of the pushed state: the pane asks for them with a
// Query when it is shown (and every 30 seconds while it is) and the root
// answers with a Result.
package checklistpane

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
	"github.com/oncallhq/oncall/tui/theme"
)

// Name is the pane's name in the tabs and the palette.
const Name = "checklist"

// RefreshEvery is how old the pane lets what it shows grow while it is
// shown before it asks again.
const RefreshEvery = 30 * time.Second

// HistoryRuns is how many runs of a service's history the detail asks for.
const HistoryRuns = 20

// The IDs of the pane's queries.
const (
	listID   = "checklist.list"
	detailID = "checklist.detail"
)

// Query asks the root for checklist runs and records: with Service "",
// the newest run of each checklist for each service; otherwise that
// service's runs (at most Limit per checklist) and its current records.
type Query struct {
	ID      string
	Service string
	Limit   int
}

// Result answers a Query.
type Result struct {
	ID      string
	Service string
	// Runs are newest first.
	Runs    []checklist.Run
	Records []checklist.Record
	Err     error
}

var keys = struct{ Up, Down, Open, Refresh key.Binding }{
	Up:      key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous run (scroll in a detail)")),
	Down:    key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next run (scroll in a detail)")),
	Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "the run's checks, the records that count, earlier runs")),
	Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "ask the server again")),
}

// loaded is one answer the pane keeps: when it came and what it said.
type loaded struct {
	at      time.Time // zero: never answered
	asking  bool
	err     error
	runs    []checklist.Run
	records []checklist.Record
}

// stale reports whether it is time to ask again.
func (l loaded) stale(now time.Time) bool {
	return !l.asking && (l.at.IsZero() || now.Sub(l.at) >= RefreshEvery)
}

// Pane is the readiness pane.
type Pane struct {
	env  *state.Env
	list loaded
	sel  int
	top  int

	// The detail of one service's run, when open.
	open      bool
	service   string
	checklist string // "" until known: the newest run's
	detail    loaded
	scroll    int
}

// New returns the readiness pane.
func New(env *state.Env) *Pane { return &Pane{env: env} }

// Name is the pane's name.
func (p *Pane) Name() string { return Name }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	return []key.Binding{keys.Up, keys.Down, keys.Open, keys.Refresh}
}

// Capturing is always false: the pane has no input.
func (p *Pane) Capturing() bool { return false }

// Crumbs name the service (and checklist) of an open detail.
func (p *Pane) Crumbs() []string {
	if !p.open {
		return nil
	}
	c := []string{termtext.Clean(p.service)}
	if p.checklist != "" {
		c = append(c, termtext.Clean(p.checklist))
	}
	return c
}

// Back leaves the detail.
func (p *Pane) Back() bool {
	if !p.open {
		return false
	}
	p.open = false
	return true
}

// Update handles keys, the clock (asking again when what is shown is
// old), an Open from the palette (":checklist SERVICE") and the answers.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Open:
		if arg := strings.TrimSpace(m.Arg); arg != "" {
			return p.openService(arg, "")
		}
		p.open = false
		return p.refresh(false)
	case msg.Tick:
		return p.refresh(false)
	case Result:
		p.answer(m)
	case tea.KeyPressMsg:
		return p.key(m)
	}
	return nil
}

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	rows := p.rows()
	switch {
	case key.Matches(k, keys.Refresh):
		return p.refresh(true)
	case key.Matches(k, keys.Up):
		if p.open {
			p.scroll = max(0, p.scroll-1)
		} else {
			p.sel = max(0, p.sel-1)
		}
	case key.Matches(k, keys.Down):
		if p.open {
			p.scroll++
		} else if p.sel < len(rows)-1 {
			p.sel++
		}
	case key.Matches(k, keys.Open):
		if !p.open && p.sel < len(rows) {
			return p.openService(rows[p.sel].Service, rows[p.sel].Checklist)
		}
	}
	return nil
}

// openService shows the detail of a service's run of cl ("" for its
// newest run of any checklist) and asks for its history and records.
func (p *Pane) openService(service, cl string) tea.Cmd {
	p.open, p.service, p.checklist, p.scroll = true, service, cl, 0
	p.detail = loaded{}
	return p.refresh(false)
}

// refresh asks for what is shown when it is old (or always, when force).
func (p *Pane) refresh(force bool) tea.Cmd {
	now := p.env.Now()
	var cmds []tea.Cmd
	if force || p.list.stale(now) {
		p.list.asking = true
		cmds = append(cmds, ask(Query{ID: listID}))
	}
	if p.open && (force || p.detail.stale(now)) {
		p.detail.asking = true
		cmds = append(cmds, ask(Query{ID: detailID, Service: p.service, Limit: HistoryRuns}))
	}
	return tea.Batch(cmds...)
}

func ask(q Query) tea.Cmd { return func() tea.Msg { return q } }

// answer keeps a Result; an error keeps what was shown and says why it
// is old.
func (p *Pane) answer(r Result) {
	var l *loaded
	switch {
	case r.ID == listID:
		l = &p.list
	case r.ID == detailID && p.open && r.Service == p.service:
		l = &p.detail
	default:
		return
	}
	l.asking, l.at, l.err = false, p.env.Now(), r.Err
	if r.Err == nil {
		l.runs, l.records = r.Runs, r.Records
	}
	if r.ID == listID {
		p.sel = min(p.sel, max(0, len(p.rows())-1))
	}
}

// rows are the list's runs: failing first, then erring, then the
// catalogue's services that never ran a checklist (a run without an
// outcome), then passing; by service and checklist within each.
func (p *Pane) rows() []checklist.Run {
	rows := slices.Clone(p.list.runs)
	if !p.list.at.IsZero() {
		for _, svc := range p.env.State.Catalog {
			if !slices.ContainsFunc(rows, func(r checklist.Run) bool { return r.Service == svc.Name }) {
				rows = append(rows, checklist.Run{Service: svc.Name, Tier: svc.Tier})
			}
		}
	}
	rank := map[checklist.Outcome]int{checklist.OutcomeFail: 0, checklist.OutcomeError: 1, "": 2, checklist.OutcomePass: 3}
	slices.SortStableFunc(rows, func(a, b checklist.Run) int {
		return cmp.Or(cmp.Compare(rank[a.Outcome], rank[b.Outcome]), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Checklist, b.Checklist))
	})
	return rows
}

// View draws the pane in w×h cells.
func (p *Pane) View(w, h int) string {
	if p.open {
		return p.viewDetail(w, h)
	}
	return p.viewList(w, h)
}

func (p *Pane) viewList(w, h int) string {
	th := p.env.Theme
	rows := p.rows()
	title := "Readiness"
	if len(rows) > 0 {
		runs, failing, never := 0, 0, 0
		for _, r := range rows {
			switch r.Outcome {
			case "":
				never++
				continue
			case checklist.OutcomeFail, checklist.OutcomeError:
				failing++
			}
			runs++
		}
		title = fmt.Sprintf("Readiness · %d runs, %d not at the level required", runs, failing)
		if runs == 1 {
			title = fmt.Sprintf("Readiness · 1 run, %d not at the level required", failing)
		}
		switch {
		case never == 1:
			title += ", 1 service never checked"
		case never > 1:
			title += fmt.Sprintf(", %d services never checked", never)
		}
	}
	out := layout.Box(*th, title, nil, w, 1, true)
	out = append(out, p.listStatus()...)
	if len(rows) == 0 {
		if !p.list.at.IsZero() && p.list.err == nil {
			out = append(out, th.Dim.Render("No checklist has run yet: oncall checklist prod --service NAME stores a run here."))
		}
		return layout.Lines(out, w, h)
	}
	svcW := min(24, max(10, w/6))
	clW := min(12, max(9, w/12))
	head := fmt.Sprintf("%s %s %-20s %-8s %-7s %-10s ", layout.Fit("SERVICE", svcW), layout.Fit("CHECKLIST", clW), "REQUIRED", "ACHIEVED", "OUTCOME", "RUN")
	out = append(out, th.Dim.Style.Bold(true).Render(layout.Fit(head+"BLOCKING", w)))
	from, to := layout.Window(len(rows), p.sel, max(1, h-len(out)), p.top)
	p.top = from
	now := p.env.Now()
	for i := from; i < to; i++ {
		r := rows[i]
		if r.Outcome == "" {
			line := fmt.Sprintf("%s %s %s", layout.Fit(termtext.Clean(r.Service), svcW), layout.Fit("—", clW+1+20+1+8), th.Warn.Render(layout.Fit("NEVER", 7)))
			line += " " + layout.Fit("", 10) + " " + th.Dim.Render("oncall checklist prod --service "+termtext.Clean(r.Service))
			if i == p.sel {
				line = th.Selected.Render(layout.Fit(line, w))
			}
			out = append(out, line)
			continue
		}
		req := r.Level
		if r.LevelReason != "" {
			req += " (" + r.LevelReason + ")"
		}
		achieved := r.Achieved
		if achieved == "" {
			achieved = "none"
		}
		line := fmt.Sprintf("%s %s %s %s %s %s ", layout.Fit(termtext.Clean(r.Service), svcW), layout.Fit(termtext.Clean(r.Checklist), clW),
			layout.Fit(termtext.Clean(req), 20), layout.Fit(termtext.Clean(achieved), 8), outcome(*th, r.Outcome, 7), layout.Fit(layout.Short(now.Sub(r.At))+" ago", 10))
		line += termtext.Clean(blocking(r))
		if i == p.sel {
			line = th.Selected.Render(layout.Fit(line, w))
		}
		out = append(out, line)
	}
	return layout.Lines(out, w, h)
}

// listStatus says that the list is on its way, or why it is old.
func (p *Pane) listStatus() []string {
	th := p.env.Theme
	switch {
	case p.list.err != nil:
		return []string{th.Error.Render("Could not read the runs: " + firstLine(p.list.err))}
	case p.list.at.IsZero():
		return []string{th.Dim.Render("Asking the server for the checklist runs…")}
	}
	return nil
}

// blocking names the required checks that keep a run from its level.
func blocking(r checklist.Run) string {
	var ids []string
	for _, res := range r.Results {
		if res.Required && !res.Status.Holds() {
			ids = append(ids, res.Check+" ("+res.Status.Label()+")")
		}
	}
	if len(ids) == 0 {
		return "—"
	}
	return strings.Join(ids, ", ")
}

func outcome(th theme.Theme, o checklist.Outcome, w int) string {
	s := layout.Fit(strings.ToUpper(string(o)), w)
	switch o {
	case checklist.OutcomePass:
		return th.OK.Render(s)
	case checklist.OutcomeError:
		return th.Warn.Render(s)
	}
	return th.Error.Render(s)
}

// status renders a check's status in w cells, coloured by what it means
// for the level.
func status(th theme.Theme, s checklist.Status, w int) string {
	text := layout.Fit(strings.ToUpper(s.Label()), w)
	switch s {
	case checklist.Pass:
		return th.OK.Render(text)
	case checklist.Warn, checklist.Waived, checklist.Error:
		return th.Warn.Render(text)
	case checklist.NA:
		return th.Dim.Render(text)
	}
	return th.Error.Render(text)
}

// shown is the run the detail shows: the newest of its checklist for the
// service, from the detail's answer, else from the list.
func (p *Pane) shown() (checklist.Run, []checklist.Run, bool) {
	var runs []checklist.Run
	for _, r := range p.detail.runs {
		if r.Service == p.service && (p.checklist == "" || r.Checklist == p.checklist) {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		for _, r := range p.list.runs {
			if r.Service == p.service && (p.checklist == "" || r.Checklist == p.checklist) {
				runs = append(runs, r)
			}
		}
	}
	if len(runs) == 0 {
		return checklist.Run{}, nil, false
	}
	if p.checklist == "" {
		p.checklist = runs[0].Checklist
	}
	return runs[0], runs[1:], true
}

func (p *Pane) viewDetail(w, h int) string {
	th := p.env.Theme
	run, earlier, ok := p.shown()
	title := "Readiness · " + termtext.Clean(p.service)
	var body []string
	switch {
	case p.detail.err != nil:
		body = append(body, th.Error.Render("Could not read the runs of "+termtext.Clean(p.service)+": "+firstLine(p.detail.err)))
	case p.detail.at.IsZero():
		body = append(body, th.Dim.Render("Asking the server for the runs of "+termtext.Clean(p.service)+"…"))
	}
	if !ok {
		if !p.detail.at.IsZero() && p.detail.err == nil {
			body = append(body, th.Dim.Render("No run of a checklist for "+termtext.Clean(p.service)+" yet: oncall checklist prod --service "+termtext.Clean(p.service)))
		}
	} else {
		title += " · " + termtext.Clean(run.Checklist)
		body = append(body, p.runLines(run, w)...)
		body = append(body, p.recordLines(run.Checklist, w)...)
		body = append(body, p.historyLines(earlier, w)...)
	}
	out := layout.Box(*th, title, nil, w, 1, true)
	room := max(1, h-len(out))
	p.scroll = min(p.scroll, max(0, len(body)-room))
	return layout.Lines(append(out, body[p.scroll:]...), w, h)
}

// runLines are the run's verdict and its checks, with the links of the
// probes that walk a chain.
func (p *Pane) runLines(run checklist.Run, w int) []string {
	th := p.env.Theme
	now := p.env.Now()
	achieved := run.Achieved
	if achieved == "" {
		achieved = "no level"
	}
	verdict := fmt.Sprintf("%s required (%s): ", termtext.Clean(run.Level), termtext.Clean(run.LevelReason))
	by := ""
	if run.By != "" {
		by = " by " + termtext.Clean(run.By)
	}
	out := []string{verdict + outcome(*th, run.Outcome, len(run.Outcome)) + ", achieved " + termtext.Clean(achieved) +
		th.Dim.Render(fmt.Sprintf(" · run %s ago (%s)%s", layout.Short(now.Sub(run.At)), run.At.Local().Format("2006-01-02 15:04"), by)), ""}
	idW := 4
	for _, res := range run.Results {
		idW = max(idW, len(res.Check))
	}
	idW = min(idW, max(12, w/4))
	for _, res := range run.Results {
		req := th.Dim.Render("optional")
		if res.Required {
			req = "required"
		}
		line := fmt.Sprintf("%s %s %s %s %s", status(*th, res.Status, 12), layout.Fit(termtext.Clean(res.Check), idW), layout.Fit(termtext.Clean(res.Level), 7), req,
			termtext.Clean(res.Summary))
		out = append(out, line)
		indent := strings.Repeat(" ", 13)
		for _, l := range res.Links {
			out = append(out, indent+status(*th, l.Status, 12)+" "+termtext.Clean(l.Name)+": "+termtext.Clean(l.Detail))
		}
		if res.Status == checklist.Waived && res.Underlying != "" {
			out = append(out, indent+th.Dim.Render("would be "+res.Underlying.Label()+" without the waiver"))
		}
		if !res.Expires.IsZero() {
			out = append(out, indent+th.Dim.Render(fmt.Sprintf("%s by %s, until %s", res.Source, termtext.Clean(res.By), res.Expires.UTC().Format("2006-01-02"))))
		}
	}
	return out
}

// recordLines are the records of the service that count now.
func (p *Pane) recordLines(cl string, w int) []string {
	th := p.env.Theme
	now := p.env.Now()
	out := []string{""}
	out = append(out, layout.Box(*th, "Attestations, waivers and pushed results that count now", nil, w, 1, false)...)
	var recs []checklist.Record
	for _, r := range p.detail.records {
		if r.Service == p.service && r.Checklist == cl && r.Current(now) {
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 {
		return append(out, th.Dim.Render("None: oncall checklist attest|waive|report "+termtext.Clean(cl)+" CHECK --service "+termtext.Clean(p.service)))
	}
	for _, r := range recs {
		left := r.Expires.Sub(now)
		exp := fmt.Sprintf("until %s (%s)", r.Expires.UTC().Format("2006-01-02"), layout.Short(left))
		if left < checklist.ExpiringWithin {
			exp = th.Warn.Render(exp)
		}
		line := fmt.Sprintf("%-11s %s %s by %s %s", r.Kind, status(*th, r.Status, 8), termtext.Clean(r.Check), termtext.Clean(r.By), exp)
		if r.Text != "" {
			line += " · " + termtext.Clean(r.Text)
		}
		if r.EvidenceURL != "" {
			line += " · " + termtext.Clean(r.EvidenceURL)
		}
		out = append(out, line)
	}
	return out
}

// historyLines are the earlier runs of the checklist for the service.
func (p *Pane) historyLines(earlier []checklist.Run, w int) []string {
	th := p.env.Theme
	out := append([]string{""}, layout.Box(*th, "Earlier runs", nil, w, 1, false)...)
	if len(earlier) == 0 {
		return append(out, th.Dim.Render("None."))
	}
	for _, r := range earlier {
		achieved := r.Achieved
		if achieved == "" {
			achieved = "none"
		}
		c := r.Counts()
		out = append(out, fmt.Sprintf("%s %s %s required, achieved %s · %d pass, %d fail, %d not reported, %d error",
			th.Dim.Render(r.At.Local().Format("2006-01-02 15:04")), outcome(*th, r.Outcome, 5), termtext.Clean(r.Level), termtext.Clean(achieved),
			c[checklist.Pass], c[checklist.Fail], c[checklist.NotReported], c[checklist.Error]))
	}
	return out
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return termtext.Clean(s)
}

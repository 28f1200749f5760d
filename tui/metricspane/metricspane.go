// Package metricspane is the console's metrics pane: ad hoc PromQL typed
// with a history, its result over a chosen range drawn as a time-series
// chart, and its value now as a table of series.
package metricspane

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/chart"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// ranges are the spans the chart can show.
var ranges = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

var keys = struct {
	Edit, Run, Shorter, Longer, Up, Down key.Binding
}{
	Edit:    key.NewBinding(key.WithKeys("e", "/", "i"), key.WithHelp("e or /", "edit the expression (enter runs, ↑/↓ history)")),
	Run:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run it again")),
	Shorter: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "shorter range")),
	Longer:  key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "longer range")),
	Up:      key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "previous series")),
	Down:    key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "next series")),
}

// Pane is the metrics pane.
type Pane struct {
	env     *state.Env
	in      textinput.Model
	history []string
	hpos    int
	expr    string // the expression last run
	span    int    // index into ranges
	spin    spinner.Model
	loading int

	series     []metrics.Series
	start, end time.Time
	rangeErr   error
	result     *metrics.Result
	instErr    error
	tbl        table.Model
	ranAt      time.Time
}

// New returns the metrics pane.
func New(env *state.Env) *Pane {
	th := env.Theme
	in := textinput.New()
	in.Prompt = "PromQL› "
	in.Placeholder = "sum by (job) (rate(http_requests_total[5m]))"
	st := textinput.DefaultStyles(th.Dark)
	st.Cursor.Blink = false
	st.Focused.Prompt = th.Key.Style
	st.Blurred.Prompt = th.Dim.Style
	in.SetStyles(st)
	ts := table.DefaultStyles()
	ts.Header = th.Dim.Style.Bold(true).Padding(0, 1, 0, 0)
	ts.Cell = ts.Cell.Padding(0, 1, 0, 0)
	ts.Selected = th.Selected.Style
	return &Pane{env: env, in: in, span: 2, spin: spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(th.Key.Style)),
		tbl: table.New(table.WithStyles(ts), table.WithFocused(true), table.WithColumns(columns(100)))}
}

// columns sizes the result table for width w.
func columns(w int) []table.Column {
	return []table.Column{{Title: "SERIES", Width: max(20, w-24)}, {Title: "VALUE NOW", Width: 22}}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "metrics" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	return []key.Binding{keys.Edit, keys.Run, keys.Shorter, keys.Longer, keys.Up, keys.Down}
}

// Capturing reports whether the expression is being typed.
func (p *Pane) Capturing() bool { return p.in.Focused() }

// Crumbs names the expression shown.
func (p *Pane) Crumbs() []string {
	if p.expr == "" {
		return nil
	}
	return []string{termtext.Clean(p.expr)}
}

// Back leaves the input.
func (p *Pane) Back() bool {
	if p.in.Focused() {
		p.in.Blur()
		return true
	}
	return false
}

// Update handles keys, `:query EXPR` from the palette, and answers.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case msg.Open:
		if strings.TrimSpace(m.Arg) == "" {
			return p.edit()
		}
		p.in.SetValue(m.Arg)
		return p.run(m.Arg)
	case msg.RangeResult:
		if m.ID != "metrics" || m.Expr != p.expr {
			return nil
		}
		p.series, p.rangeErr, p.start, p.end = m.Series, m.Err, m.Start, m.End
		p.loading--
	case msg.InstantResult:
		if m.ID != "metrics" || m.Expr != p.expr {
			return nil
		}
		r := m.Result
		p.result, p.instErr = &r, m.Err
		p.loading--
		p.fillTable()
	case spinner.TickMsg:
		if p.loading > 0 {
			var cmd tea.Cmd
			p.spin, cmd = p.spin.Update(m)
			return cmd
		}
	case tea.PasteMsg:
		if p.in.Focused() {
			var cmd tea.Cmd
			p.in, cmd = p.in.Update(m)
			return cmd
		}
	case tea.KeyPressMsg:
		return p.key(m)
	}
	return nil
}

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	if p.in.Focused() {
		switch k.String() {
		case "enter":
			p.in.Blur()
			return p.run(p.in.Value())
		case "esc":
			p.in.Blur()
			p.in.SetValue(p.expr)
			return nil
		case "up", "down":
			if len(p.history) > 0 {
				if k.String() == "up" {
					p.hpos = max(0, p.hpos-1)
				} else {
					p.hpos = min(len(p.history), p.hpos+1)
				}
				if p.hpos < len(p.history) {
					p.in.SetValue(p.history[p.hpos])
				} else {
					p.in.SetValue("")
				}
				p.in.CursorEnd()
			}
			return nil
		}
		var cmd tea.Cmd
		p.in, cmd = p.in.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, keys.Edit):
		return p.edit()
	case key.Matches(k, keys.Run):
		return p.run(p.expr)
	case key.Matches(k, keys.Shorter):
		if p.span > 0 {
			p.span--
			return p.run(p.expr)
		}
	case key.Matches(k, keys.Longer):
		if p.span < len(ranges)-1 {
			p.span++
			return p.run(p.expr)
		}
	default:
		p.tbl, _ = p.tbl.Update(k)
	}
	return nil
}

func (p *Pane) edit() tea.Cmd {
	p.hpos = len(p.history)
	p.in.CursorEnd()
	return p.in.Focus()
}

// run asks for expr over the chosen range and at its end.
func (p *Pane) run(expr string) tea.Cmd {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil
	}
	if i := slices.Index(p.history, expr); i >= 0 {
		p.history = slices.Delete(p.history, i, i+1)
	}
	p.history = append(p.history, expr)
	if len(p.history) > 100 {
		p.history = p.history[1:]
	}
	p.hpos = len(p.history)
	p.expr, p.loading, p.rangeErr, p.instErr = expr, 2, nil, nil
	p.ranAt = p.env.Now()
	end := p.ranAt
	span := ranges[p.span]
	step := max(time.Second, (span / 240).Truncate(time.Second))
	return tea.Batch(
		func() tea.Msg {
			return msg.RangeQuery{ID: "metrics", Expr: expr, Start: end.Add(-span), End: end, Step: step}
		},
		func() tea.Msg { return msg.InstantQuery{ID: "metrics", Expr: expr, At: end} },
		p.spin.Tick,
	)
}

// fillTable puts the instant result in the table: one row per series, or
// the scalar, or each series of a range selector with its last sample.
func (p *Pane) fillTable() {
	var rows []table.Row
	if r := p.result; r != nil {
		switch r.Type {
		case metrics.TypeString:
			rows = append(rows, table.Row{"(string)", termtext.Clean(r.String)})
		case metrics.TypeMatrix:
			for _, s := range r.Matrix {
				last := s.Points[len(s.Points)-1]
				rows = append(rows, table.Row{termtext.Clean(s.Labels.String()), fmt.Sprintf("%s (%d samples, last %s)", chart.Value(last.V), len(s.Points), last.T.Local().Format("15:04:05"))})
			}
		default:
			vs := slices.Clone(r.Vector)
			slices.SortFunc(vs, func(a, b metrics.Sample) int { return strings.Compare(a.Labels.String(), b.Labels.String()) })
			for _, s := range vs {
				name := termtext.Clean(s.Labels.String())
				if r.Type == metrics.TypeScalar {
					name = "(scalar)"
				}
				rows = append(rows, table.Row{name, chart.Value(s.Value)})
			}
		}
	}
	p.tbl.SetRows(rows)
}

// View draws the pane in w×h cells: the input, the chart, the table.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	title := "Metrics · last " + rangeName(ranges[p.span])
	if p.loading > 0 {
		title += " · " + p.spin.View() + " querying"
	} else if !p.ranAt.IsZero() {
		title += " · ran at " + p.ranAt.Local().Format("15:04:05")
	}
	out := layout.Box(*th, title, nil, w, 1, true)
	p.in.SetWidth(max(10, w-len(p.in.Prompt)-2))
	out = append(out, layout.Fit(p.in.View(), w))
	if p.expr == "" {
		out = append(out, "", th.Dim.Render("Type a PromQL expression (e or /, then enter) or use :query EXPR."),
			th.Dim.Render("[ and ] change the range; the chart shows it over time, the table its value now."))
		return layout.Lines(out, w, h)
	}
	rest := h - len(out)
	tableH := min(max(4, rest/3), len(p.tbl.Rows())+2)
	chartH := rest - tableH - 1
	switch {
	case p.rangeErr != nil:
		out = append(out, th.Error.Render("query failed: "+termtext.Clean(firstLine(p.rangeErr.Error()))))
		chartH--
		out = append(out, layout.Lines(nil, w, max(0, chartH)))
	case p.series == nil && p.loading > 0:
		out = append(out, layout.Lines([]string{th.Dim.Render("querying…")}, w, chartH))
	default:
		out = append(out, chart.Series(p.env.Theme, p.series, p.start, p.end, w, chartH))
	}
	out = append(out, "")
	switch {
	case p.instErr != nil:
		out = append(out, th.Error.Render("query failed: "+termtext.Clean(firstLine(p.instErr.Error()))))
	case p.result != nil && len(p.tbl.Rows()) == 0:
		out = append(out, th.Dim.Render("The expression returns nothing now."))
	case p.result != nil:
		p.tbl.SetColumns(columns(w))
		p.tbl.SetWidth(w)
		p.tbl.SetHeight(tableH)
		out = append(out, strings.Split(p.tbl.View(), "\n")...)
	}
	return layout.Lines(strings.Split(strings.Join(out, "\n"), "\n"), w, h)
}

func rangeName(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

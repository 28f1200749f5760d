package metricspane

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
)

var now = tuitest.Now

// requests keeps the query requests among messages (the spinner's tick
// is not one).
func requests(ms []tea.Msg) (rq *msg.RangeQuery, iq *msg.InstantQuery) {
	for _, m := range ms {
		switch m := m.(type) {
		case msg.RangeQuery:
			rq = &m
		case msg.InstantQuery:
			iq = &m
		}
	}
	return rq, iq
}

// run executes a command without waiting on the spinner's timer.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch m := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range m {
			if c == nil {
				continue
			}
			if r := c(); r != nil {
				if _, tick := r.(spinner.TickMsg); !tick {
					out = append(out, r)
				}
			}
		}
		return out
	case nil:
		return nil
	default:
		return []tea.Msg{m}
	}
}

func answer(p *Pane, rq *msg.RangeQuery, iq *msg.InstantQuery) {
	var ss []metrics.Series
	for j, job := range []string{"api", "db"} {
		s := metrics.Series{Labels: labels.FromStrings("job", job)}
		for t := rq.Start; !t.After(rq.End); t = t.Add(rq.Step) {
			s.Points = append(s.Points, metrics.Point{T: t, V: float64(j+1) + math.Sin(float64(t.Unix())/300)})
		}
		ss = append(ss, s)
	}
	p.Update(msg.RangeResult{ID: rq.ID, Expr: rq.Expr, Series: ss, Start: rq.Start, End: rq.End})
	p.Update(msg.InstantResult{ID: iq.ID, Expr: iq.Expr, Result: metrics.Result{Type: metrics.TypeVector, Vector: metrics.Vector{
		{Labels: labels.FromStrings("job", "db"), Value: 2.5}, {Labels: labels.FromStrings("job", "api"), Value: 1.25}}}})
}

// Typing an expression and enter asks for it over the last hour and now;
// the answers draw a chart and a table; [ and ] change the range.
func TestQueryChartAndTable(t *testing.T) {
	p := New(tuitest.Env())
	p.Update(tuitest.Key("e"))
	if !p.Capturing() {
		t.Fatal("e should edit")
	}
	for _, k := range tuitest.Keys("sum by (job) (rate(x[5m]))") {
		p.Update(k)
	}
	rq, iq := requests(run(p.Update(tuitest.Key("enter"))))
	if rq == nil || iq == nil || rq.Expr != "sum by (job) (rate(x[5m]))" || rq.End != now || rq.Start != now.Add(-time.Hour) || rq.Step != 15*time.Second {
		t.Fatalf("requests %+v %+v", rq, iq)
	}
	if v := ansi.Strip(p.View(100, 20)); !strings.Contains(v, "querying") {
		t.Errorf("while loading:\n%s", v)
	}
	answer(p, rq, iq)
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("query_%dx%d", size.w, size.h), v)
	}
	v := ansi.Strip(p.View(160, 45))
	for _, want := range []string{"last 1h", `{job="api"}`, "1.25", `{job="db"}`, "2.5", "━━"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing", want)
		}
	}
	rq, _ = requests(run(p.Update(tuitest.Key("]"))))
	if rq == nil || rq.End.Sub(rq.Start) != 3*time.Hour {
		t.Errorf("] asks for 3h: %+v", rq)
	}
	rq, _ = requests(run(p.Update(tuitest.Key("["))))
	if rq == nil || rq.End.Sub(rq.Start) != time.Hour {
		t.Errorf("[ asks for 1h again: %+v", rq)
	}
}

// :query EXPR runs at once; errors are shown; the history comes back with
// the arrow keys; an old answer is ignored.
func TestPaletteErrorsAndHistory(t *testing.T) {
	p := New(tuitest.Env())
	rq, iq := requests(run(p.Update(msg.Open{Pane: "metrics", Arg: "up"})))
	if rq == nil || rq.Expr != "up" {
		t.Fatalf(":query up: %+v", rq)
	}
	requests(run(p.Update(msg.Open{Pane: "metrics", Arg: "rate(up)"})))
	p.Update(msg.RangeResult{ID: "metrics", Expr: "up", Series: []metrics.Series{{Labels: labels.FromStrings("old", "answer")}}})
	if p.series != nil {
		t.Error("an answer to an older expression was taken")
	}
	p.Update(msg.RangeResult{ID: "metrics", Expr: "rate(up)", Err: errors.New("bad_data: expected type range vector in call to function \"rate\", got instant vector")})
	p.Update(msg.InstantResult{ID: "metrics", Expr: "rate(up)", Err: errors.New("bad_data: same")})
	if v := ansi.Strip(p.View(140, 20)); !strings.Contains(v, `query failed: bad_data: expected type range vector`) {
		t.Errorf("error:\n%s", v)
	}
	_ = iq
	p.Update(tuitest.Key("e"))
	p.Update(tuitest.Key("up"))
	if p.in.Value() != "rate(up)" {
		t.Errorf("history up: %q", p.in.Value())
	}
	p.Update(tuitest.Key("up"))
	if p.in.Value() != "up" {
		t.Errorf("history up twice: %q", p.in.Value())
	}
	p.Update(tuitest.Key("esc"))
	if p.Capturing() {
		t.Error("esc leaves the input")
	}
}

func TestResultKinds(t *testing.T) {
	p := New(tuitest.Env())
	for _, tc := range []struct {
		r    metrics.Result
		want string
	}{
		{metrics.Result{Type: metrics.TypeScalar, Vector: metrics.Vector{{Labels: labels.EmptyLabels(), Value: 42}}}, "(scalar)"},
		{metrics.Result{Type: metrics.TypeString, String: "hello"}, "hello"},
		{metrics.Result{Type: metrics.TypeMatrix, Matrix: []metrics.Series{{Labels: labels.FromStrings("job", "x"), Points: []metrics.Point{{T: now, V: 3}, {T: now, V: 4}}}}}, "4 (2 samples"},
		{metrics.Result{Type: metrics.TypeVector}, "returns nothing now"},
	} {
		requests(run(p.Update(msg.Open{Pane: "metrics", Arg: "x"})))
		p.Update(msg.InstantResult{ID: "metrics", Expr: "x", Result: tc.r})
		if v := ansi.Strip(p.View(120, 20)); !strings.Contains(v, tc.want) {
			t.Errorf("%s: %q missing:\n%s", tc.r.Type, tc.want, v)
		}
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	p := New(tuitest.Env())
	rq, iq := requests(run(p.Update(msg.Open{Pane: "metrics", Arg: "x"})))
	p.Update(msg.RangeResult{ID: rq.ID, Expr: rq.Expr, Start: rq.Start, End: rq.End, Series: []metrics.Series{{Labels: labels.FromStrings("job", tuitest.Poison), Points: []metrics.Point{{T: now, V: 1}}}}})
	p.Update(msg.InstantResult{ID: iq.ID, Expr: iq.Expr, Result: metrics.Result{Type: metrics.TypeVector, Vector: metrics.Vector{{Labels: labels.FromStrings("job", tuitest.Poison), Value: 1}}}})
	if v := p.View(200, 30); !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("raw sequences:\n%q", v)
	}
	p.Update(msg.InstantResult{ID: iq.ID, Expr: iq.Expr, Err: errors.New(tuitest.Poison)})
	if v := p.View(200, 30); !tuitest.Clean(v) {
		t.Errorf("raw sequences in an error:\n%q", v)
	}
}

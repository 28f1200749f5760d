package backtest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

const expandRules = `groups:
  - name: rec
    interval: 1m
    rules:
      - record: service:requests:rate2m
        expr: sum by (service, code) (rate(requests_total[2m]))
        labels: {team: checkout}
      - record: service:requests:rate2m:doubled
        expr: service:requests:rate2m * 2
      - record: variant:up
        expr: up
        labels: {variant: a}
      - record: variant:up
        expr: up * 10
        labels: {variant: b}
      - record: answer
        expr: "42"
`

const expandHistory = `load 1m
  requests_total{service="api", code="200"} 0+60x60
  requests_total{service="api", code="500"} 0+3x60
  requests_total{service="db", code="200"} 0+10x30 300+20x30
  requests_total{service="web", code="200"} 0+1x60
  requests_total{code="200"} 0+5x60
  up{instance="a"} 1x60
  up{instance="b"} 0x60
`

// Where the recording rules were evaluated (at whole minutes, where a
// subquery's steps fall), a selector of a recorded series and its
// expansion select the same series with the same values: the name and
// the rule's labels set, the selector's matchers applied (=, !=, =~, !~,
// on the rule's labels too), offset and @ moved onto the expression, a
// range selector as a subquery, rules recording one name unioned, one
// recorded series read through another, a scalar expression.
func TestExpandedSelectorsSelectTheRecordedSeries(t *testing.T) {
	files := writeRules(t, map[string]string{"rules.yml": expandRules})
	ll := lazyHistory(t, expandHistory)
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc: rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()), AppendableV2: ll.Storage(), Queryable: ll.Storage(),
		Context: context.Background(), NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
	})
	loaded, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, files...)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var recs []recording
	for _, g := range loaded {
		for _, r := range g.Rules() {
			rr := r.(*rules.RecordingRule)
			recs = append(recs, recording{name: rr.Name(), expr: rr.Query().String(), labels: rr.Labels(), interval: g.Interval()})
		}
		for ts := epoch; !ts.After(epoch.Add(50 * time.Minute)); ts = ts.Add(time.Minute) {
			loadTill(t, ll, ts)
			g.Eval(context.Background(), ts)
		}
	}
	loadTill(t, ll, epoch.Add(time.Hour))
	x := newExpander(recs, map[string]bool{"service:requests:rate2m": true, "service:requests:rate2m:doubled": true, "variant:up": true, "answer": true})
	at := epoch.Add(40 * time.Minute)
	for _, sel := range []string{
		`service:requests:rate2m`,
		`service:requests:rate2m{service="api"}`,
		`service:requests:rate2m{service!="api"}`,
		`service:requests:rate2m{service=~"a.*|db", code!~"5.."}`,
		`service:requests:rate2m{service=""}`,
		`service:requests:rate2m{service!=""}`,
		`service:requests:rate2m{team="checkout", code="500"}`,
		`service:requests:rate2m{team="payments"}`,
		`{__name__="service:requests:rate2m", service="web"}`,
		`service:requests:rate2m offset 7m`,
		`service:requests:rate2m{service="db"} @ 1772410500`, // epoch + 15m
		`sum by (team) (service:requests:rate2m)`,
		`max_over_time(service:requests:rate2m{service="db"}[20m])`,
		`avg_over_time(service:requests:rate2m[10m] offset 5m)`,
		`service:requests:rate2m:doubled{code="200"}`,
		`variant:up`,
		`variant:up{variant="b"}`,
		`answer`,
		`answer > 40`,
	} {
		t.Run(sel, func(t *testing.T) {
			exp, err := x.Rewrite(sel)
			if err != nil {
				t.Fatal(err)
			}
			refs, _ := references(x.parser, exp)
			for _, r := range refs {
				if x.expand[r] {
					t.Fatalf("the expansion still reads %s: %s", r, exp)
				}
			}
			want, got := instantAt(t, ll.QueryEngine(), ll.Storage(), sel, at), instantAt(t, ll.QueryEngine(), ll.Storage(), exp, at)
			if len(want) == 0 && sel != `service:requests:rate2m{service=""}` && sel != `service:requests:rate2m{team="payments"}` {
				t.Fatalf("the recorded series %s is empty: the case tests nothing", sel)
			}
			if !slices.Equal(got, want) {
				t.Errorf("expanded to %s\n got: %v\nwant: %v", exp, got, want)
			}
		})
	}
}

// instantAt is the sorted samples of q at ts, as text.
func instantAt(t *testing.T, e promql.QueryEngine, st storage.Queryable, q string, ts time.Time) []string {
	t.Helper()
	qr, err := e.NewInstantQuery(context.Background(), st, nil, q, ts)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer qr.Close()
	res := qr.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", q, res.Err)
	}
	var out []string
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out = append(out, s.Metric.String()+" "+strconv.FormatFloat(s.F, 'g', -1, 64))
		}
	case promql.Scalar:
		out = append(out, strconv.FormatFloat(v.V, 'g', -1, 64))
	default:
		t.Fatalf("%s: a %s", q, res.Value.Type())
	}
	slices.Sort(out)
	return out
}

// A recording rule that reads itself, directly or not, is refused.
func TestExpandRefusesCycles(t *testing.T) {
	x := newExpander([]recording{
		{name: "a", expr: "b + 1", interval: time.Minute},
		{name: "b", expr: "sum(a)", interval: time.Minute},
	}, map[string]bool{"a": true, "b": true})
	_, err := x.Rewrite("a > 1")
	if err == nil || !strings.Contains(err.Error(), "a → b → a") {
		t.Fatalf("err = %v, want the cycle a → b → a named", err)
	}
}

// Selectors of series that are not expanded are left as they were.
func TestExpandLeavesOtherSelectors(t *testing.T) {
	x := newExpander([]recording{{name: "rec", expr: "sum(x)", interval: time.Minute}}, map[string]bool{})
	for _, q := range []string{`rec > 1`, `rate(http_requests_total{code=~"5.."}[5m]) / ignoring(code) group_left sum(rate(http_requests_total[5m]))`} {
		got, err := x.Rewrite(q)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := parser.NewParser(parser.Options{}).ParseExpr(q)
		if got != want.String() {
			t.Errorf("Rewrite(%s) = %s", q, got)
		}
	}
}

// Whatever expression parses, its rewrite parses, reads no expanded
// series, and is unchanged when it read none.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		`rec > 1`, `rec{a="b"}[5m]`, `sum by (x) (rate(rec2[5m] offset 1m))`, `rec @ 100`, `rec offset -5m`, `other{a=~".*"}`,
		`{__name__="rec"}`, `rec2 and on(a) rec`, `max_over_time(rec[1h:5m])`, `scalar(rec) + 1`, `-rec`, `count_values("v", rec)`,
		`topk(3, rec)`, `label_replace(rec, "a", "$1", "b", "(.*)")`, `absent(rec{a!="x"})`,
	} {
		f.Add(s)
	}
	recs := []recording{
		{name: "rec", expr: `sum by (a) (rate(x_total[5m]))`, labels: labels.FromStrings("team", "t"), interval: time.Minute},
		{name: "rec2", expr: `rec * on(a) group_left y`, interval: 30 * time.Second},
		{name: "rec2", expr: `vector(1)`, labels: labels.FromStrings("a", "one"), interval: 2 * time.Minute},
	}
	expand := map[string]bool{"rec": true, "rec2": true}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, q string) {
		e, err := p.ParseExpr(q)
		if err != nil {
			return
		}
		x := newExpander(recs, expand)
		got, err := x.Rewrite(q)
		if err != nil {
			t.Fatalf("Rewrite(%q): %v", q, err)
		}
		ge, err := p.ParseExpr(got)
		if err != nil {
			t.Fatalf("Rewrite(%q) = %q, which does not parse: %v", q, got, err)
		}
		if ge.Type() != e.Type() {
			t.Errorf("Rewrite(%q) is a %s, not a %s", q, ge.Type(), e.Type())
		}
		refs, _ := references(p, got)
		for _, r := range refs {
			if expand[r] {
				t.Errorf("Rewrite(%q) = %q still reads %s", q, got, r)
			}
		}
		orig, _ := references(p, q)
		if !slices.ContainsFunc(orig, func(s string) bool { return expand[s] }) && got != e.String() {
			t.Errorf("Rewrite(%q) = %q, changed though it reads nothing expanded", q, got)
		}
	})
}

package lint

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"golang.org/x/sync/errgroup"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Querier is what the source checks ask: an instant query whatever the
// result's type. metrics.Source implementations, oncall's client and
// metrics.Prometheus have it.
type Querier interface {
	Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error)
}

// sourceChecks are the checks that need a source.
var sourceChecks = []string{NoSeries, NoMatchingSeries, Expensive}

// selectorUse is one selector of one rule.
type selectorUse struct {
	vs     *parser.VectorSelector
	rng    time.Duration // of a range selector, else 0
	absent bool          // inside absent(): matching nothing is the point
}

// selectorStats is what the source says of one selector.
type selectorStats struct {
	series  int
	samples int // of the range selector
	// When no series matched:
	nameSeries int    // series of the metric name now, whatever the labels
	notThen    bool   // none at the time offset or @ points to
	culprit    string // the first matcher that alone matches nothing
}

// timeModified reports whether a selector looks elsewhere than the
// evaluation time.
func timeModified(vs *parser.VectorSelector) bool {
	return vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil || vs.Timestamp != nil || vs.StartOrEnd != 0
}

// key is the query text of a selector use.
func (u selectorUse) key() string {
	if u.rng > 0 {
		return u.vs.String() + "\x00" + u.rng.String()
	}
	return u.vs.String()
}

// selectors lists a rule's selectors, with what is around them.
func selectors(e parser.Expr) []selectorUse {
	var out []selectorUse
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		u := selectorUse{vs: vs}
		if len(path) > 0 {
			if ms, ok := path[len(path)-1].(*parser.MatrixSelector); ok && ms.RangeExpr == nil {
				u.rng = ms.Range
			}
		}
		for _, p := range path {
			if c, ok := p.(*parser.Call); ok && (c.Func.Name == "absent" || c.Func.Name == "absent_over_time") {
				u.absent = true
			}
		}
		out = append(out, u)
		return nil
	})
	return out
}

// checkSource runs the source checks; it returns why they were skipped,
// or nil.
func (l *linter) checkSource(ctx context.Context) *Skipped {
	var ids []string
	for _, id := range sourceChecks {
		if !l.disabled[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if l.opts.Source == nil {
		return &Skipped{Checks: ids, Reason: l.opts.NoSourceReason}
	}
	uses := map[string]selectorUse{}
	perRule := make([][]selectorUse, len(l.rules))
	for i, r := range l.rules {
		for _, u := range selectors(r.rule.expr) {
			name := alerts.SelectorMetric(u.vs)
			if name == "ALERTS" || name == "ALERTS_FOR_STATE" {
				continue
			}
			perRule[i] = append(perRule[i], u)
			uses[u.key()] = u
		}
	}
	stats, err := l.query(ctx, uses)
	if err != nil {
		return &Skipped{Checks: ids, Reason: "the metrics source failed: " + err.Error()}
	}
	for i, r := range l.rules {
		l.reportSource(r, perRule[i], stats)
	}
	return nil
}

// query asks the source about every selector, a few at a time.
func (l *linter) query(ctx context.Context, uses map[string]selectorUse) (map[string]selectorStats, error) {
	var mu sync.Mutex
	out := map[string]selectorStats{}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, k := range slices.Sorted(maps.Keys(uses)) {
		u := uses[k]
		g.Go(func() error {
			st, err := l.stats(ctx, u)
			if err != nil {
				return err
			}
			mu.Lock()
			out[k] = st
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// stats counts a selector's series (and a range selector's samples); when
// it matches nothing, it finds out whether the metric exists and which
// matcher excludes everything.
func (l *linter) stats(ctx context.Context, u selectorUse) (selectorStats, error) {
	var st selectorStats
	var err error
	if st.series, err = l.count(ctx, "count("+u.vs.String()+")"); err != nil {
		return st, err
	}
	if st.series > 0 && u.rng > 0 {
		ms := &parser.MatrixSelector{VectorSelector: u.vs, Range: u.rng}
		if st.samples, err = l.count(ctx, "sum(count_over_time("+ms.String()+"))"); err != nil {
			return st, err
		}
	}
	name := alerts.SelectorMetric(u.vs)
	if st.series > 0 || u.absent || name == "" || l.recorded[name] != nil {
		return st, nil
	}
	now := selectorWith(u.vs, nil)
	now.OriginalOffset, now.OriginalOffsetExpr, now.Timestamp, now.StartOrEnd = 0, nil, nil, 0
	if st.nameSeries, err = l.count(ctx, "count("+now.String()+")"); err != nil || st.nameSeries == 0 {
		return st, err
	}
	if timeModified(u.vs) {
		n, err := l.count(ctx, "count("+selectorWith(u.vs, nil).String()+")")
		if err != nil || n == 0 {
			st.notThen = n == 0
			return st, err
		}
	}
	for _, m := range u.vs.LabelMatchers {
		if m.Name == labels.MetricName {
			continue
		}
		n, err := l.count(ctx, "count("+selectorWith(u.vs, m).String()+")")
		if err != nil {
			return st, err
		}
		if n == 0 {
			st.culprit = m.String()
			break
		}
	}
	return st, nil
}

// selectorWith is vs with only its metric name matcher and m (if any).
func selectorWith(vs *parser.VectorSelector, m *labels.Matcher) *parser.VectorSelector {
	c := *vs
	c.Name = alerts.SelectorMetric(vs)
	c.LabelMatchers = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, c.Name)}
	if m != nil {
		c.LabelMatchers = append(c.LabelMatchers, m)
	}
	return &c
}

// count runs a query whose result is one number, or nothing (0).
func (l *linter) count(ctx context.Context, q string) (int, error) {
	res, err := l.opts.Source.Query(ctx, q, l.opts.Now)
	if err != nil {
		return 0, err
	}
	if res.Type != metrics.TypeVector && res.Type != metrics.TypeScalar {
		return 0, fmt.Errorf("query %q: result is a %s, want a vector", q, res.Type)
	}
	if len(res.Vector) == 0 {
		return 0, nil
	}
	return int(res.Vector[0].Value), nil
}

// reportSource reports what the source said of one rule's selectors.
func (l *linter) reportSource(r ruleRef, uses []selectorUse, stats map[string]selectorStats) {
	line := r.rule.lineOf("expr")
	type weight struct {
		sel string
		n   int
	}
	var series, samples []weight
	seen := map[string]bool{}
	totalSeries, totalSamples := 0, 0
	for _, u := range uses {
		k := u.key()
		if seen[k] {
			continue
		}
		seen[k] = true
		st := stats[k]
		name := alerts.SelectorMetric(u.vs)
		switch {
		case st.series > 0 || u.absent || l.recorded[name] != nil:
		case name == "":
			l.report(r, NoMatchingSeries, "", line, fmt.Sprintf("%s matches no series at the source", u.vs),
				"check the matchers against what the source has")
		case st.nameSeries == 0:
			l.report(r, NoSeries, "", line, fmt.Sprintf("no series named %s at the source: the rule can never match", name),
				"check the metric's name (a typo, a renamed metric, an exporter not deployed or not scraped)")
		case st.notThen:
			l.report(r, NoMatchingSeries, "", line, fmt.Sprintf("%s matches no series: %s has %d series now, none at the time its offset or @ points to", u.vs, name, st.nameSeries),
				"a metric younger than its offset starts to match later; compare with a shorter offset meanwhile")
		case st.culprit != "":
			l.report(r, NoMatchingSeries, "", line, fmt.Sprintf("%s matches no series: %s has %d series, none with %s", u.vs, name, st.nameSeries, st.culprit),
				fmt.Sprintf("look at the values the source has: count by (…) (%s)", name))
		default:
			l.report(r, NoMatchingSeries, "", line, fmt.Sprintf("%s matches no series: %s has %d series, none matching all of its matchers", u.vs, name, st.nameSeries),
				fmt.Sprintf("look at the values the source has: count by (…) (%s)", name))
		}
		totalSeries += st.series
		totalSamples += st.samples
		series = append(series, weight{u.vs.String(), st.series})
		if u.rng > 0 {
			samples = append(samples, weight{(&parser.MatrixSelector{VectorSelector: u.vs, Range: u.rng}).String(), st.samples})
		}
	}
	heaviest := func(ws []weight) string {
		slices.SortStableFunc(ws, func(a, b weight) int { return cmp.Compare(b.n, a.n) })
		var parts []string
		for _, w := range ws[:min(3, len(ws))] {
			parts = append(parts, fmt.Sprintf("%s: %d", w.sel, w.n))
		}
		return strings.Join(parts, ", ")
	}
	if l.opts.MaxSeries > 0 && totalSeries > l.opts.MaxSeries {
		l.report(r, Expensive, "", line, fmt.Sprintf("touches %d series at the source, more than %d (%s)", totalSeries, l.opts.MaxSeries, heaviest(series)),
			"narrow the selectors with label matchers, or record a pre-aggregated series and alert on that (raise the limit with --max-series)")
	}
	if l.opts.MaxSamples > 0 && totalSamples > l.opts.MaxSamples {
		l.report(r, Expensive, "", line, fmt.Sprintf("reads %d samples at the source, more than %d (%s)", totalSamples, l.opts.MaxSamples, heaviest(samples)),
			"shorten the ranges, or record a rate over a short range and take *_over_time of that (raise the limit with --max-samples)")
	}
}

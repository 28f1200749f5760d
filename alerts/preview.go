package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// PreviewOptions say how to evaluate a rule for a preview.
type PreviewOptions struct {
	// Query evaluates the expression; nil, or an empty answer, makes the
	// preview use an example result.
	Query          QueryFunc
	ExternalLabels labels.Labels
	ExternalURL    string
}

// Preview evaluates one alerting rule once at now, as Prometheus would,
// with its labels and annotations templated, and returns the alerts it
// would send if it fired now (its `for` is not waited out). When the
// query answers nothing, an example stands in for its result — one series
// with the label values the expression's selectors match on, and the
// value the expression compares with — and example says so.
func Preview(ctx context.Context, r Rule, now time.Time, o PreviewOptions) (as []Alert, example bool, err error) {
	if r.Record {
		return nil, false, fmt.Errorf("%s: %s is a recording rule", r.Where(), r.Name)
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", r.Where(), err)
	}
	ext, err := url.Parse(o.ExternalURL)
	if err != nil {
		return nil, false, fmt.Errorf("external url %q: %w", o.ExternalURL, err)
	}
	query := func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		var v promql.Vector
		if o.Query != nil {
			var qerr error
			if v, qerr = o.Query(ctx, q, t); qerr != nil {
				return nil, qerr
			}
		}
		if len(v) == 0 {
			example = true
			v = promql.Vector{{Metric: exampleLabels(expr), F: exampleValue(expr), T: t.UnixMilli()}}
		}
		return v, nil
	}
	ar := rules.NewAlertingRule(r.Name, expr, 0, r.KeepFiringFor, labels.FromMap(r.Labels), labels.FromMap(r.Annotations),
		o.ExternalLabels, o.ExternalURL, true, slog.New(slog.DiscardHandler))
	if _, err := ar.Eval(ctx, 0, now, query, ext, 0); err != nil {
		return nil, example, fmt.Errorf("%s: rule %q: %w", r.Where(), r.Name, err)
	}
	gen := (&Engine{opts: EngineOptions{ExternalURL: o.ExternalURL}}).generatorURL(r.Expr)
	for _, a := range ar.ActiveAlerts() {
		ls := labels.NewBuilder(a.Labels)
		o.ExternalLabels.Range(func(l labels.Label) {
			if !a.Labels.Has(l.Name) {
				ls.Set(l.Name, l.Value)
			}
		})
		as = append(as, Alert{Labels: ls.Labels(), Annotations: a.Annotations, StartsAt: now, GeneratorURL: gen, UpdatedAt: now})
	}
	return as, example, nil
}

// exampleLabels are the label values the selectors of expr match on
// exactly, and "<name>" for the labels it aggregates by, as an example of
// the series it returns.
func exampleLabels(expr parser.Expr) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	var by []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			for _, m := range n.LabelMatchers {
				if m.Type == labels.MatchEqual && m.Name != labels.MetricName && m.Value != "" {
					b.Set(m.Name, m.Value)
				}
			}
		case *parser.AggregateExpr:
			if !n.Without {
				by = append(by, n.Grouping...)
			}
		}
		return nil
	})
	for _, l := range by {
		if b.Get(l) == "" {
			b.Set(l, "<"+l+">")
		}
	}
	return b.Labels()
}

// exampleValue is the number the outermost comparison of expr compares
// with (1 if it compares with none).
func exampleValue(expr parser.Expr) float64 {
	for {
		switch e := expr.(type) {
		case *parser.ParenExpr:
			expr = e.Expr
			continue
		case *parser.BinaryExpr:
			if e.Op.IsComparisonOperator() {
				if n, ok := e.RHS.(*parser.NumberLiteral); ok {
					return n.Val
				}
				if n, ok := e.LHS.(*parser.NumberLiteral); ok {
					return n.Val
				}
			}
			if e.Op == parser.LAND || e.Op == parser.LUNLESS {
				expr = e.LHS
				continue
			}
		}
		return 1
	}
}

package backtest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/oncallhq/oncall/alerts"
)

// recording is one recording rule: the series it records, its expression,
// the labels it sets and its group's interval.
type recording struct {
	name     string
	expr     string
	labels   labels.Labels
	interval time.Duration
}

// matchLabel marks the series a label matcher keeps while an expanded
// selector is filtered; it never reaches a result.
const matchLabel = "__oncall_backtest_match"

// expander replaces selectors of recorded series the source lacks with the
// recording rules' expressions: `rec{job="a"}` becomes the rule's
// expression with the rule's name and labels set, filtered by the
// selector's matchers; `rec{…}[5m]` becomes a subquery of that at the
// recording group's interval. Offsets and @ of an instant selector are
// pushed down onto the selectors of the expression.
type expander struct {
	byName map[string][]recording
	// expand is the names to replace (the others are read from the source).
	expand map[string]bool
	parser parser.Parser
}

func newExpander(recs []recording, expand map[string]bool) *expander {
	x := &expander{byName: map[string][]recording{}, expand: expand, parser: parser.NewParser(parser.Options{})}
	for _, r := range recs {
		x.byName[r.name] = append(x.byName[r.name], r)
	}
	return x
}

// Rewrite returns expr with every selector of a name to expand replaced.
func (x *expander) Rewrite(expr string) (string, error) {
	e, err := x.parser.ParseExpr(expr)
	if err != nil {
		return "", err
	}
	if e, err = x.walk(e, nil); err != nil {
		return "", err
	}
	return e.String(), nil
}

// target is the recording rules that replace vs, if they do.
func (x *expander) target(vs *parser.VectorSelector) (string, []recording) {
	name := alerts.SelectorMetric(vs)
	if name == "" || !x.expand[name] {
		return "", nil
	}
	return name, x.byName[name]
}

// walk rewrites n in place where it can and returns what replaces it.
// stack is the recorded names being expanded, to refuse a cycle.
func (x *expander) walk(n parser.Expr, stack []string) (parser.Expr, error) {
	var err error
	switch n := n.(type) {
	case *parser.VectorSelector:
		if name, rs := x.target(n); rs != nil {
			return x.instant(name, n, rs, stack, true)
		}
	case *parser.MatrixSelector:
		vs, ok := n.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return n, nil
		}
		if name, rs := x.target(vs); rs != nil {
			inner, err := x.instant(name, vs, rs, stack, false)
			if err != nil {
				return nil, err
			}
			step := rs[0].interval
			for _, r := range rs[1:] {
				step = min(step, r.interval)
			}
			return &parser.SubqueryExpr{Expr: inner, Range: n.Range, RangeExpr: n.RangeExpr, Step: step, OriginalOffset: vs.OriginalOffset,
				OriginalOffsetExpr: vs.OriginalOffsetExpr, Timestamp: vs.Timestamp, StartOrEnd: vs.StartOrEnd}, nil
		}
	case *parser.AggregateExpr:
		if n.Expr, err = x.walk(n.Expr, stack); err != nil {
			return nil, err
		}
		if n.Param != nil {
			if n.Param, err = x.walk(n.Param, stack); err != nil {
				return nil, err
			}
		}
	case *parser.BinaryExpr:
		if n.LHS, err = x.walk(n.LHS, stack); err != nil {
			return nil, err
		}
		if n.RHS, err = x.walk(n.RHS, stack); err != nil {
			return nil, err
		}
	case *parser.Call:
		for i := range n.Args {
			if n.Args[i], err = x.walk(n.Args[i], stack); err != nil {
				return nil, err
			}
		}
	case *parser.SubqueryExpr:
		if n.Expr, err = x.walk(n.Expr, stack); err != nil {
			return nil, err
		}
	case *parser.ParenExpr:
		if n.Expr, err = x.walk(n.Expr, stack); err != nil {
			return nil, err
		}
	case *parser.UnaryExpr:
		if n.Expr, err = x.walk(n.Expr, stack); err != nil {
			return nil, err
		}
	case *parser.StepInvariantExpr:
		if n.Expr, err = x.walk(n.Expr, stack); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// instant is what replaces the instant selector vs of the recorded series
// name: the union of its rules' expressions, each with __name__ and the
// rule's labels set as the recording rule sets them, kept to the series
// vs's matchers select. With pushTime the selector's offset and @ move
// onto the expressions' own selectors.
func (x *expander) instant(name string, vs *parser.VectorSelector, rs []recording, stack []string, pushTime bool) (parser.Expr, error) {
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("recording rule %s depends on itself (%s)", name, strings.Join(append(stack, name), " → "))
	}
	stack = append(slices.Clone(stack), name)
	var parts []string
	for _, r := range rs {
		e, err := x.parser.ParseExpr(r.expr)
		if err != nil {
			return nil, fmt.Errorf("recording rule %s: %w", name, err)
		}
		if e, err = x.walk(e, stack); err != nil {
			return nil, err
		}
		if pushTime {
			shift(e, vs)
		}
		s := e.String()
		if e.Type() == parser.ValueTypeScalar {
			s = "vector(" + s + ")"
		}
		s = setLabel(s, labels.MetricName, name)
		r.labels.Range(func(l labels.Label) { s = setLabel(s, l.Name, l.Value) })
		parts = append(parts, s)
	}
	s := strings.Join(parts, " or ")
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName {
			continue
		}
		s = filter(s, m)
	}
	e, err := x.parser.ParseExpr("(" + s + ")")
	if err != nil {
		return nil, fmt.Errorf("expanding %s: %w", name, err)
	}
	return e, nil
}

// setLabel sets label name to value on every series of the vector s.
func setLabel(s, name, value string) string {
	return fmt.Sprintf("label_replace(%s, %s, %s, \"\", \"\")", s, strconv.Quote(name), strconv.Quote(value))
}

// filter keeps the series of the vector s that the matcher m selects:
// label_replace marks those whose label matches the matcher's regular
// expression (anchored, the absent label read as empty, as matchers do),
// `and` or `unless` a vector of the mark keeps or drops them, and the
// mark is removed.
func filter(s string, m *labels.Matcher) string {
	re := m.Value
	if m.Type == labels.MatchEqual || m.Type == labels.MatchNotEqual {
		re = regexp.QuoteMeta(m.Value)
	}
	op := "and"
	if m.Type == labels.MatchNotEqual || m.Type == labels.MatchNotRegexp {
		op = "unless"
	}
	marked := fmt.Sprintf("label_replace(%s, %q, \"1\", %s, %s)", s, matchLabel, strconv.Quote(m.Name), strconv.Quote(re))
	mark := fmt.Sprintf("label_replace(vector(1), %q, \"1\", \"\", \"\")", matchLabel)
	return fmt.Sprintf("label_replace(%s %s on(%s) %s, %q, \"\", \"\", \"\")", marked, op, matchLabel, mark, matchLabel)
}

// shift moves the offset and @ of the selector vs onto every selector and
// subquery of e that has none of its own, so that e is evaluated where vs
// would have read the recorded series.
func shift(e parser.Expr, vs *parser.VectorSelector) {
	if vs.OriginalOffset == 0 && vs.Timestamp == nil && vs.StartOrEnd == 0 {
		return
	}
	parser.Walk(shifter{vs}, e, nil) //nolint:errcheck // shifter returns no error
}

// shifter is the visitor of shift.
type shifter struct{ vs *parser.VectorSelector }

// Visit shifts selectors and subqueries; a subquery's own selectors are
// relative to it and stay.
func (s shifter) Visit(n parser.Node, _ []parser.Node) (parser.Visitor, error) {
	switch n := n.(type) {
	case *parser.VectorSelector:
		n.OriginalOffset += s.vs.OriginalOffset
		if n.Timestamp == nil && n.StartOrEnd == 0 {
			n.Timestamp, n.StartOrEnd = s.vs.Timestamp, s.vs.StartOrEnd
		}
	case *parser.SubqueryExpr:
		n.OriginalOffset += s.vs.OriginalOffset
		if n.Timestamp == nil && n.StartOrEnd == 0 {
			n.Timestamp, n.StartOrEnd = s.vs.Timestamp, s.vs.StartOrEnd
		}
		return nil, nil
	}
	return s, nil
}

// references are the metric names the selectors of expr select.
func references(p parser.Parser, expr string) ([]string, error) {
	e, err := p.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if name := alerts.SelectorMetric(vs); name != "" && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		return nil
	})
	return out, nil
}

package lint

import (
	"maps"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// outLabels is what can be said, without data, of the labels of an
// expression's result. It errs on the side of "may have": a label is said
// to be absent only when PromQL's semantics remove it.
type outLabels struct {
	// closed: the result has no label outside only.
	closed bool
	only   map[string]bool
	// without closed: labels the result never has.
	drop map[string]bool
	// fixed are labels every result series has, with their value.
	fixed map[string]string
}

// may reports whether a result series can have the label.
func (o outLabels) may(name string) bool {
	if o.closed {
		return o.only[name]
	}
	return !o.drop[name]
}

func noLabels() outLabels {
	return outLabels{closed: true, only: map[string]bool{}, fixed: map[string]string{}}
}

func (o outLabels) clone() outLabels {
	return outLabels{closed: o.closed, only: maps.Clone(o.only), drop: maps.Clone(o.drop), fixed: maps.Clone(o.fixed)}
}

// add says the result may have the label (label_replace, group_left).
func (o outLabels) add(name string) outLabels {
	o = o.clone()
	delete(o.fixed, name)
	if o.closed {
		o.only[name] = true
	} else {
		delete(o.drop, name)
	}
	return o
}

// remove says the result never has the label.
func (o outLabels) remove(name string) outLabels {
	o = o.clone()
	delete(o.fixed, name)
	if o.closed {
		delete(o.only, name)
	} else {
		if o.drop == nil {
			o.drop = map[string]bool{}
		}
		o.drop[name] = true
	}
	return o
}

// keep says the result has no label outside names.
func (o outLabels) keep(names []string) outLabels {
	out := outLabels{closed: true, only: map[string]bool{}, fixed: map[string]string{}}
	for _, n := range names {
		if o.may(n) {
			out.only[n] = true
			if v, ok := o.fixed[n]; ok {
				out.fixed[n] = v
			}
		}
	}
	return out
}

// union is the labels of either (or).
func union(a, b outLabels) outLabels {
	out := outLabels{fixed: map[string]string{}}
	for k, v := range a.fixed {
		if b.fixed[k] == v {
			out.fixed[k] = v
		}
	}
	if a.closed && b.closed {
		out.closed, out.only = true, maps.Clone(a.only)
		maps.Copy(out.only, b.only)
		return out
	}
	out.drop = map[string]bool{}
	for k := range a.drop {
		if !b.may(k) {
			out.drop[k] = true
		}
	}
	for k := range b.drop {
		if !a.may(k) {
			out.drop[k] = true
		}
	}
	return out
}

// resultLabels works out an expression's result labels. The metric name
// is left out: alerts and arithmetic drop it.
func resultLabels(e parser.Expr) outLabels {
	switch e := e.(type) {
	case *parser.VectorSelector:
		out := outLabels{drop: map[string]bool{}, fixed: map[string]string{}}
		for _, m := range e.LabelMatchers {
			if m.Name == labels.MetricName {
				continue
			}
			switch {
			case m.Type == labels.MatchEqual && m.Value == "":
				out.drop[m.Name] = true
			case m.Type == labels.MatchEqual:
				out.fixed[m.Name] = m.Value
			}
		}
		return out
	case *parser.MatrixSelector:
		return resultLabels(e.VectorSelector)
	case *parser.ParenExpr:
		return resultLabels(e.Expr)
	case *parser.UnaryExpr:
		return resultLabels(e.Expr)
	case *parser.SubqueryExpr:
		return resultLabels(e.Expr)
	case *parser.StepInvariantExpr:
		return resultLabels(e.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return noLabels()
	case *parser.AggregateExpr:
		return aggregateLabels(e)
	case *parser.Call:
		return callLabels(e)
	case *parser.BinaryExpr:
		return binaryLabels(e)
	}
	return outLabels{}
}

func aggregateLabels(e *parser.AggregateExpr) outLabels {
	in := resultLabels(e.Expr)
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return in // they select series, labels and all
	}
	var out outLabels
	if e.Without {
		out = in
		for _, g := range e.Grouping {
			out = out.remove(g)
		}
	} else {
		out = in.keep(e.Grouping)
	}
	if e.Op == parser.COUNT_VALUES {
		if s, ok := unparen(e.Param).(*parser.StringLiteral); ok {
			out = out.add(s.Val)
		} else {
			return outLabels{}
		}
	}
	return out
}

func callLabels(e *parser.Call) outLabels {
	switch e.Func.Name {
	case "absent", "absent_over_time":
		// The labels of the equality matchers of a selector argument.
		out := noLabels()
		var vs *parser.VectorSelector
		switch a := unparen(e.Args[0]).(type) {
		case *parser.VectorSelector:
			vs = a
		case *parser.MatrixSelector:
			vs, _ = a.VectorSelector.(*parser.VectorSelector)
		}
		if vs != nil {
			for _, m := range vs.LabelMatchers {
				if m.Type == labels.MatchEqual && m.Name != labels.MetricName && m.Value != "" {
					out.only[m.Name], out.fixed[m.Name] = true, m.Value
				}
			}
		}
		return out
	case "label_replace", "label_join":
		out := resultLabels(e.Args[0])
		if s, ok := unparen(e.Args[1]).(*parser.StringLiteral); ok {
			return out.add(s.Val)
		}
		return outLabels{}
	case "histogram_quantile", "histogram_fraction":
		for _, a := range e.Args {
			if t := a.Type(); t == parser.ValueTypeVector {
				return resultLabels(a).remove(labels.BucketLabel)
			}
		}
	case "info":
		out := resultLabels(e.Args[0])
		return outLabels{fixed: out.fixed} // adds the info metric's labels
	}
	if e.Func.ReturnType != parser.ValueTypeVector {
		return noLabels()
	}
	for _, a := range e.Args {
		if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			return resultLabels(a)
		}
	}
	return noLabels() // vector(1), time-based functions without arguments
}

func binaryLabels(e *parser.BinaryExpr) outLabels {
	lt, rt := e.LHS.Type(), e.RHS.Type()
	switch {
	case lt != parser.ValueTypeVector && rt != parser.ValueTypeVector:
		return noLabels()
	case rt != parser.ValueTypeVector:
		return resultLabels(e.LHS)
	case lt != parser.ValueTypeVector:
		return resultLabels(e.RHS)
	}
	l, r := resultLabels(e.LHS), resultLabels(e.RHS)
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		return union(l, r)
	}
	m := e.VectorMatching
	if m == nil {
		return l
	}
	switch m.Card {
	case parser.CardOneToOne:
		if m.On {
			out := l.keep(m.MatchingLabels)
			for _, n := range m.MatchingLabels {
				if v, ok := r.fixed[n]; ok && out.only[n] {
					out.fixed[n] = v
				}
			}
			return out
		}
		for _, n := range m.MatchingLabels {
			l = l.remove(n)
		}
		return l
	case parser.CardManyToOne, parser.CardOneToMany:
		many, one := l, r
		if m.Card == parser.CardOneToMany {
			many, one = r, l
		}
		for _, n := range m.Include {
			if one.may(n) {
				many = many.add(n)
				if v, ok := one.fixed[n]; ok {
					many.fixed[n] = v
				}
			} else {
				many = many.remove(n)
			}
		}
		return many
	}
	return l
}

// unparen strips parentheses.
func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

package alerts

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Condition is an alerting expression taken apart: the signal it watches
// and the threshold it compares it with, so a chart can show the signal
// whether or not the alert fires (the expression itself returns nothing
// while the condition does not hold).
type Condition struct {
	// Signal is the watched expression (the whole expression when it is
	// not a comparison).
	Signal string
	// Op is the comparison ("<", ">=", …); empty when there is none.
	Op string
	// Threshold is what the signal is compared with.
	Threshold string
	// Gate is what must also hold for the alert to fire, when the
	// comparison is gated (`signal < threshold and volume > 100` has
	// the gate `and volume > 100`).
	Gate string
}

// SplitCondition takes an alerting expression apart at its top-level
// filtering comparison (`signal > threshold`, `bool` comparisons excluded):
// the side that is a number or a smaller expression is the threshold. A
// comparison gated by `and` or `unless` (a minimum volume, say) is split
// too, the gate kept apart.
func SplitCondition(expr string) Condition {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return Condition{Signal: expr}
	}
	e = unparen(e)
	gate := ""
	if b, ok := e.(*parser.BinaryExpr); ok && (b.Op == parser.LAND || b.Op == parser.LUNLESS) {
		if c, ok := unparen(b.LHS).(*parser.BinaryExpr); ok && c.Op.IsComparisonOperator() && !c.ReturnBool {
			whole := b.String()
			gate = strings.TrimSpace(whole[len(b.LHS.String()):])
			e = c
		}
	}
	b, ok := e.(*parser.BinaryExpr)
	if !ok || !b.Op.IsComparisonOperator() || b.ReturnBool {
		return Condition{Signal: expr}
	}
	lhs, rhs, op := b.LHS, b.RHS, b.Op.String()
	if _, num := lhs.(*parser.NumberLiteral); num {
		lhs, rhs, op = rhs, lhs, flip(op)
	}
	return Condition{Signal: lhs.String(), Op: op, Threshold: rhs.String(), Gate: gate}
}

// unparen strips the parentheses around e.
func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// flip turns `1 < x` into `x > 1`.
func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case ">":
		return "<"
	case "<=":
		return ">="
	case ">=":
		return "<="
	}
	return op
}

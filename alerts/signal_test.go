package alerts

import "testing"

func TestSplitCondition(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want Condition
	}{
		{`sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05`,
			Condition{Signal: `sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))`, Op: ">", Threshold: "0.05"}},
		{`(up{job="node"} == 0)`, Condition{Signal: `up{job="node"}`, Op: "==", Threshold: "0"}},
		{`0.5 >= ratio`, Condition{Signal: "ratio", Op: "<=", Threshold: "0.5"}},
		{`a < 0.5 * (b offset 1w)`, Condition{Signal: "a", Op: "<", Threshold: "0.5 * (b offset 1w)"}},
		{`absent(up{job="x"})`, Condition{Signal: `absent(up{job="x"})`}},
		{`x > bool 1`, Condition{Signal: `x > bool 1`}},
		{`sum(x) > 1 and on() vector(1)`, Condition{Signal: `sum(x)`, Op: ">", Threshold: "1", Gate: `and on () vector(1)`}},
		{"(kpi:ratio / kpi:baseline:ratio) < 0.5\nand\nkpi:volume >= 100",
			Condition{Signal: "(kpi:ratio / kpi:baseline:ratio)", Op: "<", Threshold: "0.5", Gate: "and kpi:volume >= 100"}},
		{`x > 1 unless y`, Condition{Signal: "x", Op: ">", Threshold: "1", Gate: "unless y"}},
		{`x and y > 1`, Condition{Signal: `x and y > 1`}},
		{`x > 1 or y > 2`, Condition{Signal: `x > 1 or y > 2`}},
		{`not promql (`, Condition{Signal: `not promql (`}},
	} {
		if got := SplitCondition(tc.expr); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.expr, got, tc.want)
		}
	}
}

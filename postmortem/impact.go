package postmortem

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/oncallhq/oncall/postmortem/textchart"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Impact is the estimate of an incident's impact from the series oncall
// can query: against the service's SLOs and KPIs when it has some (the
// objectives configured for the scaffold, else the series the SLO and KPI
// rules record: slo:sli_error:ratio_rate5m, kpi:ratio and their
// companions), else from the queries of the alert rules that fired.
type Impact struct {
	// Basis is "slo" (SLOs or KPIs), "rules", or "" when nothing could
	// be measured.
	Basis string `json:"basis,omitempty"`
	// From and To are the range charted: the impact with some margin.
	From       time.Time         `json:"from,omitzero"`
	To         time.Time         `json:"to,omitzero"`
	Step       time.Duration     `json:"step_ns,omitempty"`
	Objectives []ObjectiveImpact `json:"objectives,omitempty"`
	KPIs       []KPIImpact       `json:"kpis,omitempty"`
	Series     []SeriesImpact    `json:"series,omitempty"`
	// PeakAt is when the first measure was worst.
	PeakAt time.Time `json:"peak_at,omitzero"`
	// HeldSince is when the condition of a rule (HeldRule) began to hold
	// without a break up to the detection, as its query says: the impact
	// began then, before the rule's for and the first page.
	HeldSince time.Time `json:"held_since,omitzero"`
	HeldRule  string    `json:"held_rule,omitempty"`
}

// ObjectiveImpact is what the incident cost an SLO.
type ObjectiveImpact struct {
	Name      string        `json:"name"`
	Service   string        `json:"service"`
	Objective float64       `json:"objective"`
	Window    time.Duration `json:"window_ns"`
	// BudgetBurned is the share of the window's error budget the
	// incident spent (1 is all of it).
	BudgetBurned float64 `json:"budget_burned"`
	// Lost is the bad events, when the objective gives their rate.
	Lost    float64   `json:"lost,omitempty"`
	HasLost bool      `json:"has_lost,omitempty"`
	Peak    float64   `json:"peak"`
	PeakAt  time.Time `json:"peak_at,omitzero"`
	Chart   []string  `json:"chart,omitempty"`
}

// SeriesImpact is one series of an alert rule's query over the incident.
type SeriesImpact struct {
	Rule string `json:"rule"`
	// Expr is what was charted: the rule's expression without its
	// threshold, which Op and Threshold give.
	Expr         string  `json:"expr"`
	Labels       string  `json:"labels,omitempty"`
	Op           string  `json:"op,omitempty"`
	Threshold    float64 `json:"threshold,omitempty"`
	HasThreshold bool    `json:"has_threshold,omitempty"`
	// Peak is the worst value during the impact (the lowest for a rule
	// that fires below its threshold), at PeakAt.
	Peak   float64   `json:"peak"`
	PeakAt time.Time `json:"peak_at,omitzero"`
	// Baseline is the median before the impact began.
	Baseline    float64 `json:"baseline,omitempty"`
	HasBaseline bool    `json:"has_baseline,omitempty"`
	// Beyond is how long the samples were past the threshold.
	Beyond time.Duration `json:"beyond_ns,omitempty"`
	// HeldSince is when the samples went past the threshold without a
	// break up to the detection.
	HeldSince time.Time `json:"held_since,omitzero"`
	// Events, for a per-second rate, is how many events the series fell
	// short of its baseline ("lost") or exceeded it by ("extra").
	Events     float64  `json:"events,omitempty"`
	EventsKind string   `json:"events_kind,omitempty"`
	Chart      []string `json:"chart,omitempty"`
}

// Chart sizes in a document.
const (
	chartWidth  = 60
	chartHeight = 6
	// maxSeries bounds the series charted per rule.
	maxSeries = 3
	// maxRules bounds the rules whose queries are charted.
	maxRules = 3
)

// impact estimates the impact over [fm.Started, the mitigation].
func impact(ctx context.Context, q RangeQuerier, objs []Objective, fm FrontMatter, rules []RuleUse, end time.Time, missing *[]string) Impact {
	if q == nil {
		*missing = append(*missing, "the metrics")
		return Impact{}
	}
	start, stop := fm.Started, fm.Mitigated
	if stop.IsZero() {
		stop = end
	}
	if start.IsZero() || !stop.After(start) {
		return Impact{}
	}
	pad := max(10*time.Minute, stop.Sub(start)/4)
	im := Impact{From: start.Add(-pad), To: stop.Add(pad)}
	im.Step = niceStep(im.To.Sub(im.From) / 120)
	// On a grid of the step, so that the same incident charts the same.
	im.From = im.From.Truncate(im.Step)
	configured := map[string]bool{}
	for _, o := range objs {
		if !slices.Contains(fm.Services, o.Service) || o.ErrorRatio == "" {
			continue
		}
		configured[o.Service] = true
		oi, err := objectiveImpact(ctx, q, o, start, stop, im)
		if err != nil {
			*missing = append(*missing, fmt.Sprintf("SLO %s: %v", o.Name, err))
			continue
		}
		im.Objectives = append(im.Objectives, oi)
		if im.PeakAt.IsZero() {
			im.PeakAt = oi.PeakAt
		}
	}
	for _, sv := range fm.Services {
		if !configured[sv] {
			ois, err := recordedObjectives(ctx, q, sv, start, stop, im)
			if err != nil {
				*missing = append(*missing, fmt.Sprintf("the SLO series of %s: %v", sv, err))
			}
			im.Objectives = append(im.Objectives, ois...)
		}
		kis, err := recordedKPIs(ctx, q, sv, start, stop, im)
		if err != nil {
			*missing = append(*missing, fmt.Sprintf("the KPI series of %s: %v", sv, err))
		}
		im.KPIs = append(im.KPIs, kis...)
	}
	for _, oi := range im.Objectives {
		if im.PeakAt.IsZero() {
			im.PeakAt = oi.PeakAt
		}
	}
	for _, ki := range im.KPIs {
		if im.PeakAt.IsZero() {
			im.PeakAt = ki.LowestAt
		}
	}
	n := 0
	for _, r := range rules {
		if !r.Defined || n == maxRules {
			continue
		}
		n++
		lhs, op, thr, has := splitThreshold(r.Rule.Expr)
		ss, err := q.Range(ctx, lhs, im.From, im.To, im.Step)
		if err != nil {
			*missing = append(*missing, fmt.Sprintf("the series of %s: %v", r.Name, err))
			continue
		}
		var sis []SeriesImpact
		for _, s := range ss {
			si := seriesImpact(s, lhs, start, stop, im, op, thr, has)
			si.Rule = r.Name
			si.HeldSince = heldSince(s, fm.Detected, op, thr, has)
			if !si.HeldSince.IsZero() && (im.HeldSince.IsZero() || si.HeldSince.Before(im.HeldSince)) {
				im.HeldSince, im.HeldRule = si.HeldSince, r.Name
			}
			sis = append(sis, si)
		}
		// The worst series first.
		slices.SortStableFunc(sis, func(a, b SeriesImpact) int {
			if below(op) {
				return compare(a.Peak, b.Peak)
			}
			return compare(b.Peak, a.Peak)
		})
		if len(sis) > maxSeries {
			sis = sis[:maxSeries]
		}
		im.Series = append(im.Series, sis...)
	}
	switch {
	case len(im.Objectives) > 0 || len(im.KPIs) > 0:
		im.Basis = "slo"
	case len(im.Series) > 0:
		im.Basis = "rules"
	}
	if im.PeakAt.IsZero() {
		for _, s := range im.Series {
			if !s.PeakAt.IsZero() {
				im.PeakAt = s.PeakAt
				break
			}
		}
	}
	return im
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// below says a comparison fires when the value falls.
func below(op string) bool { return op == "<" || op == "<=" }

// splitThreshold splits an alert expression "lhs op number" into its
// parts; an expression of another shape is charted whole.
func splitThreshold(expr string) (lhs, op string, thr float64, ok bool) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return expr, "", 0, false
	}
	b, isBin := unparen(e).(*parser.BinaryExpr)
	if !isBin || !b.Op.IsComparisonOperator() || b.ReturnBool {
		return expr, "", 0, false
	}
	if n, isNum := unparen(b.RHS).(*parser.NumberLiteral); isNum {
		return b.LHS.String(), b.Op.String(), n.Val, true
	}
	if n, isNum := unparen(b.LHS).(*parser.NumberLiteral); isNum {
		// 0.5 > x is x < 0.5.
		flip := map[string]string{"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
		return b.RHS.String(), flip[b.Op.String()], n.Val, true
	}
	return expr, "", 0, false
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

func holds(op string, v, thr float64) bool {
	switch op {
	case "<":
		return v < thr
	case "<=":
		return v <= thr
	case ">":
		return v > thr
	case ">=":
		return v >= thr
	case "==":
		return v == thr
	case "!=":
		return v != thr
	}
	return false
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// heldSince is when the condition began to hold without a break up to
// detected (zero if it did not hold then).
func heldSince(s metrics.Series, detected time.Time, op string, thr float64, has bool) time.Time {
	if !has {
		return time.Time{}
	}
	var run time.Time
	for _, p := range s.Points {
		if p.T.After(detected) {
			break
		}
		switch {
		case !holds(op, p.V, thr):
			run = time.Time{}
		case run.IsZero():
			run = p.T
		}
	}
	return run
}

// niceStep is the first of the usual steps at least d.
func niceStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		if s >= d {
			return s
		}
	}
	return d.Truncate(time.Hour) + time.Hour
}

// isRate says expr is a per-second rate of events: rate or irate, maybe
// summed, not a ratio of them.
func isRate(expr string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return false
	}
	for {
		switch x := unparen(e).(type) {
		case *parser.AggregateExpr:
			if x.Op != parser.SUM && x.Op != parser.MAX && x.Op != parser.MIN && x.Op != parser.AVG {
				return false
			}
			e = x.Expr
		case *parser.Call:
			return x.Func.Name == "rate" || x.Func.Name == "irate"
		default:
			return false
		}
	}
}

// seriesImpact measures one series over the impact [start, stop].
func seriesImpact(s metrics.Series, expr string, start, stop time.Time, im Impact, op string, thr float64, has bool) SeriesImpact {
	si := SeriesImpact{Expr: expr, Labels: s.Labels.String(), Op: op, Threshold: thr, HasThreshold: has}
	var before []float64
	first := true
	for _, p := range s.Points {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		if p.T.Before(start) {
			before = append(before, p.V)
			continue
		}
		if p.T.After(stop) {
			continue
		}
		worse := p.V > si.Peak
		if below(op) {
			worse = p.V < si.Peak
		}
		if first || worse {
			si.Peak, si.PeakAt, first = p.V, p.T, false
		}
		if has && holds(op, p.V, thr) {
			si.Beyond += im.Step
		}
	}
	if len(before) > 0 {
		si.Baseline, si.HasBaseline = median(before), true
	}
	if si.HasBaseline && isRate(expr) {
		si.Events, si.EventsKind = events(s, start, stop, im.Step, si.Baseline, below(op))
	}
	si.Chart = textchart.Chart(points(s), im.From, im.To, chartWidth, chartHeight)
	return si
}

// events sums how far a per-second rate fell below (or rose above) its
// baseline over [start, stop].
func events(s metrics.Series, start, stop time.Time, step time.Duration, base float64, drop bool) (float64, string) {
	var sum float64
	for _, p := range s.Points {
		if p.T.Before(start) || p.T.After(stop) || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		d := p.V - base
		if drop {
			d = -d
		}
		sum += max(0, d) * step.Seconds()
	}
	if drop {
		return sum, "lost"
	}
	return sum, "extra"
}

func points(s metrics.Series) []textchart.Point {
	out := make([]textchart.Point, len(s.Points))
	for i, p := range s.Points {
		out[i] = textchart.Point{T: p.T, V: p.V}
	}
	return out
}

// objectiveImpact is the budget an SLO lost over [start, stop].
func objectiveImpact(ctx context.Context, q RangeQuerier, o Objective, start, stop time.Time, im Impact) (ObjectiveImpact, error) {
	window := o.Window
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	oi := ObjectiveImpact{Name: o.Name, Service: o.Service, Objective: o.Objective, Window: window}
	if o.Objective <= 0 || o.Objective >= 100 {
		return oi, fmt.Errorf("objective %v: want a percentage below 100", o.Objective)
	}
	ratio, err := q.Range(ctx, o.ErrorRatio, im.From, im.To, im.Step)
	if err != nil || len(ratio) == 0 {
		if err == nil {
			err = fmt.Errorf("no samples of %s", o.ErrorRatio)
		}
		return oi, err
	}
	var total *metrics.Series
	if o.Total != "" {
		if ts, err := q.Range(ctx, o.Total, im.From, im.To, im.Step); err == nil && len(ts) > 0 {
			total = &ts[0]
		}
	}
	return burned(oi, ratio[0], total, start, stop, im), nil
}

// burned is what the error ratio r (and the rate of all events, total,
// when known) cost the objective oi over [start, stop].
func burned(oi ObjectiveImpact, r metrics.Series, total *metrics.Series, start, stop time.Time, im Impact) ObjectiveImpact {
	// The error ratio integrated over time: seconds of total failure.
	var badSeconds float64
	first := true
	for _, p := range r.Points {
		if p.T.Before(start) || p.T.After(stop) || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		badSeconds += p.V * im.Step.Seconds()
		if first || p.V > oi.Peak {
			oi.Peak, oi.PeakAt, first = p.V, p.T, false
		}
	}
	budget := (1 - oi.Objective/100) * oi.Window.Seconds()
	oi.BudgetBurned = badSeconds / budget
	if total != nil {
		at := map[int64]float64{}
		for _, p := range r.Points {
			at[p.T.UnixMilli()] = p.V
		}
		for _, p := range total.Points {
			if p.T.Before(start) || p.T.After(stop) {
				continue
			}
			if v, ok := at[p.T.UnixMilli()]; ok && !math.IsNaN(v*p.V) {
				oi.Lost += v * p.V * im.Step.Seconds()
			}
		}
		oi.HasLost = true
	}
	oi.Chart = textchart.Chart(points(r), im.From, im.To, chartWidth, chartHeight)
	return oi
}

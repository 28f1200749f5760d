package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// ResolvedRetention is how long a resolved alert is kept, as in Prometheus,
// so that its resolution is seen by every consumer.
const ResolvedRetention = 15 * time.Minute

// Querier is the part of a metrics source the evaluator needs.
type Querier interface {
	Instant(ctx context.Context, expr string, at time.Time) (metrics.Vector, error)
}

// Evaluator evaluates alerting rules with Prometheus semantics and keeps the
// state of every alert between evaluations. It is not safe for concurrent use.
type Evaluator struct {
	rules  []Rule
	src    Querier
	active []map[uint64]*RuleAlert // per rule, by fingerprint
}

// RuleError is a failed evaluation of one rule.
type RuleError struct {
	Rule Rule
	Err  error
}

// Error names the rule and where it is defined.
func (e RuleError) Error() string {
	return fmt.Sprintf("%s: rule %q: %v", e.Rule.Where(), e.Rule.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e RuleError) Unwrap() error { return e.Err }

// NewEvaluator returns an evaluator for rules reading from src.
func NewEvaluator(rules []Rule, src Querier) *Evaluator {
	e := &Evaluator{rules: rules, src: src, active: make([]map[uint64]*RuleAlert, len(rules))}
	for i := range e.active {
		e.active[i] = map[uint64]*RuleAlert{}
	}
	return e
}

// Rules returns the rules being evaluated.
func (e *Evaluator) Rules() []Rule { return e.rules }

// Restore puts back alerts saved before a restart, so that `for` clocks and
// firing states carry on instead of starting over. Alerts of rules that no
// longer exist are dropped.
func (e *Evaluator) Restore(saved []RuleAlert) {
	byName := map[string][]int{}
	for i, r := range e.rules {
		byName[r.Name] = append(byName[r.Name], i)
	}
	for _, a := range saved {
		for _, i := range byName[a.Rule] {
			if labelsMatchRule(a.Labels, e.rules[i]) {
				c := a
				e.active[i][a.Fingerprint()] = &c
				break
			}
		}
	}
}

func labelsMatchRule(ls labels.Labels, r Rule) bool {
	for k, v := range r.Labels {
		if !strings.Contains(v, "{{") && ls.Get(k) != v {
			return false
		}
	}
	return true
}

// Eval evaluates every rule at now and returns all alerts (pending, firing and
// recently resolved) plus the errors of rules that failed. A failing rule
// keeps its alerts as they were, as Prometheus does.
func (e *Evaluator) Eval(ctx context.Context, now time.Time) ([]RuleAlert, error) {
	var errs []error
	for i, r := range e.rules {
		if err := e.evalRule(ctx, i, r, now); err != nil {
			errs = append(errs, RuleError{Rule: r, Err: err})
		}
	}
	return e.Alerts(), errors.Join(errs...)
}

// Alerts returns the current alerts, ordered by rule then labels.
func (e *Evaluator) Alerts() []RuleAlert {
	var out []RuleAlert
	for i := range e.rules {
		for _, fp := range slices.Sorted(maps.Keys(e.active[i])) {
			out = append(out, *e.active[i][fp])
		}
	}
	slices.SortStableFunc(out, func(a, b RuleAlert) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return labels.Compare(a.Labels, b.Labels)
	})
	return out
}

func (e *Evaluator) evalRule(ctx context.Context, i int, r Rule, now time.Time) error {
	vec, err := e.src.Instant(ctx, r.Expr, now)
	if err != nil {
		return err
	}
	seen := map[uint64]bool{}
	for _, s := range vec {
		a := e.instance(ctx, r, s, now)
		fp := a.Fingerprint()
		if seen[fp] {
			return errors.New("vector contains metrics with the same labelset after applying alert labels")
		}
		seen[fp] = true
		if old, ok := e.active[i][fp]; ok && old.State != StateResolved {
			old.Value, old.Annotations, old.LastSeenAt = a.Value, a.Annotations, now
			old.KeepFiringSince = time.Time{}
			continue
		}
		a.State, a.ActiveAt, a.LastSeenAt = StatePending, now, now
		e.active[i][fp] = &a
	}
	for fp, a := range e.active[i] {
		if !seen[fp] {
			keep := false
			if a.State == StateFiring && r.KeepFiringFor > 0 {
				if a.KeepFiringSince.IsZero() {
					a.KeepFiringSince = now
				}
				keep = now.Sub(a.KeepFiringSince) < r.KeepFiringFor
			}
			if a.State == StatePending || (!a.ResolvedAt.IsZero() && now.Sub(a.ResolvedAt) > ResolvedRetention) {
				delete(e.active[i], fp)
				continue
			}
			if a.State != StateResolved && !keep {
				a.State, a.ResolvedAt = StateResolved, now
			}
			if !keep {
				continue
			}
		}
		if a.State == StatePending && now.Sub(a.ActiveAt) >= r.For {
			a.State, a.FiredAt = StateFiring, now
		}
	}
	return nil
}

// instance builds the alert for one sample: labels and annotations expanded
// with the sample's labels and value, as Prometheus does.
func (e *Evaluator) instance(ctx context.Context, r Rule, s metrics.Sample, now time.Time) RuleAlert {
	data := template.AlertTemplateData(s.Labels.Map(), nil, "", promql.Sample{F: s.Value})
	expand := func(name, text string) string {
		if !strings.Contains(text, "{{") {
			return text
		}
		defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
		ex := template.NewTemplateExpander(ctx, defs+text, "__alert_"+r.Name, data, model.TimeFromUnixNano(now.UnixNano()), e.queryFunc, nil, nil)
		out, err := ex.Expand()
		if err != nil {
			return fmt.Sprintf("<error expanding template: %v>", err)
		}
		return out
	}
	b := labels.NewBuilder(s.Labels).Del(labels.MetricName)
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		b.Set(k, expand(k, r.Labels[k]))
	}
	b.Set(labels.AlertName, r.Name)
	ann := make(map[string]string, len(r.Annotations))
	for k, v := range r.Annotations {
		ann[k] = expand(k, v)
	}
	return RuleAlert{Rule: r.Name, Labels: b.Labels(), Annotations: ann, Value: s.Value}
}

func (e *Evaluator) queryFunc(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	v, err := e.src.Instant(ctx, q, t)
	if err != nil {
		return nil, err
	}
	out := make(promql.Vector, len(v))
	for i, s := range v {
		out[i] = promql.Sample{Metric: s.Labels, T: s.T.UnixMilli(), F: s.Value}
	}
	return out, nil
}

package probe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Alerts proves "alerts a human if it is down" by walking oncall's own
// configuration, one link at a time:
//
//  1. rule: an alerting rule covers the service being down: it reads up
//     (or probe_success), asks absent() / absent_over_time(), or is an SLO
//     rule, and it is about the service (its service label, or a
//     service, job or sloth_service matcher, or no such matcher at all);
//  2. series: the rule's selector matches the service's series at the
//     metrics source (a rule on a selector that matches nothing never
//     fires);
//  3. route: the alert it would send (the series' labels and the rule's)
//     routes to a receiver with an incident integration;
//  4. on-call: the first step of that incident's escalation policy has a
//     person on call at every hour of the next params.horizon (14 days).
type Alerts struct {
	// Rules are the rules oncall evaluates.
	Rules []alerts.Rule
	// Routing is the routing tree.
	Routing *routing.Config
	// Incidents maps a receiver to the escalation policy of the incidents
	// it opens (receivers without an incident integration are absent).
	Incidents map[string]string
	// People are the users, schedules and policies.
	People schedule.Directory
	// Query asks the metrics source; nil leaves the series link an error.
	Query Querier
}

// downMetrics are the series whose value says whether a target is up.
var downMetrics = []string{"up", "probe_success"}

// serviceLabels are the labels that name a service on a series.
var serviceLabels = []string{"service", "job", "sloth_service"}

// candidate is an alerting rule that may cover the service being down.
type candidate struct {
	rule alerts.Rule
	// selectors are the ones that say the service is down.
	selectors []*parser.VectorSelector
	// named says the rule names the service (label or matcher); a generic
	// rule covers it only if its selector matches the service's series.
	named bool
	why   string
}

// Probe implements checklist.Prober.
func (p Alerts) Probe(ctx context.Context, t checklist.Target) checklist.Result {
	horizon, err := durationParam(t.Check, "horizon", 14*24*time.Hour)
	if err != nil {
		return errorResult("%v", err)
	}
	svc := t.Service.Name
	cands := p.candidates(svc)
	links := []checklist.Link{{Name: "rule"}, {Name: "series"}, {Name: "route"}, {Name: "on-call"}}
	notChecked := func(from int, why string) checklist.Result {
		for i := from; i < len(links); i++ {
			links[i] = checklist.Link{Name: links[i].Name, Status: checklist.NotReported, Detail: "not checked: " + why}
		}
		return fromLinks(links, "")
	}
	if len(cands) == 0 {
		n := len(alerts.Alerting(p.Rules))
		links[0].Status = checklist.Fail
		links[0].Detail = fmt.Sprintf("no alerting rule covers %s being down (%s looked at): alert on up == 0, absent(up{...}) or an SLO burn rate, with service=%q", svc, plural(n, "alerting rule", "alerting rules"), svc)
		return notChecked(1, "no rule")
	}
	// The first rule whose selector matches the service's series wins;
	// else the first candidate stands for the rest.
	chosen, series, seriesLink := p.series(ctx, cands, svc, t.Now)
	c := cands[chosen]
	links[0] = checklist.Link{Name: "rule", Status: checklist.Pass, Detail: fmt.Sprintf("%s (%s) %s", c.rule.Name, c.rule.Where(), c.why)}
	if len(cands) > 1 {
		links[0].Detail += fmt.Sprintf("; %d more rules cover it", len(cands)-1)
	}
	links[1] = seriesLink
	ls := alertLabels(c, series)
	if p.Routing == nil {
		links[2] = checklist.Link{Name: "route", Status: checklist.Error, Detail: "no routing configuration to walk"}
		return notChecked(3, "no route")
	}
	policy, routeLink := p.route(ls)
	links[2] = routeLink
	if policy == "" {
		return notChecked(3, "no receiver opens an incident")
	}
	links[3] = p.onCall(policy, t.Now, horizon)
	res := fromLinks(links, "")
	if res.Status == checklist.Pass {
		res.Summary = fmt.Sprintf("%s → %s → policy %s: a person on call every hour of the next %s", c.rule.Name, routeReceiver(routeLink), policy, days(horizon))
	}
	return res
}

func routeReceiver(l checklist.Link) string {
	r, _, _ := strings.Cut(strings.TrimPrefix(l.Detail, "routes to receiver "), " ")
	return r
}

// candidates are the alerting rules that may cover svc being down.
func (p Alerts) candidates(svc string) []candidate {
	var out []candidate
	for _, r := range alerts.Alerting(p.Rules) {
		if v, ok := r.Labels["service"]; ok && v != svc {
			continue
		}
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
		if err != nil {
			continue
		}
		var sels []*parser.VectorSelector
		why := ""
		_, slo := r.Labels["sloth_slo"]
		if _, ok := r.Labels["slo"]; ok {
			slo = true
		}
		parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			switch {
			case inAbsent(path):
				sels, why = append(sels, vs), "alerts when the series are absent"
			case slices.Contains(downMetrics, alerts.SelectorMetric(vs)):
				sels = append(sels, vs)
				if why == "" {
					why = "alerts on " + alerts.SelectorMetric(vs)
				}
			case slo:
				sels = append(sels, vs)
				if why == "" {
					why = "is an SLO burn-rate alert"
				}
			}
			return nil
		})
		if len(sels) == 0 {
			continue
		}
		named, other := r.Labels["service"] == svc, false
		for _, vs := range sels {
			for _, m := range vs.LabelMatchers {
				if !slices.Contains(serviceLabels, m.Name) || m.Type == labels.MatchNotEqual || m.Type == labels.MatchNotRegexp {
					continue
				}
				if m.Matches(svc) {
					named = true
				} else if m.Type == labels.MatchEqual {
					other = true
				}
			}
		}
		if other && !named {
			continue
		}
		out = append(out, candidate{rule: r, selectors: sels, named: named, why: why})
	}
	// Rules that name the service first.
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.named == b.named:
			return 0
		case a.named:
			return -1
		}
		return 1
	})
	return out
}

func inAbsent(path []parser.Node) bool {
	for _, n := range path {
		if c, ok := n.(*parser.Call); ok && (c.Func.Name == "absent" || c.Func.Name == "absent_over_time") {
			return true
		}
	}
	return false
}

// series asks the source for each candidate's selectors and returns the
// first candidate whose selector matches the service's series, those
// series, and the link.
func (p Alerts) series(ctx context.Context, cands []candidate, svc string, now time.Time) (int, metrics.Vector, checklist.Link) {
	l := checklist.Link{Name: "series"}
	if p.Query == nil {
		l.Status, l.Detail = checklist.Error, "no metrics source to ask whether the selector matches anything"
		return 0, nil, l
	}
	var tried []string
	var qerr error
	for i, c := range cands {
		for _, vs := range c.selectors {
			sel := vs.String()
			res, err := p.Query.Query(ctx, sel, now)
			if err != nil {
				qerr = err
				continue
			}
			var mine metrics.Vector
			for _, s := range res.Vector {
				if c.named || ofService(s.Labels, svc) {
					mine = append(mine, s)
				}
			}
			if len(mine) > 0 {
				l.Status = checklist.Pass
				l.Detail = fmt.Sprintf("%s matches %s of %s at the source", sel, plural(len(mine), "series", "series"), svc)
				return i, mine, l
			}
			tried = append(tried, sel)
		}
	}
	if len(tried) == 0 && qerr != nil {
		l.Status, l.Detail = checklist.Error, fmt.Sprintf("the metrics source did not answer: %v", qerr)
		return 0, nil, l
	}
	l.Status = checklist.Fail
	l.Detail = fmt.Sprintf("%s match no series of %s at the source (a series with service=%q or job=%q): the rule can never fire for it", strings.Join(tried, ", "), svc, svc, svc)
	if len(tried) == 1 {
		l.Detail = strings.Replace(l.Detail, " match no ", " matches no ", 1)
	}
	return 0, nil, l
}

func ofService(ls labels.Labels, svc string) bool {
	for _, n := range serviceLabels {
		if ls.Get(n) == svc {
			return true
		}
	}
	return false
}

// alertLabels approximates the labels of the alert the rule would send:
// the series' labels (or the selector's equality matchers when no series
// answered) and the rule's own, with its alertname.
func alertLabels(c candidate, series metrics.Vector) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	if len(series) > 0 {
		series[0].Labels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
	} else {
		for _, m := range c.selectors[0].LabelMatchers {
			if m.Type == labels.MatchEqual && m.Value != "" {
				b.Set(m.Name, m.Value)
			}
		}
	}
	b.Del(labels.MetricName)
	for k, v := range c.rule.Labels {
		if !strings.Contains(v, "{{") {
			b.Set(k, v)
		}
	}
	b.Set(labels.AlertName, c.rule.Name)
	return b.Labels()
}

// route walks the routing tree with the alert's labels and returns the
// policy of the first receiver that opens an incident.
func (p Alerts) route(ls labels.Labels) (string, checklist.Link) {
	l := checklist.Link{Name: "route"}
	var receivers []string
	for _, r := range p.Routing.Root.Match(ls) {
		if policy, ok := p.Incidents[r.Receiver]; ok && policy != "" {
			l.Status = checklist.Pass
			l.Detail = fmt.Sprintf("routes to receiver %s (route %s), which opens an incident with policy %s", r.Receiver, r.Key(), policy)
			return policy, l
		}
		receivers = append(receivers, r.Receiver)
	}
	l.Status = checklist.Fail
	l.Detail = fmt.Sprintf("an alert with %s routes to %s, which opens no incident: give it receivers: [{name: ..., incident: {policy: ...}}]", routing.LabelSetString(ls), strings.Join(slices.Compact(receivers), ", "))
	return "", l
}

// onCall checks that the first step of policy has a person at every
// instant of [now, now+horizon).
func (p Alerts) onCall(policy string, now time.Time, horizon time.Duration) checklist.Link {
	l := checklist.Link{Name: "on-call"}
	frozen, err := p.People.Freeze(policy)
	if err != nil {
		l.Status, l.Detail = checklist.Fail, err.Error()
		return l
	}
	step := frozen.Steps[0]
	end := now.Add(horizon)
	// gaps holds the stretches nobody covers so far; a target covering
	// part of them shrinks them.
	gaps := []schedule.Span{{Start: now, End: end}}
	var targets []string
	for _, tg := range step.Targets {
		targets = append(targets, tg.String())
		switch {
		case tg.User != "":
			gaps = nil
		case tg.Schedule != "":
			var uncovered []schedule.Span
			for _, sp := range p.People.Spans(tg.Schedule, now, end, tg.Offset) {
				if len(sp.Users) == 0 {
					uncovered = append(uncovered, sp)
				}
			}
			gaps = intersect(gaps, uncovered)
		}
	}
	name := step.Name
	if name == "" {
		name = "first step"
	}
	if len(gaps) == 0 {
		l.Status = checklist.Pass
		l.Detail = fmt.Sprintf("step 1 (%s: %s) has someone on call every hour until %s", name, strings.Join(targets, ", "), end.UTC().Format("2006-01-02 15:04 MST"))
		return l
	}
	var total time.Duration
	for _, g := range gaps {
		total += g.End.Sub(g.Start)
	}
	g := gaps[0]
	l.Status = checklist.Fail
	l.Detail = fmt.Sprintf("step 1 (%s: %s) of policy %s has nobody on call from %s to %s", name, strings.Join(targets, ", "), policy,
		g.Start.UTC().Format("2006-01-02 15:04"), g.End.UTC().Format("2006-01-02 15:04 MST"))
	if len(gaps) > 1 {
		more := "gaps"
		if len(gaps) == 2 {
			more = "gap"
		}
		l.Detail += fmt.Sprintf(" and %d more %s (%.0f hours uncovered in the next %s)", len(gaps)-1, more, total.Hours(), days(horizon))
	}
	return l
}

// intersect returns the parts of a that b covers too (both sorted and
// disjoint).
func intersect(a, b []schedule.Span) []schedule.Span {
	var out []schedule.Span
	for _, x := range a {
		for _, y := range b {
			s, e := maxTime(x.Start, y.Start), minTime(x.End, y.End)
			if s.Before(e) {
				out = append(out, schedule.Span{Start: s, End: e})
			}
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

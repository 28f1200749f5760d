package lint

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/oncallhq/oncall/alerts"
)

// pagingSeverities are the severity values that page.
var pagingSeverities = []string{"page", "critical"}

// paging reports whether an alert pages (see the package documentation).
func paging(r *Rule) bool {
	sev, ok := r.Labels["severity"]
	if !ok || strings.Contains(sev, "{{") {
		return true
	}
	return slices.Contains(pagingSeverities, strings.ToLower(strings.TrimSpace(sev)))
}

// hasSelector reports whether e reads any series: an expression without
// one (vector(1)) is a constant, such as a watchdog's.
func hasSelector(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if _, ok := n.(*parser.VectorSelector); ok {
			found = true
		}
		return nil
	})
	return found
}

func (l *linter) checkRule(r ruleRef) {
	if r.rule.Record != "" {
		l.checkRecording(r)
	} else {
		l.checkAlert(r)
	}
	l.checkRates(r)
	l.checkCountZero(r)
}

func (l *linter) checkAlert(r ruleRef) {
	rule := r.rule
	out := resultLabels(rule.expr)
	page := paging(rule)
	if _, ok := rule.Labels["severity"]; !ok {
		l.report(r, MissingSeverity, "", 0, "alert has no severity label: it is routed as a page",
			"add labels: {severity: page} (or warning, ticket …) so routing can tell pages from the rest")
	}
	if page {
		if strings.TrimSpace(rule.Annotations["summary"]) == "" {
			l.report(r, MissingSummary, "", rule.lineOf("annotations"), "paging alert has no summary annotation",
				"add annotations: {summary: …}: one line saying what is broken and where, e.g. with {{ $labels.service }}")
		}
		if strings.TrimSpace(rule.Annotations["runbook_url"]) == "" {
			l.report(r, MissingRunbook, "", rule.lineOf("annotations"), "paging alert has no runbook_url annotation",
				"add annotations: {runbook_url: https://…}: what the person paged at 3am does first")
		}
		if _, ok := rule.Labels["service"]; !ok && !out.may("service") {
			l.report(r, MissingService, "", rule.lineOf("expr"), "paging alert has no service label: none in its labels, and its expression's result drops it",
				"add labels: {service: NAME}, or keep service in the result: sum by (service, …) (…)")
		}
		if rule.For == 0 && hasSelector(rule.expr) {
			l.report(r, PageWithoutFor, "", 0, "paging alert has no `for`: a single evaluation that matches pages",
				"add for: (e.g. 5m) so that a scrape blip or a restart does not page; keep_firing_for damps flapping on the way out")
		}
	}
	if u, ok := rule.Annotations["runbook_url"]; ok && strings.TrimSpace(u) != "" && !isHTTPURL(u) {
		l.report(r, RunbookNotURL, "", rule.lineOf("annotations.runbook_url"), fmt.Sprintf("runbook_url %q is not an http(s) URL", u),
			"give the runbook's full address, https://…; templates such as {{ $labels.service }} may fill in parts of it")
	}
	l.checkTemplates(r, out)
	iv := r.interval(l.opts)
	if rule.For > 0 && rule.For < iv {
		l.report(r, ForShorterThanEval, "", rule.lineOf("for"), fmt.Sprintf("for: %s is shorter than the group's evaluation interval %s: the alert is pending for at least %s anyway", dur(rule.For), dur(iv), dur(iv)),
			fmt.Sprintf("set for: to %s or more, or drop it", dur(iv)))
	}
	if rule.KeepFiringFor > 0 && rule.KeepFiringFor < iv {
		l.report(r, KeepFiringNoEffect, "", rule.lineOf("keep_firing_for"), fmt.Sprintf("keep_firing_for: %s is shorter than the group's evaluation interval %s: it never keeps the alert firing", dur(rule.KeepFiringFor), dur(iv)),
			fmt.Sprintf("set keep_firing_for: to a few intervals (%s or more), or drop it", dur(2*iv)))
	}
	if hasSelector(rule.expr) && !l.filters(rule.expr, map[string]bool{}) {
		sev := SeverityWarning
		if page {
			sev = SeverityError
		}
		l.report(r, AlwaysFires, sev, rule.lineOf("expr"), "expression has no comparison or filter: the alert fires for every series it selects",
			"compare with a threshold (… > 0.05), or filter with and/unless; rate(x[5m]) alone is never false")
	}
	parser.Inspect(rule.expr, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok {
			return nil
		}
		switch c.Func.Name {
		case "irate":
			l.report(r, IrateInAlert, "", rule.lineOf("expr"), fmt.Sprintf("%s looks at the last two samples only: the alert flaps with every spike", c),
				"use rate() over a few scrape intervals; irate() is for graphs")
		case "absent", "absent_over_time":
			l.checkAbsent(r, c)
		}
		return nil
	})
}

// checkAbsent flags absent() of selectors with matchers other than
// equality.
func (l *linter) checkAbsent(r ruleRef, c *parser.Call) {
	var vs *parser.VectorSelector
	switch a := unparen(c.Args[0]).(type) {
	case *parser.VectorSelector:
		vs = a
	case *parser.MatrixSelector:
		vs, _ = a.VectorSelector.(*parser.VectorSelector)
	}
	if vs == nil {
		return
	}
	var odd []string
	for _, m := range vs.LabelMatchers {
		if m.Type != labels.MatchEqual {
			odd = append(odd, m.String())
		}
	}
	if len(odd) == 0 {
		return
	}
	l.report(r, AbsentNonEquality, "", r.rule.lineOf("expr"),
		fmt.Sprintf("%s fires only when no series at all matches %s, not when one of them goes away, and the alert carries none of those labels", c, strings.Join(odd, ", ")),
		"write one absent() per expected value with equality matchers, or compare against the expected set with unless/count by")
}

// checkTemplates flags labels that change every evaluation and templates
// reading labels the result never has.
func (l *linter) checkTemplates(r ruleRef, out outLabels) {
	rule := r.rule
	for _, k := range slices.Sorted(maps.Keys(rule.Labels)) {
		u := templateUses(rule.Labels[k])
		if len(u.perEval) > 0 {
			l.report(r, PerEvaluationLabel, "", rule.lineOf("labels."+k),
				fmt.Sprintf("label %s uses %s: its value changes at every evaluation, and with it the alert's identity, so the alert resolves and fires again", k, strings.Join(u.perEval, ", ")),
				"put the value in an annotation (description: … {{ $value }}); labels must only hold what identifies the alert")
		}
		l.checkLabelRefs(r, out, "label "+k, "labels."+k, u.labels)
	}
	for _, k := range slices.Sorted(maps.Keys(rule.Annotations)) {
		l.checkLabelRefs(r, out, "annotation "+k, "annotations."+k, templateUses(rule.Annotations[k]).labels)
	}
}

func (l *linter) checkLabelRefs(r ruleRef, out outLabels, what, field string, refs []string) {
	for _, name := range refs {
		if out.may(name) || name == labels.MetricName {
			continue
		}
		l.report(r, TemplateDroppedLabel, "", r.rule.lineOf(field),
			fmt.Sprintf("%s uses $labels.%s, but the expression's result never has %s: it renders empty", what, name, name),
			fmt.Sprintf("keep %s in the result (by (%s, …), on (%s, …)), or use a static label or another one", name, name, name))
	}
}

// filters reports whether an expression can be empty while its series
// exist: a comparison, and/unless, absent(), ALERTS, or a recorded series
// whose own rule filters.
func (l *linter) filters(e parser.Expr, seen map[string]bool) bool {
	switch e := e.(type) {
	case *parser.VectorSelector:
		name := alerts.SelectorMetric(e)
		if name == "ALERTS" || name == "ALERTS_FOR_STATE" {
			return true
		}
		if seen[name] {
			return false
		}
		seen[name] = true
		for _, rec := range l.recorded[name] {
			if l.filters(rec.rule.expr, seen) {
				return true
			}
		}
		return false
	case *parser.ParenExpr:
		return l.filters(e.Expr, seen)
	case *parser.UnaryExpr:
		return l.filters(e.Expr, seen)
	case *parser.SubqueryExpr:
		return l.filters(e.Expr, seen)
	case *parser.StepInvariantExpr:
		return l.filters(e.Expr, seen)
	case *parser.AggregateExpr:
		return l.filters(e.Expr, seen)
	case *parser.Call:
		if e.Func.Name == "absent" || e.Func.Name == "absent_over_time" {
			return true
		}
		for _, a := range e.Args {
			if l.filters(a, seen) {
				return true
			}
		}
		return false
	case *parser.BinaryExpr:
		switch {
		case e.Op.IsComparisonOperator() && !e.ReturnBool:
			return true
		case e.Op == parser.LAND || e.Op == parser.LUNLESS:
			return true
		case e.Op == parser.LOR:
			return l.filters(e.LHS, seen) && l.filters(e.RHS, seen)
		}
		return l.filters(e.LHS, seen) || l.filters(e.RHS, seen)
	}
	return false
}

// rateFuncs need two samples in their window.
var rateFuncs = []string{"rate", "irate", "increase", "delta", "idelta", "deriv"}

// checkRates flags rate() windows too short for the scrape (or recording)
// interval, and rate() of an aggregation.
func (l *linter) checkRates(r ruleRef) {
	parser.Inspect(r.rule.expr, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || !slices.Contains(rateFuncs, c.Func.Name) || len(c.Args) == 0 {
			return nil
		}
		switch a := unparen(c.Args[0]).(type) {
		case *parser.MatrixSelector:
			vs, ok := a.VectorSelector.(*parser.VectorSelector)
			if !ok || a.RangeExpr != nil || a.Range <= 0 {
				return nil
			}
			iv, what := l.opts.ScrapeInterval, "scrape interval"
			if recs := l.recorded[alerts.SelectorMetric(vs)]; len(recs) > 0 {
				iv, what = 0, "evaluation interval of the rule recording it"
				for _, rec := range recs {
					iv = max(iv, rec.interval(l.opts))
				}
			}
			var sev Severity
			switch {
			case a.Range < 2*iv:
				sev = SeverityError
			case a.Range < 4*iv:
				sev = SeverityWarning
			default:
				return nil
			}
			l.report(r, RateRangeTooShort, sev, r.rule.lineOf("expr"),
				fmt.Sprintf("%s: the range %s is less than %d× the %s %s, so the window often holds too few samples", c, dur(a.Range), map[Severity]int{SeverityError: 2, SeverityWarning: 4}[sev], what, dur(iv)),
				fmt.Sprintf("use a range of at least %s (4 × %s); if the source scrapes more often, say so with --scrape-interval", dur(4*iv), dur(iv)))
		case *parser.SubqueryExpr:
			if c.Func.Name != "rate" && c.Func.Name != "irate" && c.Func.Name != "increase" {
				return nil
			}
			agg, ok := unparen(a.Expr).(*parser.AggregateExpr)
			if !ok || agg.Op == parser.TOPK || agg.Op == parser.BOTTOMK || agg.Op == parser.LIMITK || agg.Op == parser.LIMIT_RATIO {
				return nil
			}
			l.report(r, RateOfAggregation, "", r.rule.lineOf("expr"),
				fmt.Sprintf("%s() of %s(…) in a subquery: when one series' counter resets, the aggregate drops and %s() sees a huge increase", c.Func.Name, agg.Op, c.Func.Name),
				fmt.Sprintf("aggregate the rates instead: %s by (…) (%s(x[…]))", agg.Op, c.Func.Name))
		}
		return nil
	})
}

// checkCountZero flags count(…) == 0 and count(…) < 1, which never hold.
func (l *linter) checkCountZero(r ruleRef) {
	parser.Inspect(r.rule.expr, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || !b.Op.IsComparisonOperator() || b.ReturnBool {
			return nil
		}
		agg, aggOK := unparen(b.LHS).(*parser.AggregateExpr)
		num, numOK := unparen(b.RHS).(*parser.NumberLiteral)
		op := b.Op
		if !aggOK || !numOK {
			agg, aggOK = unparen(b.RHS).(*parser.AggregateExpr)
			num, numOK = unparen(b.LHS).(*parser.NumberLiteral)
			op = map[parser.ItemType]parser.ItemType{parser.GTR: parser.LSS, parser.GTE: parser.LTE, parser.LSS: parser.GTR, parser.LTE: parser.GTE, parser.EQLC: parser.EQLC, parser.NEQ: parser.NEQ}[op]
		}
		if !aggOK || !numOK || agg.Op != parser.COUNT {
			return nil
		}
		v := num.Val
		if (op == parser.EQLC && v < 1) || (op == parser.LSS && v <= 1) || (op == parser.LTE && v < 1) {
			l.report(r, CountComparedWithZero, "", r.rule.lineOf("expr"),
				fmt.Sprintf("%s never holds: count() of no series is no result, not 0", b),
				fmt.Sprintf("use absent(…) for \"none left\", or (%s or vector(0)) %s %s", agg, op, num))
		}
		return nil
	})
}

// recordingName is level:metric:operations.
var recordingName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*[a-zA-Z0-9_]$`)

func (l *linter) checkRecording(r ruleRef) {
	name := r.rule.Record
	if recordingName.MatchString(name) && !strings.Contains(name, "::") {
		return
	}
	l.report(r, RecordingName, "", 0, fmt.Sprintf("recording rule %s does not follow level:metric:operations", name),
		"name it for the labels it keeps, the metric and what was done to it, e.g. job:http_requests:rate5m")
}

// checkDuplicates flags rules that make the same alerts or series.
func (l *linter) checkDuplicates() {
	byKey := map[string][]ruleRef{}
	var keys []string
	for _, r := range l.rules {
		k := identity(r.rule)
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	for _, k := range keys {
		rs := byKey[k]
		for i := 1; i < len(rs); i++ {
			for j := range i {
				if disjoint(rs[i].rule, rs[j].rule) {
					continue
				}
				first := rs[j]
				if rs[i].rule.Record != "" {
					l.report(rs[i], DuplicateRecording, "", 0,
						fmt.Sprintf("%s with the same labels is also recorded at %s:%d (group %s): the two rules write the same series", rs[i].rule.Record, first.file.Path, first.rule.Line, first.group.Name),
						"give one of them a distinguishing label, or merge their expressions with or")
				} else {
					l.report(rs[i], DuplicateAlert, "", 0,
						fmt.Sprintf("alert %s with the same labels is also defined at %s:%d (group %s): where both match, they make the same alert and overwrite each other's annotations and state", rs[i].rule.Alert, first.file.Path, first.rule.Line, first.group.Name),
						"give each a distinguishing label (severity: warning / page), make their selectors disjoint, or merge them into one rule")
				}
				break
			}
		}
	}
}

// identity is what names a rule's output: kind, name and static labels.
func identity(r *Rule) string {
	var b strings.Builder
	if r.Record != "" {
		b.WriteString("record\x00" + r.Record)
	} else {
		b.WriteString("alert\x00" + r.Alert)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		b.WriteString("\x00" + k + "=" + r.Labels[k])
	}
	return b.String()
}

// disjoint reports whether two rules' results can never share a series: a
// label both fix to different values.
func disjoint(a, b *Rule) bool {
	fa, fb := resultLabels(a.expr).fixed, resultLabels(b.expr).fixed
	for k, v := range fa {
		if _, static := a.Labels[k]; static {
			continue
		}
		if w, ok := fb[k]; ok && w != v {
			return true
		}
	}
	return false
}

// isHTTPURL reports whether s, with its templates left out, is an
// absolute http(s) URL.
func isHTTPURL(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") {
		return true // the template makes the address
	}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		s = s[:i] + "x" + s[i+j+2:]
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// dur prints a duration as rule files write it: 5m, 1h30m.
func dur(d time.Duration) string { return model.Duration(d).String() }

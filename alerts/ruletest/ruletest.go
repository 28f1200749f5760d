// Package ruletest runs rule unit tests in promtool's format (`promtool
// test rules`): input series in the expanding notation, alert_rule_test
// and promql_expr_test at any eval_time, external labels and URL, group
// evaluation order. It evaluates with Prometheus's own rule groups and
// series loader, so a file passes or fails as it does under the promtool
// of the Prometheus version oncall embeds.
package ruletest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"gopkg.in/yaml.v3"
)

// File is one test file.
type File struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []Group        `yaml:"tests"`
	// FuzzyCompare compares sample values with a small tolerance.
	FuzzyCompare bool `yaml:"fuzzy_compare"`
}

// Group is one test group.
type Group struct {
	Name            string            `yaml:"name"`
	Interval        model.Duration    `yaml:"interval"`
	InputSeries     []Series          `yaml:"input_series"`
	AlertRuleTests  []AlertTest       `yaml:"alert_rule_test"`
	PromqlExprTests []ExprTest        `yaml:"promql_expr_test"`
	ExternalLabels  map[string]string `yaml:"external_labels"`
	ExternalURL     string            `yaml:"external_url"`
	// StartTimestamp is when the test's time 0 is (RFC 3339 or Unix
	// seconds; default the Unix epoch).
	StartTimestamp string `yaml:"start_timestamp"`
}

// Series is an input series in the expanding notation ("0+10x5 _ stale").
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest says which alerts of a rule fire at eval_time.
type AlertTest struct {
	EvalTime  model.Duration  `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is a firing alert's labels (alertname implied) and
// annotations.
type ExpectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest says what an expression evaluates to at eval_time.
type ExprTest struct {
	Expr       string           `yaml:"expr"`
	EvalTime   model.Duration   `yaml:"eval_time"`
	ExpSamples []ExpectedSample `yaml:"exp_samples"`
}

// ExpectedSample is one sample of an expected result: a float, or a
// native histogram in the series notation.
type ExpectedSample struct {
	Labels    string  `yaml:"labels"`
	Value     float64 `yaml:"value"`
	Histogram string  `yaml:"histogram"`
}

// Result is the outcome of one file: the failures of every group that
// ran (none: the file passed). Err is set when the file could not run;
// Warnings are what promtool warns of (a rule file pattern that matches
// nothing) and runs on.
type Result struct {
	File     string
	Failures []Failure
	Err      error
	Warnings []string
}

// Passed reports whether the file ran and every expectation held.
func (r Result) Passed() bool { return r.Err == nil && len(r.Failures) == 0 }

// Failure is one expectation that did not hold.
type Failure struct {
	Group string
	// What names the expectation: "alertname X at 10m", "expr ... at 5m".
	What      string
	Want, Got []string
	// Err is an evaluation error instead of a mismatch.
	Err string
}

// String renders the failure over several lines: what, then what was
// expected and what came, with what is missing and what is extra.
func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", f.Group, f.What)
	if f.Err != "" {
		fmt.Fprintf(&b, ": %s", f.Err)
		return b.String()
	}
	list := func(name string, xs []string) {
		if len(xs) == 0 {
			fmt.Fprintf(&b, "\n    %-8s (none)", name+":")
			return
		}
		for i, x := range xs {
			label := ""
			if i == 0 {
				label = name + ":"
			}
			fmt.Fprintf(&b, "\n    %-8s %s", label, x)
		}
	}
	list("want", f.Want)
	list("got", f.Got)
	var missing, extra []string
	for _, w := range f.Want {
		if !slices.Contains(f.Got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range f.Got {
		if !slices.Contains(f.Want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing) > 0 && len(f.Got) > 0 {
		list("missing", missing)
	}
	if len(extra) > 0 && len(f.Want) > 0 {
		list("extra", extra)
	}
	return b.String()
}

var goType = regexp.MustCompile(` in type [A-Za-z0-9_.\[\]*]+`)

// Run runs every test file, each to the end whatever the others did.
func Run(files ...string) []Result {
	out := make([]Result, len(files))
	for i, f := range files {
		out[i] = RunFile(f)
	}
	return out
}

// RunFile runs one test file.
func RunFile(path string) Result {
	res := Result{File: path}
	b, err := os.ReadFile(path)
	if err != nil {
		res.Err = err
		return res
	}
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		// yaml.v3 names Go types; the file's reader knows none.
		msg := goType.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
		res.Err = fmt.Errorf("%s: %s", path, msg)
		return res
	}
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = model.Duration(time.Minute)
	}
	var ruleFiles []string
	for _, rf := range f.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		m, err := filepath.Glob(rf)
		if err != nil {
			res.Err = fmt.Errorf("%s: rule_files: %q: %w", path, rf, err)
			return res
		}
		if len(m) == 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("rule_files: %q matches no file", rf))
		}
		ruleFiles = append(ruleFiles, m...)
	}
	order := map[string]int{}
	for i, g := range f.GroupEvalOrder {
		if _, dup := order[g]; dup {
			res.Err = fmt.Errorf("%s: group_eval_order: group %q twice", path, g)
			return res
		}
		order[g] = i
	}
	for _, name := range unknownGroups(order, ruleFiles) {
		// promtool ignores it; say so at least.
		res.Warnings = append(res.Warnings, fmt.Sprintf("group_eval_order: no group %q in the rule files", name))
	}
	for i, tg := range f.Tests {
		name := tg.Name
		if name == "" {
			name = fmt.Sprintf("tests[%d]", i)
		}
		if tg.Interval == 0 {
			tg.Interval = f.EvaluationInterval
		}
		fs, err := tg.run(name, time.Duration(f.EvaluationInterval), order, ruleFiles, f.FuzzyCompare)
		if err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("%s: %s: %w", path, name, err))
			continue
		}
		res.Failures = append(res.Failures, fs...)
	}
	return res
}

// loadString is the group's input series as promqltest's load command.
func (tg Group) loadString(interval time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "load %v\n", model.Duration(interval))
	for _, s := range tg.InputSeries {
		fmt.Fprintf(&b, "  %s %s\n", s.Series, s.Values)
	}
	return b.String()
}

// maxEvalTime is the last time an expectation is checked at.
func (tg Group) maxEvalTime() time.Duration {
	var m time.Duration
	for _, a := range tg.AlertRuleTests {
		m = max(m, time.Duration(a.EvalTime))
	}
	for _, e := range tg.PromqlExprTests {
		m = max(m, time.Duration(e.EvalTime))
	}
	return m
}

func (tg Group) run(name string, evalInterval time.Duration, order map[string]int, ruleFiles []string, fuzzy bool) ([]Failure, error) {
	interval := time.Duration(tg.Interval)
	for _, at := range tg.AlertRuleTests {
		if at.Alertname == "" {
			return nil, fmt.Errorf("alert_rule_test at eval_time %v: alertname is required", at.EvalTime)
		}
	}
	epoch := time.Unix(0, 0).UTC()
	if tg.StartTimestamp != "" {
		t, err := parseTime(tg.StartTimestamp)
		if err != nil {
			return nil, fmt.Errorf("start_timestamp: %w", err)
		}
		epoch = t
	}
	suite, err := promqltest.NewLazyLoader(tg.loadString(interval), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true, StartTime: epoch})
	if err != nil {
		return nil, fmt.Errorf("input_series: %w", err)
	}
	defer suite.Close()
	suite.SubqueryInterval = evalInterval
	opts := &rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(suite.QueryEngine(), suite.Storage()),
		AppendableV2: suite.Storage(),
		Queryable:    suite.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
	}
	m := rules.NewManager(opts)
	// The groups' own interval is the input's, as promtool loads them;
	// evaluation steps by evaluation_interval.
	loaded, errs := m.LoadGroups(interval, labels.FromMap(tg.ExternalLabels), tg.ExternalURL, nil, false, ruleFiles...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	groups := ordered(loaded, order, ruleFiles)
	// Restored from the start, so that ALERTS is written as they run.
	for _, g := range groups {
		for _, r := range g.AlertingRules() {
			r.SetRestored(true)
		}
	}
	// Alert expectations by eval time, in order.
	byTime := map[time.Duration][]AlertTest{}
	for _, at := range tg.AlertRuleTests {
		byTime[time.Duration(at.EvalTime)] = append(byTime[time.Duration(at.EvalTime)], at)
	}
	times := make([]time.Duration, 0, len(byTime))
	for t := range byTime {
		times = append(times, t)
	}
	slices.Sort(times)
	var fails []Failure
	last := tg.maxEvalTime()
	next := 0
	for ts := time.Duration(0); ts <= last; ts += evalInterval {
		var evalErr error
		suite.WithSamplesTill(epoch.Add(ts), func(err error) {
			if err != nil {
				evalErr = err
				return
			}
			for _, g := range groups {
				g.Eval(suite.Context(), epoch.Add(ts))
				for _, r := range g.Rules() {
					if r.LastError() != nil {
						evalErr = errors.Join(evalErr, fmt.Errorf("rule %s at %v: %w", r.Name(), model.Duration(ts), r.LastError()))
					}
				}
			}
		})
		if evalErr != nil {
			return fails, evalErr
		}
		// An eval_time between two evaluations reads the state of the
		// one before it, as promtool does.
		for next < len(times) && times[next] >= ts && times[next] < ts+evalInterval {
			at := times[next]
			for _, t := range byTime[at] {
				if f, ok := checkAlerts(name, groups, t); !ok {
					fails = append(fails, f)
				}
			}
			next++
		}
	}
	for _, e := range tg.PromqlExprTests {
		if f, ok := checkExpr(name, suite, epoch, e, fuzzy); !ok {
			fails = append(fails, f)
		}
	}
	return fails, nil
}

// ordered puts the groups in group_eval_order as promtool does — a group
// it does not list ranks with the first one listed — and otherwise in the
// order of the files and of their groups.
func ordered(loaded map[string]*rules.Group, order map[string]int, files []string) []*rules.Group {
	gs := make([]*rules.Group, 0, len(loaded))
	for _, g := range loaded {
		gs = append(gs, g)
	}
	fileIndex := func(f string) int { return slices.Index(files, f) }
	rank := func(g *rules.Group) int { return order[g.Name()] }
	sort.SliceStable(gs, func(i, j int) bool {
		if ri, rj := rank(gs[i]), rank(gs[j]); ri != rj {
			return ri < rj
		}
		if fi, fj := fileIndex(gs[i].File()), fileIndex(gs[j].File()); fi != fj {
			return fi < fj
		}
		return gs[i].Name() < gs[j].Name()
	})
	return gs
}

// unknownGroups are the names of group_eval_order no rule file has.
func unknownGroups(order map[string]int, files []string) []string {
	if len(order) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, f := range files {
		set, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
		if len(errs) > 0 {
			return nil
		}
		for _, g := range set.Groups {
			have[g.Name] = true
		}
	}
	var out []string
	for name := range order {
		if !have[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// checkAlerts compares the firing alerts of one rule (in every group)
// with what the test expects.
func checkAlerts(group string, groups []*rules.Group, t AlertTest) (Failure, bool) {
	var got []string
	for _, g := range groups {
		for _, r := range g.AlertingRules() {
			if r.Name() != t.Alertname {
				continue
			}
			for _, a := range r.ActiveAlerts() {
				if a.State == rules.StateFiring {
					got = append(got, alertString(a.Labels, a.Annotations))
				}
			}
		}
	}
	var want []string
	for _, e := range t.ExpAlerts {
		ls := map[string]string{}
		for k, v := range e.ExpLabels {
			ls[k] = v
		}
		ls[labels.AlertName] = t.Alertname // as promtool: the test's name wins
		want = append(want, alertString(labels.FromMap(ls), labels.FromMap(e.ExpAnnotations)))
	}
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return Failure{}, true
	}
	return Failure{Group: group, What: fmt.Sprintf("alertname %s at %v", t.Alertname, model.Duration(t.EvalTime)), Want: want, Got: got}, false
}

func alertString(ls, ann labels.Labels) string {
	if ann.IsEmpty() {
		return ls.String()
	}
	return ls.String() + " annotations " + ann.String()
}

// checkExpr evaluates an expression at its eval_time and compares the
// samples with what the test expects.
func checkExpr(group string, suite *promqltest.LazyLoader, epoch time.Time, e ExprTest, fuzzy bool) (Failure, bool) {
	what := fmt.Sprintf("expr %q at %v", e.Expr, model.Duration(e.EvalTime))
	at := epoch.Add(time.Duration(e.EvalTime))
	var got []sample
	q, err := suite.QueryEngine().NewInstantQuery(suite.Context(), suite.Queryable(), nil, e.Expr, at)
	if err != nil {
		return Failure{Group: group, What: what, Err: err.Error()}, false
	}
	res := q.Exec(suite.Context())
	defer q.Close()
	if res.Err != nil {
		return Failure{Group: group, What: what, Err: res.Err.Error()}, false
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			x := sample{ls: s.Metric, v: s.F}
			if s.H != nil {
				x.h = s.H.TestExpression()
			}
			got = append(got, x)
		}
	case promql.Scalar:
		got = append(got, sample{ls: labels.EmptyLabels(), v: v.V})
	default:
		return Failure{Group: group, What: what, Err: fmt.Sprintf("the expression gives a %s, not an instant vector or a scalar", res.Value.Type())}, false
	}
	var want []sample
	p := parser.NewParser(parser.Options{})
	for _, s := range e.ExpSamples {
		ls, err := p.ParseMetric(s.Labels)
		if err != nil {
			return Failure{Group: group, What: what, Err: fmt.Sprintf("exp_samples labels %q: %v", s.Labels, err)}, false
		}
		x := sample{ls: ls, v: s.Value}
		if s.Histogram != "" {
			_, vals, err := p.ParseSeriesDesc("{} " + s.Histogram)
			switch {
			case err != nil:
			case len(vals) != 1 || vals[0].Histogram == nil:
				err = fmt.Errorf("want one histogram, got %d values", len(vals))
			}
			if err != nil {
				return Failure{Group: group, What: what, Err: fmt.Sprintf("exp_samples histogram %q: %v", s.Histogram, err)}, false
			}
			x.h = vals[0].Histogram.TestExpression()
		}
		want = append(want, x)
	}
	byLabels := func(a, b sample) int { return labels.Compare(a.ls, b.ls) }
	slices.SortFunc(got, byLabels)
	slices.SortFunc(want, byLabels)
	if slices.EqualFunc(got, want, func(a, b sample) bool {
		return labels.Equal(a.ls, b.ls) && a.h == b.h && (a.h != "" || sameValue(a.v, b.v, fuzzy))
	}) {
		return Failure{}, true
	}
	f := Failure{Group: group, What: what}
	for _, s := range want {
		f.Want = append(f.Want, s.String())
	}
	for _, s := range got {
		f.Got = append(f.Got, s.String())
	}
	return f, false
}

type sample struct {
	ls labels.Labels
	v  float64
	h  string // a histogram in the test notation
}

func (s sample) String() string {
	if s.h != "" {
		return s.ls.String() + " " + s.h
	}
	return s.ls.String() + " " + strconv.FormatFloat(s.v, 'g', -1, 64)
}

// sameValue compares sample values as promtool does: exactly — so NaN,
// unequal to itself, never matches an expected NaN — and with
// fuzzy_compare within one unit in the last place either way.
func sameValue(a, b float64, fuzzy bool) bool {
	return a == b || (fuzzy && (math.Nextafter(a, math.Inf(-1)) == b || math.Nextafter(a, math.Inf(1)) == b))
}

// parseTime reads RFC 3339 or Unix seconds (with a fraction).
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 or Unix seconds", s)
}

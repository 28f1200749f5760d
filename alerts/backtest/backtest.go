// Package backtest replays alerting rules over a metrics source's history
// and reports how noisy each would have been: its firing episodes, their
// durations, flaps, pages per week, time spent pending without firing,
// and the label sets that fired most.
//
// Each alerting rule's expression is evaluated with range queries at its
// group's interval, on the instants the group would be evaluated at (its
// slots as oncall's engine and Prometheus place them, spread over the
// interval by the group's name and file, minus the group's query_offset),
// split so that no query has more than 11,000 points. Each instant's
// vector is then fed to Prometheus's own alerting rule (rules.AlertingRule,
// the code that decides pending, firing, for, keep_firing_for, limit and
// the alert's labels), one evaluation after the other, so the state
// machine is Prometheus's and only the queries differ from a real
// evaluation. The replay starts with no state at its first instant: an
// alert already true before then starts pending there, as after a restart
// without restored for-state.
//
// A recorded series that the source does not have anywhere in the window
// is replaced by the expression of the recording rule that would record it
// (see expander); one it has is read as it is. An alert on a recorded
// series of its own group then reads what the rule would have recorded at
// that instant: exact. One on another group's recorded series reads the
// expression at its own instants rather than the value recorded at the
// recording group's last slot, so its episodes may begin and end up to a
// recording interval (plus its own) apart from the real ones, and a value
// right at a threshold may fall either side (rate's last bit of rounding
// depends on where in the scrape interval it is evaluated). A range
// selector over an expanded series is a subquery stepped at the recording
// group's interval from the Unix epoch, not at the group's slots.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"golang.org/x/sync/errgroup"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Source is what a backtest reads: range queries. metrics.Prometheus, the
// embedded source and oncall's client are all one.
type Source interface {
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error)
}

// Recorded says what to do with recorded series an alert reads.
type Recorded string

// The ways of reading recorded series.
const (
	// RecordedAuto reads a recorded series from the source when the source
	// has it in the window, and expands it into its rule's expression
	// otherwise.
	RecordedAuto Recorded = "auto"
	// RecordedSource always reads recorded series from the source.
	RecordedSource Recorded = "source"
	// RecordedExpand always expands them.
	RecordedExpand Recorded = "expand"
)

// ParseRecorded reads auto, source or expand.
func ParseRecorded(s string) (Recorded, error) {
	switch r := Recorded(s); r {
	case RecordedAuto, RecordedSource, RecordedExpand:
		return r, nil
	case "":
		return RecordedAuto, nil
	}
	return "", fmt.Errorf("%q: want auto, source or expand", s)
}

// Options configure a backtest.
type Options struct {
	// Files are the rule files (globs allowed).
	Files []string
	// Generated are rule files made rather than read (the catalogue's
	// SLOs and KPIs, Sloth specs): replayed like Files, reported under
	// their names.
	Generated []alerts.GeneratedFile
	// Since and Until bound the replay.
	Since, Until time.Time
	// Interval is the evaluation interval of groups that set none
	// (default 1m).
	Interval time.Duration
	// ExternalLabels and ExternalURL are what label templates read.
	ExternalLabels labels.Labels
	ExternalURL    string
	// FlapWindow: an episode that begins firing within FlapWindow plus
	// the rule's `for` of the previous episode's end (for the same label
	// set) is a flap — the condition came back within FlapWindow. Default
	// 1h.
	FlapWindow time.Duration
	// PageSeverities are the severity label values that page (default
	// critical and page).
	PageSeverities []string
	// Recorded says how recorded series are read (default auto).
	Recorded Recorded
	// MaxPoints bounds the points of one range query (default and at
	// most MaxPoints).
	MaxPoints int
	// Concurrency is how many queries run at once (default 4).
	Concurrency int
	// Top is how many label sets each rule lists (default 3).
	Top int
}

func (o *Options) defaults() error {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.FlapWindow <= 0 {
		o.FlapWindow = time.Hour
	}
	if o.PageSeverities == nil {
		o.PageSeverities = []string{"critical", "page"}
	}
	if o.Recorded == "" {
		o.Recorded = RecordedAuto
	}
	if o.MaxPoints <= 0 || o.MaxPoints > MaxPoints {
		o.MaxPoints = MaxPoints
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Top <= 0 {
		o.Top = 3
	}
	if o.Since.IsZero() || o.Until.IsZero() {
		return errors.New("backtest: since and until are required")
	}
	if !o.Since.Before(o.Until) {
		return fmt.Errorf("backtest: the window starts at %s, not before its end %s", o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
	}
	return nil
}

// alertRule is one alerting rule to replay, with its group.
type alertRule struct {
	def   alerts.Rule
	rule  *rules.AlertingRule
	group *rules.Group
}

// Run replays every alerting rule of the files over [Since, Until] and
// reports each. Problems with the files or options are returned; a rule
// whose queries fail is reported with its error.
func Run(ctx context.Context, src Source, o Options) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	// Prometheus's rule manager loads files: generated ones are written
	// to a directory of their own for it, and named back in the report.
	named := map[string]string{}
	if len(o.Generated) > 0 {
		dir, err := os.MkdirTemp("", "oncall-backtest-")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(dir)
		o.Files = slices.Clip(o.Files)
		for i, g := range o.Generated {
			p := filepath.Join(dir, fmt.Sprintf("generated-%d.yml", i))
			if err := os.WriteFile(p, g.Content, 0o600); err != nil {
				return Report{}, err
			}
			named[p] = g.Name
			o.Files = append(o.Files, p)
		}
	}
	set, err := alerts.LoadRuleFiles(o.Files)
	if err != nil {
		return Report{}, err
	}
	var files, order []string // as loaded; as reported
	for _, pat := range o.Files {
		m, _ := filepath.Glob(pat)
		slices.Sort(m)
		files = append(files, m...)
	}
	for _, f := range files {
		if name, ok := named[f]; ok {
			f = name
		}
		order = append(order, f)
	}
	logger := slog.New(slog.DiscardHandler)
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc: func(context.Context, string, time.Time) (promql.Vector, error) {
			return nil, errors.New("backtest: no queries here")
		},
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Context:    ctx,
		Logger:     logger,
	})
	loaded, errs := m.LoadGroups(o.Interval, o.ExternalLabels, o.ExternalURL, nil, false, files...)
	if len(errs) > 0 {
		return Report{}, errors.Join(errs...)
	}
	defs := map[string][]alerts.Rule{} // by group key, in order
	for _, r := range set.Rules {
		k := rules.GroupKey(r.File, r.Group)
		defs[k] = append(defs[k], r)
	}
	var recs []recording
	var ars []alertRule
	for k, g := range loaded {
		for i, r := range g.Rules() {
			var def alerts.Rule
			if i < len(defs[k]) {
				def = defs[k][i]
			}
			if name, ok := named[def.File]; ok {
				def.File = name
			}
			switch r := r.(type) {
			case *rules.RecordingRule:
				recs = append(recs, recording{name: r.Name(), expr: r.Query().String(), labels: r.Labels(), interval: g.Interval()})
			case *rules.AlertingRule:
				ars = append(ars, alertRule{def: def, rule: r, group: g})
			}
		}
	}
	sort.Slice(ars, func(i, j int) bool {
		a, b := ars[i].def, ars[j].def
		if a.File != b.File {
			return slices.Index(order, a.File) < slices.Index(order, b.File)
		}
		return a.Line < b.Line
	})

	extURL, err := url.Parse(o.ExternalURL)
	if err != nil {
		return Report{}, fmt.Errorf("backtest: external url %q: %w", o.ExternalURL, err)
	}
	bt := &backtest{src: src, o: o, p: parser.NewParser(parser.Options{}), extURL: extURL}
	expand, err := bt.toExpand(ctx, recs, ars)
	if err != nil {
		return Report{}, err
	}
	x := newExpander(recs, expand)

	rep := Report{Since: o.Since, Until: o.Until, FlapWindow: o.FlapWindow, PageSeverities: o.PageSeverities}
	for name := range expand {
		rep.Expanded = append(rep.Expanded, name)
	}
	slices.Sort(rep.Expanded)
	rep.Rules = make([]RuleReport, len(ars))
	var eg errgroup.Group
	eg.SetLimit(o.Concurrency)
	for i, ar := range ars {
		eg.Go(func() error {
			rep.Rules[i] = bt.replay(ctx, ar, x)
			return nil
		})
	}
	eg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.sort()
	return rep, nil
}

// backtest is one run's shared state.
type backtest struct {
	src    Source
	o      Options
	p      parser.Parser
	extURL *url.URL
}

// toExpand decides which recorded series the alerts read (directly or
// through other recording rules) are replaced by their expressions.
func (bt *backtest) toExpand(ctx context.Context, recs []recording, ars []alertRule) (map[string]bool, error) {
	byName := map[string][]recording{}
	for _, r := range recs {
		byName[r.name] = append(byName[r.name], r)
	}
	expand := map[string]bool{}
	if bt.o.Recorded == RecordedSource || len(recs) == 0 {
		return expand, nil
	}
	seen := map[string]bool{}
	var queue []string
	for _, ar := range ars {
		refs, err := references(bt.p, ar.rule.Query().String())
		if err != nil {
			return nil, err
		}
		queue = append(queue, refs...)
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] || byName[name] == nil {
			continue
		}
		seen[name] = true
		if bt.o.Recorded == RecordedAuto {
			has, err := bt.present(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("looking for the recorded series %s at the source: %w", name, err)
			}
			if has {
				continue
			}
		}
		expand[name] = true
		for _, r := range byName[name] {
			refs, err := references(bt.p, r.expr)
			if err != nil {
				return nil, err
			}
			queue = append(queue, refs...)
		}
	}
	return expand, nil
}

// presenceStep is the step of the range query that asks whether a series
// exists: the default lookback, so that no sample falls between steps.
const presenceStep = 5 * time.Minute

// present reports whether the source has the series name in the window.
func (bt *backtest) present(ctx context.Context, name string) (bool, error) {
	s := steps{first: bt.o.Since, step: presenceStep, n: int(bt.o.Until.Sub(bt.o.Since)/presenceStep) + 1}
	q := fmt.Sprintf("count({__name__=%q})", name)
	for _, c := range chunks(s.n, bt.o.MaxPoints) {
		vs, err := rangeVectors(ctx, bt.src, q, s, c)
		if err != nil {
			return false, err
		}
		for _, v := range vs {
			if len(v) > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// replay evaluates one alerting rule over the window.
func (bt *backtest) replay(ctx context.Context, ar alertRule, x *expander) RuleReport {
	g, r := ar.group, ar.rule
	rep := RuleReport{Alert: r.Name(), Group: g.Name(), File: ar.def.File, Line: ar.def.Line, Interval: g.Interval(), For: r.HoldDuration(),
		KeepFiringFor: r.KeepFiringFor(), Severity: r.Labels().Get("severity")}
	if rep.File == "" {
		rep.File = g.File()
	}
	orig := r.Query().String()
	query, err := x.Rewrite(orig)
	if err != nil {
		rep.Error = fmt.Sprintf("expanding recorded series: %v", err)
		return rep
	}
	rep.Query = query
	// A fresh rule without annotations: they take no part in the state,
	// and expanding their templates every step would cost.
	rule := rules.NewAlertingRule(r.Name(), r.Query(), r.HoldDuration(), r.KeepFiringFor(), r.Labels(), labels.EmptyLabels(),
		bt.o.ExternalLabels, bt.o.ExternalURL, true, slog.New(slog.DiscardHandler))
	s := grid(bt.o.Since, bt.o.Until, g.Interval(), g.QueryOffset(), g.EvalTimestamp)
	rep.Evaluations = s.n
	var tr tracker
	var vecs []promql.Vector
	var base int
	qf := func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		d := t.UnixMilli() - s.queryMillis(base)
		if q != orig || d < 0 || d%s.step.Milliseconds() != 0 || d/s.step.Milliseconds() >= int64(len(vecs)) {
			// A label template's own query.
			return instant(ctx, bt.src, q, t)
		}
		return vecs[d/s.step.Milliseconds()], nil
	}
	for _, c := range chunks(s.n, bt.o.MaxPoints) {
		if vecs, err = rangeVectors(ctx, bt.src, query, s, c); err != nil {
			rep.Error = err.Error()
			return rep
		}
		base = c.from
		for i := c.from; i < c.to; i++ {
			ts := s.at(i)
			if _, err := rule.Eval(ctx, g.QueryOffset(), ts, qf, bt.extURL, g.Limit()); err != nil {
				rep.EvalErrors++
				if rep.FirstEvalError == "" {
					rep.FirstEvalError = fmt.Sprintf("%s: %v", ts.Format(time.RFC3339), err)
				}
			}
			tr.observe(rule, ts)
		}
	}
	tr.finish(bt.o.Until)
	rep.summarize(tr.episodes, tr.unfired, bt.o)
	return rep
}

// instant evaluates q at t with a range query of one point.
func instant(ctx context.Context, src Source, q string, t time.Time) (promql.Vector, error) {
	ss, err := src.Range(ctx, q, t, t, time.Second)
	if err != nil {
		return nil, err
	}
	out := promql.Vector{}
	for _, s := range ss {
		if len(s.Points) > 0 {
			out = append(out, promql.Sample{Metric: s.Labels, T: s.Points[0].T.UnixMilli(), F: s.Points[0].V})
		}
	}
	return out, nil
}

// tracker turns the states of a rule's alerts, evaluation after
// evaluation, into firing episodes and pending spells that never fired.
type tracker struct {
	open     map[uint64]*spell
	episodes []Episode
	unfired  []Spell
}

// spell is an alert's current stretch: pending since, firing since.
type spell struct {
	labels        labels.Labels
	active, fired time.Time
}

// observe reads the rule's alerts after its evaluation at ts.
func (t *tracker) observe(r *rules.AlertingRule, ts time.Time) {
	if t.open == nil {
		t.open = map[uint64]*spell{}
	}
	live := map[uint64]bool{}
	r.ForEachActiveAlert(func(a *rules.Alert) {
		if a.State != rules.StatePending && a.State != rules.StateFiring {
			return
		}
		h := a.Labels.Hash()
		live[h] = true
		sp := t.open[h]
		if sp == nil {
			sp = &spell{labels: a.Labels, active: a.ActiveAt}
			t.open[h] = sp
		}
		if a.State == rules.StateFiring && sp.fired.IsZero() {
			sp.fired = a.FiredAt
		}
	})
	for h, sp := range t.open {
		if live[h] {
			continue
		}
		if sp.fired.IsZero() {
			t.unfired = append(t.unfired, Spell{Labels: sp.labels, Start: sp.active, End: ts})
		} else {
			t.episodes = append(t.episodes, Episode{Labels: sp.labels, ActiveAt: sp.active, Start: sp.fired, End: ts})
		}
		delete(t.open, h)
	}
}

// finish ends the episodes still firing at until; alerts still pending
// may yet fire and are left out.
func (t *tracker) finish(until time.Time) {
	for _, sp := range t.open {
		if !sp.fired.IsZero() {
			t.episodes = append(t.episodes, Episode{Labels: sp.labels, ActiveAt: sp.active, Start: sp.fired, End: until, Open: true})
		}
	}
	t.open = nil
	byStart := func(a, b Episode) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return labels.Compare(a.Labels, b.Labels)
	}
	slices.SortFunc(t.episodes, byStart)
	slices.SortFunc(t.unfired, func(a, b Spell) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return labels.Compare(a.Labels, b.Labels)
	})
}

package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"golang.org/x/sync/errgroup"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// QueryFunc evaluates an instant query at t, as rules need it.
type QueryFunc = rules.QueryFunc

// Querier is the part of a metrics source rules read.
type Querier interface {
	Instant(ctx context.Context, expr string, at time.Time) (metrics.Vector, error)
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

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Files are the rule files (globs allowed), in order.
	Files []string
	// Interval is the evaluation interval of groups that set none.
	Interval time.Duration
	// ExternalLabels and ExternalURL are what templates read as
	// $externalLabels and $externalURL; the URL begins generator URLs.
	ExternalLabels labels.Labels
	ExternalURL    string
	// Query evaluates the rules' expressions.
	Query QueryFunc
	// Appendable receives recorded series and the ALERTS and
	// ALERTS_FOR_STATE series; nil discards them.
	Appendable storage.AppendableV2
	Logger     *slog.Logger
	// Registerer receives the rule manager's metrics (nil: none).
	Registerer prometheus.Registerer
	// ResendDelay is how often a firing alert is sent again (default 1m).
	ResendDelay time.Duration
	// Generate, when set, makes more rule files at every load (the
	// catalogue's SLOs and KPIs, Sloth specs).
	Generate Generator
	// Lenient loads what is valid: an invalid file or group is reported
	// by Problems (and stays out, or keeps its last good version) while
	// the others run. Without it, NewEngine fails on any problem.
	Lenient bool
}

// Engine evaluates Prometheus rule files as the Prometheus rules manager
// does — it runs Prometheus's own rule groups: recording and alerting rules,
// groups with their own interval evaluated independently (and at once
// when due together), limit, query_offset, group labels, for and
// keep_firing_for, templates, ALERTS and ALERTS_FOR_STATE — but on a clock
// it is given, and with the for-state restored from what oncall stored
// rather than from a TSDB.
type Engine struct {
	opts   EngineOptions
	mopts  *rules.ManagerOptions
	extURL *url.URL
	loader *fileLoader

	mu       sync.Mutex
	files    []*ruleFile // the groups in effect, file by file
	sum      [32]byte    // of what the files were read from
	rules    []Rule
	problems []FileProblem
	groups   []*engineGroup
	sent     []Alert     // notifications of the evaluations under way
	saved    []RuleAlert // the state to restore from
	evalErr  map[string]error
}

type engineGroup struct {
	g       *rules.Group
	next    time.Time
	evals   int
	restore bool
	// missed counts the slots skipped because an evaluation came late.
	missed int
	// alerts are the group's active alerts as of its last evaluation,
	// sorted (Alerts reads these rather than walk every rule each time).
	alerts []RuleAlert
}

// active lists g's active alerts, sorted by rule and labels.
func (g *engineGroup) active() []RuleAlert {
	last := g.g.GetLastEvalTimestamp()
	var out []RuleAlert
	for _, r := range g.g.AlertingRules() {
		r.ForEachActiveAlert(func(a *rules.Alert) {
			out = append(out, ruleAlert(r.Name(), a, last))
		})
	}
	sortRuleAlerts(out)
	return out
}

func sortRuleAlerts(as []RuleAlert) {
	slices.SortStableFunc(as, func(a, b RuleAlert) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return labels.Compare(a.Labels, b.Labels)
	})
}

// NewEngine loads the rule files; unless o.Lenient, every problem of every
// file is returned, each naming file, line and column.
func NewEngine(o EngineOptions) (*Engine, error) {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.ResendDelay <= 0 {
		o.ResendDelay = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ext, err := url.Parse(o.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("external url %q: %w", o.ExternalURL, err)
	}
	e := &Engine{opts: o, extURL: ext, evalErr: map[string]error{}, loader: &fileLoader{}}
	e.files, e.problems, e.sum = e.read(nil)
	if len(e.problems) > 0 && !o.Lenient {
		errs := make([]error, len(e.problems))
		for i, p := range e.problems {
			errs[i] = p
		}
		return nil, errors.Join(errs...)
	}
	e.rules = rulesOf(e.files)
	app := o.Appendable
	if app == nil {
		app = discard{}
	}
	e.mopts = &rules.ManagerOptions{
		ExternalURL:     ext,
		QueryFunc:       o.Query,
		NotifyFunc:      e.notify,
		Context:         context.Background(),
		AppendableV2:    app,
		Queryable:       savedState{e},
		Logger:          o.Logger,
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     o.ResendDelay,
		Metrics:         rules.NewGroupMetrics(o.Registerer),
		GroupLoader:     e.loader,
		// Rules of a group that neither read nor feed another of its
		// rules run at once (Prometheus's concurrent-rule-eval), as many
		// as there are cores: a group's wall time is then its longest
		// rule's rather than the sum of all.
		ConcurrentEvalsEnabled: true,
		MaxConcurrentEvals:     int64(runtime.GOMAXPROCS(0)),
	}
	return e, nil
}

// read reads the rule files and runs the generator, prev standing in for
// what does not load, and digests what it read.
func (e *Engine) read(prev []*ruleFile) ([]*ruleFile, []FileProblem, [32]byte) {
	gen, genProblems := e.generate()
	files, problems := readRuleFiles(e.opts.Files, gen, genProblems, prev)
	return files, problems, inputsSum(e.opts.Files, gen, genProblems)
}

// generate runs the generator, if there is one.
func (e *Engine) generate() ([]GeneratedFile, []FileProblem) {
	if e.opts.Generate == nil {
		return nil, nil
	}
	return e.opts.Generate()
}

// rulesOf lists the rules of the groups in effect.
func rulesOf(files []*ruleFile) []Rule {
	var out []Rule
	for _, f := range files {
		for _, g := range f.groups {
			out = append(out, g.rules...)
		}
	}
	return out
}

// Rules are the rules in effect, alerting and recording.
func (e *Engine) Rules() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rules
}

// Problems are what was wrong with the rule files when they were last
// read: the invalid groups they name are not evaluated (or are evaluated
// in their last good version).
func (e *Engine) Problems() []FileProblem {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.problems
}

// load makes fresh Prometheus groups of the groups in effect.
func (e *Engine) load(files []*ruleFile) (map[string]*rules.Group, error) {
	paths := e.loader.set(files)
	loaded, errs := rules.NewManager(e.mopts).LoadGroups(e.opts.Interval, e.opts.ExternalLabels, e.opts.ExternalURL, nil, false, paths...)
	return loaded, errors.Join(errs...)
}

// firstSlot is a group's first evaluation slot after now, as Prometheus
// waits for it.
func firstSlot(g *rules.Group, now time.Time) time.Time {
	next := g.EvalTimestamp(now.UnixNano())
	if next.Before(now) {
		next = next.Add(g.Interval())
	}
	return next
}

// inOrder sorts groups in the order of the files, and of the groups in each.
func inOrder(gs []*engineGroup, rs []Rule) {
	order := map[string]int{}
	for i, r := range rs {
		if _, ok := order[r.File+"\x00"+r.Group]; !ok {
			order[r.File+"\x00"+r.Group] = i
		}
	}
	sort.SliceStable(gs, func(i, j int) bool {
		return order[gs[i].g.File()+"\x00"+gs[i].g.Name()] < order[gs[j].g.File()+"\x00"+gs[j].g.Name()]
	})
}

// Reload reads the rule files again, if they changed since they were last
// read, and swaps the groups in effect at once: unchanged groups go on as
// they were, changed ones keep the state of their alerts (as Prometheus
// carries it over a reload), new ones start at their first slot, and an
// invalid file or group keeps its last good version. It reports whether
// anything was read anew; Problems says what is wrong now.
func (e *Engine) Reload(now time.Time) (bool, error) {
	e.mu.Lock()
	prev, prevSum := e.files, e.sum
	e.mu.Unlock()
	gen, genProblems := e.generate()
	sum := inputsSum(e.opts.Files, gen, genProblems)
	if sum == prevSum {
		return false, nil
	}
	files, problems := readRuleFiles(e.opts.Files, gen, genProblems, prev)
	loaded, err := e.load(files)
	if err != nil {
		// Validated groups that Prometheus will not load: keep all as it was.
		e.load(prev)
		e.mu.Lock()
		e.problems, e.sum = append(problems, FileProblem{File: "", Err: err}), sum
		e.mu.Unlock()
		return true, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := map[string]*engineGroup{}
	for _, g := range e.groups {
		old[g.g.File()+"\x00"+g.g.Name()] = g
	}
	var gs []*engineGroup
	for _, ng := range loaded {
		og, ok := old[ng.File()+"\x00"+ng.Name()]
		switch {
		case ok && og.g.Equals(ng):
			gs = append(gs, og)
		case ok:
			ng.CopyState(og.g)
			next := og.next
			if ng.Interval() != og.g.Interval() {
				next = firstSlot(ng, now)
			}
			eg := &engineGroup{g: ng, next: next, evals: og.evals, restore: og.restore, missed: og.missed}
			eg.alerts = eg.active()
			gs = append(gs, eg)
		default:
			gs = append(gs, &engineGroup{g: ng, next: firstSlot(ng, now)})
		}
	}
	e.resolveRemoved(gs, now)
	e.files, e.problems, e.rules, e.sum = files, problems, rulesOf(files), sum
	inOrder(gs, e.rules)
	e.groups = gs
	return true, nil
}

// resolveRemoved sends as resolved, at now, the firing alerts of alerting
// rules the reload removed (Prometheus lets them time out instead, so a
// deleted rule's alert would page on for minutes). Called with mu held.
func (e *Engine) resolveRemoved(gs []*engineGroup, now time.Time) {
	kept := map[string]bool{}
	for _, g := range gs {
		for _, r := range g.g.AlertingRules() {
			kept[g.g.File()+"\x00"+g.g.Name()+"\x00"+r.Name()+r.Labels().String()] = true
		}
	}
	var resolved []Alert
	for _, og := range e.groups {
		for _, r := range og.g.AlertingRules() {
			if kept[og.g.File()+"\x00"+og.g.Name()+"\x00"+r.Name()+r.Labels().String()] {
				continue
			}
			for _, a := range r.ActiveAlerts() {
				if a.State != rules.StateFiring {
					continue
				}
				resolved = append(resolved, Alert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.FiredAt,
					EndsAt: now, UpdatedAt: now, GeneratorURL: e.generatorURL(r.Query().String())})
			}
		}
	}
	e.sent = append(e.sent, resolved...)
}

// Start (re)starts evaluation at now with fresh groups whose for-state is
// restored from saved (what Alerts returned before a restart or before
// another process led), as Prometheus restores it from ALERTS_FOR_STATE
// after a group's second evaluation. Each group is first due at its first
// slot from now (its slots are spread over the interval by its name, as
// Prometheus spreads them).
func (e *Engine) Start(now time.Time, saved []RuleAlert) error {
	e.mu.Lock()
	files := e.files
	e.mu.Unlock()
	loaded, err := e.load(files)
	if err != nil {
		return err
	}
	var gs []*engineGroup
	for _, g := range loaded {
		gs = append(gs, &engineGroup{g: g, next: firstSlot(g, now), restore: true})
	}
	inOrder(gs, e.Rules())
	e.mu.Lock()
	e.groups, e.saved, e.evalErr = gs, slices.Clone(saved), map[string]error{}
	e.mu.Unlock()
	return nil
}

// Next is when the next group is due (zero when there are none).
func (e *Engine) Next() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var at time.Time
	for _, g := range e.groups {
		if at.IsZero() || g.next.Before(at) {
			at = g.next
		}
	}
	return at
}

// Eval evaluates every group due at now — each at its own slot, those due
// together at once — and returns the alerts to send (firing ones again
// every ResendDelay, resolved ones for 15 minutes, as Prometheus sends
// them) and the errors of the rules that failed.
func (e *Engine) Eval(ctx context.Context, now time.Time) ([]Alert, error) {
	e.mu.Lock()
	var due []*engineGroup
	for _, g := range e.groups {
		if !g.next.After(now) {
			due = append(due, g)
		}
	}
	e.mu.Unlock()
	var eg errgroup.Group
	eg.SetLimit(4)
	for _, g := range due {
		eg.Go(func() error {
			// Slots missed (a pause, a slow source) are skipped, as
			// Prometheus counts them missed: the group is evaluated at
			// its latest slot.
			missed := now.Sub(g.next) / g.g.Interval()
			ts := g.next.Add(missed * g.g.Interval())
			rules.DefaultEvalIterationFunc(ctx, g.g, ts)
			e.mu.Lock()
			g.evals++
			g.missed += int(missed)
			restore := g.restore && g.evals >= 2
			if restore {
				g.restore = false
			}
			g.next = ts.Add(g.g.Interval())
			e.mu.Unlock()
			if restore {
				g.g.RestoreForState(ts)
			}
			as := g.active()
			e.mu.Lock()
			g.alerts = as
			e.mu.Unlock()
			return nil
		})
	}
	eg.Wait()
	e.mu.Lock()
	sent := e.sent
	e.sent = nil
	var errs []error
	for _, g := range due {
		for _, r := range g.g.Rules() {
			if err := r.LastError(); err != nil {
				errs = append(errs, RuleError{Rule: e.ruleOf(g.g, r), Err: err})
			}
		}
	}
	e.mu.Unlock()
	return sent, errors.Join(errs...)
}

// ruleOf is the Rule (with its file and line) of a Prometheus rule.
func (e *Engine) ruleOf(g *rules.Group, r rules.Rule) Rule {
	for _, x := range e.rules {
		if x.File == g.File() && x.Group == g.Name() && x.Name == r.Name() {
			return x
		}
	}
	return Rule{Name: r.Name(), Group: g.Name(), File: g.File()}
}

// notify gathers the alerts a group sends, as Prometheus's notifier
// would build them for an Alertmanager.
func (e *Engine) notify(_ context.Context, expr string, as ...*rules.Alert) {
	if len(as) == 0 {
		return
	}
	gen := e.generatorURL(expr)
	out := make([]Alert, 0, len(as))
	for _, a := range as {
		x := Alert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.FiredAt, GeneratorURL: gen, UpdatedAt: a.LastSentAt}
		if !a.ResolvedAt.IsZero() {
			x.EndsAt = a.ResolvedAt
		} else {
			x.EndsAt = a.ValidUntil
		}
		out = append(out, x)
	}
	e.mu.Lock()
	e.sent = append(e.sent, out...)
	e.mu.Unlock()
}

// generatorURL links to the expression in the Prometheus-style graph page
// of the external URL.
func (e *Engine) generatorURL(expr string) string {
	return strings.TrimSuffix(e.opts.ExternalURL, "/") + "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
}

// Alerts are the active alerts of every alerting rule: pending, firing,
// and resolved within the last 15 minutes.
func (e *Engine) Alerts() []RuleAlert {
	e.mu.Lock()
	n := 0
	for _, g := range e.groups {
		n += len(g.alerts)
	}
	out := make([]RuleAlert, 0, n)
	for _, g := range e.groups {
		out = append(out, g.alerts...)
	}
	e.mu.Unlock()
	sortRuleAlerts(out)
	return out
}

func ruleAlert(rule string, a *rules.Alert, lastEval time.Time) RuleAlert {
	ra := RuleAlert{Rule: rule, Labels: a.Labels, Annotations: a.Annotations.Map(), Value: a.Value, ActiveAt: a.ActiveAt,
		FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt, KeepFiringSince: a.KeepFiringSince, LastSeenAt: lastEval}
	switch a.State {
	case rules.StatePending:
		ra.State = StatePending
	case rules.StateFiring:
		ra.State = StateFiring
	default:
		ra.State = StateResolved
	}
	return ra
}

// GroupState is a group as the rules API shows it.
type GroupState struct {
	Name           string        `json:"name"`
	File           string        `json:"file"`
	Interval       time.Duration `json:"interval"`
	LastEvaluation time.Time     `json:"last_evaluation,omitzero"`
	EvaluationTime time.Duration `json:"evaluation_time"`
	Next           time.Time     `json:"next,omitzero"`
	// Missed counts the slots skipped since the group started because an
	// evaluation came late (Prometheus's missed iterations).
	Missed int `json:"missed,omitempty"`
}

// Groups are the groups being evaluated.
func (e *Engine) Groups() []GroupState {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]GroupState, len(e.groups))
	for i, g := range e.groups {
		out[i] = GroupState{Name: g.g.Name(), File: g.g.File(), Interval: g.g.Interval(), LastEvaluation: g.g.GetLastEvalTimestamp(),
			EvaluationTime: g.g.GetEvaluationTime(), Next: g.next, Missed: g.missed}
	}
	return out
}

// SourceQuery adapts a metrics source's instant queries to rules.
func SourceQuery(src Querier) QueryFunc {
	return func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		v, err := src.Instant(ctx, q, t)
		if err != nil {
			return nil, err
		}
		out := make(promql.Vector, len(v))
		for i, s := range v {
			out[i] = promql.Sample{Metric: s.Labels, T: t.UnixMilli(), F: s.Value}
		}
		return out, nil
	}
}

// Package lint checks Prometheus rule files for the mistakes that page
// people for nothing, or never page them: alerts without the labels and
// annotations an on-call engineer needs, labels that change at every
// evaluation, `for` and `keep_firing_for` that cannot work at the group's
// interval, PromQL that always or never fires, and, when a metrics source
// can be asked, selectors that match no series or too many.
//
// Every check has a stable id (Checks lists them); a finding names the id,
// its severity, the file and line, the group and rule, what is wrong and
// how to fix it. A rule opts out of checks with a comment anywhere in it:
//
//   - alert: Watchdog  # oncall-check: ignore OC105 OC502
//
// # Paging alerts
//
// An alert pages when its severity label is "page" or "critical" (in any
// case), when it has no severity label, or when its severity is a template:
// an alert without a severity goes wherever the routing tree's default
// route goes, which is a pager in most setups, so it is held to the paging
// bar until it says otherwise.
package lint

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Severity is how bad a finding is: SeverityError fails a CI run,
// SeverityWarning only with --strict.
type Severity string

// The severities of a finding.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Check describes one check.
type Check struct {
	// ID is stable: OC1xx alert hygiene, OC2xx templates, OC3xx the metrics
	// source, OC4xx rule identity and timing, OC5xx PromQL.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Severity is the severity of its findings; some checks raise it to
	// error for paging alerts, which Doc says.
	Severity Severity `json:"severity"`
	// Source is set on the checks that ask a metrics source; without one
	// they are skipped.
	Source bool   `json:"source,omitempty"`
	Doc    string `json:"doc"`
}

// The ids of the checks.
const (
	MissingSummary        = "OC101"
	MissingRunbook        = "OC102"
	MissingService        = "OC103"
	MissingSeverity       = "OC104"
	PageWithoutFor        = "OC105"
	RunbookNotURL         = "OC106"
	PerEvaluationLabel    = "OC201"
	TemplateDroppedLabel  = "OC202"
	NoSeries              = "OC301"
	NoMatchingSeries      = "OC302"
	Expensive             = "OC303"
	DuplicateAlert        = "OC401"
	DuplicateRecording    = "OC402"
	ForShorterThanEval    = "OC403"
	KeepFiringNoEffect    = "OC404"
	RateRangeTooShort     = "OC501"
	AlwaysFires           = "OC502"
	AbsentNonEquality     = "OC503"
	RecordingName         = "OC504"
	RateOfAggregation     = "OC505"
	IrateInAlert          = "OC506"
	CountComparedWithZero = "OC507"
)

// Checks lists every check, by id.
var Checks = []Check{
	{MissingSummary, "alert-missing-summary", SeverityError, false, "a paging alert has no summary annotation: the page says nothing but the alert's name"},
	{MissingRunbook, "alert-missing-runbook", SeverityError, false, "a paging alert has no runbook_url annotation"},
	{MissingService, "alert-missing-service", SeverityError, false, "a paging alert has no service label, neither in its labels nor in its expression's result (by (service), an equality matcher)"},
	{MissingSeverity, "alert-missing-severity", SeverityError, false, "an alert has no severity label"},
	{PageWithoutFor, "page-without-for", SeverityWarning, false, "a paging alert has no `for`: one bad evaluation (a scrape blip, a restart) pages"},
	{RunbookNotURL, "runbook-not-url", SeverityWarning, false, "runbook_url is not an http(s) URL"},
	{PerEvaluationLabel, "label-per-evaluation", SeverityError, false, "a label's template uses $value, .Value or query: the value changes at every evaluation, so does the alert's identity, and the alert resolves and fires again each time"},
	{TemplateDroppedLabel, "template-label-dropped", SeverityWarning, false, "a label or annotation uses $labels.X, which the expression's result never has (dropped by an aggregation or on()): it renders empty"},
	{NoSeries, "series-missing", SeverityError, true, "a selector's metric has no series at the metrics source (recorded series of the same files and ALERTS are left out)"},
	{NoMatchingSeries, "selector-matches-nothing", SeverityWarning, true, "a selector's metric has series at the source, but none match its label matchers"},
	{Expensive, "expensive-query", SeverityWarning, true, "a rule's selectors touch more series (or its range selectors read more samples) at the source than the limit"},
	{DuplicateAlert, "duplicate-alert", SeverityError, false, "another alerting rule has the same alertname and static labels and its result can overlap: both make the same alerts, whose annotations and state flip between them"},
	{DuplicateRecording, "duplicate-recording", SeverityError, false, "another recording rule writes the same series name with the same static labels: their samples collide"},
	{ForShorterThanEval, "for-shorter-than-interval", SeverityWarning, false, "`for` is shorter than the group's evaluation interval: the alert waits a whole interval anyway"},
	{KeepFiringNoEffect, "keep-firing-for-no-effect", SeverityWarning, false, "keep_firing_for is shorter than the group's evaluation interval: it never keeps the alert firing"},
	{RateRangeTooShort, "rate-range-too-short", SeverityWarning, false, "rate(), irate(), increase(), delta(), idelta() or deriv() over a range shorter than four scrape intervals (an error below two: the window often holds one sample and the result is empty); a recorded series counts its group's interval"},
	{AlwaysFires, "alert-always-fires", SeverityWarning, false, "an alert's expression has no comparison or filter: it fires for every series it selects (an error for paging alerts; constant expressions such as vector(1) are left alone)"},
	{AbsentNonEquality, "absent-non-equality", SeverityWarning, false, "absent() of a selector with a regular expression or negative matcher: it fires only when no series at all matches, and the alert carries none of those labels"},
	{RecordingName, "recording-rule-name", SeverityWarning, false, "a recording rule's name does not follow level:metric:operations"},
	{RateOfAggregation, "rate-of-aggregation", SeverityError, false, "rate(), irate() or increase() of an aggregation in a subquery: counter resets of one series show as spikes of the sum"},
	{IrateInAlert, "irate-in-alert", SeverityWarning, false, "an alert uses irate(), which looks at the last two samples only: it flaps; use rate()"},
	{CountComparedWithZero, "count-compared-with-zero", SeverityError, false, "count(...) == 0 (or < 1) never holds: count of nothing is no result, not 0"},
}

// CheckByID returns the check with that id.
func CheckByID(id string) (Check, bool) {
	for _, c := range Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Finding is one problem of one rule.
type Finding struct {
	ID       string   `json:"id"`
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	// Line is the line of the field at fault (expr, for, a label), else of
	// the rule.
	Line    int    `json:"line"`
	Group   string `json:"group"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// Skipped says which checks did not run and why.
type Skipped struct {
	Checks []string `json:"checks"`
	Reason string   `json:"reason"`
}

// Summary counts what was checked and found.
type Summary struct {
	Files  int `json:"files"`
	Groups int `json:"groups"`
	Rules  int `json:"rules"`
	// Source names the metrics source the OC3xx checks asked, if any.
	Source   string    `json:"source,omitempty"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Skipped  []Skipped `json:"skipped"`
}

// Report is the outcome of Lint: the findings sorted by file, line and id,
// and a summary. Its JSON form is the stable output of `oncall alerts check
// -o json`.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Failed reports whether the report fails a run: any error, or with
// strict any warning too.
func (r Report) Failed(strict bool) bool {
	return r.Summary.Errors > 0 || (strict && r.Summary.Warnings > 0)
}

// Defaults of Options.
const (
	DefaultEvaluationInterval = time.Minute
	DefaultScrapeInterval     = time.Minute
	DefaultMaxSeries          = 10_000
	DefaultMaxSamples         = 1_000_000
)

// Options configure Lint.
type Options struct {
	// Source answers the source checks (OC3xx), SourceName says what it
	// is; nil skips them, and NoSourceReason says why in the report
	// (default "no metrics source").
	Source         Querier
	SourceName     string
	NoSourceReason string
	// Now is the instant source queries are evaluated at; default the
	// current time.
	Now time.Time
	// EvaluationInterval is the interval of groups that set none; default
	// DefaultEvaluationInterval (Prometheus's).
	EvaluationInterval time.Duration
	// ScrapeInterval is how often the source scrapes; default
	// DefaultScrapeInterval.
	ScrapeInterval time.Duration
	// MaxSeries and MaxSamples bound what one rule may touch at the source
	// (OC303); 0 is the default, negative turns the bound off.
	MaxSeries  int
	MaxSamples int
	// Disabled turns checks off by id.
	Disabled []string
}

func (o Options) withDefaults() Options {
	if o.EvaluationInterval <= 0 {
		o.EvaluationInterval = DefaultEvaluationInterval
	}
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = DefaultScrapeInterval
	}
	if o.MaxSeries == 0 {
		o.MaxSeries = DefaultMaxSeries
	}
	if o.MaxSamples == 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.NoSourceReason == "" {
		o.NoSourceReason = "no metrics source"
	}
	return o
}

// ruleRef is one rule and where it is.
type ruleRef struct {
	file  *File
	group *Group
	rule  *Rule
}

// interval is the evaluation interval of the rule's group.
func (r ruleRef) interval(o Options) time.Duration {
	if r.group.Interval > 0 {
		return r.group.Interval
	}
	return o.EvaluationInterval
}

// linter holds one run.
type linter struct {
	opts     Options
	disabled map[string]bool
	rules    []ruleRef
	recorded map[string][]ruleRef // recording rules by the name they record
	findings []Finding
}

// Lint runs every check that is not disabled on the files. Source checks
// run when opts.Source is set; otherwise, or when the source fails, the
// report's summary says they were skipped.
func Lint(ctx context.Context, files []*File, opts Options) Report {
	l := &linter{opts: opts.withDefaults(), disabled: map[string]bool{}, recorded: map[string][]ruleRef{}}
	for _, id := range opts.Disabled {
		l.disabled[strings.ToUpper(strings.TrimSpace(id))] = true
	}
	sum := Summary{Files: len(files), Skipped: []Skipped{}}
	for _, f := range files {
		sum.Groups += len(f.Groups)
		for gi := range f.Groups {
			g := &f.Groups[gi]
			for ri := range g.Rules {
				ref := ruleRef{f, g, &g.Rules[ri]}
				l.rules = append(l.rules, ref)
				if ref.rule.Record != "" {
					l.recorded[ref.rule.Record] = append(l.recorded[ref.rule.Record], ref)
				}
			}
		}
	}
	sum.Rules = len(l.rules)
	for _, r := range l.rules {
		l.checkRule(r)
	}
	l.checkDuplicates()
	if skip := l.checkSource(ctx); skip != nil {
		sum.Skipped = append(sum.Skipped, *skip)
	} else if l.opts.Source != nil {
		sum.Source = l.opts.SourceName
	}
	slices.SortStableFunc(l.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Message, b.Message))
	})
	for _, f := range l.findings {
		if f.Severity == SeverityError {
			sum.Errors++
		} else {
			sum.Warnings++
		}
	}
	if l.findings == nil {
		l.findings = []Finding{}
	}
	return Report{Findings: l.findings, Summary: sum}
}

// enabled reports whether the check runs on the rule.
func (l *linter) enabled(id string, r ruleRef) bool {
	return !l.disabled[id] && !r.rule.ignore[id]
}

// report adds a finding of check id about rule r at line (0: the rule's
// line), with the check's own severity unless sev is set.
func (l *linter) report(r ruleRef, id string, sev Severity, line int, msg, hint string) {
	if !l.enabled(id, r) {
		return
	}
	c, _ := CheckByID(id)
	if sev == "" {
		sev = c.Severity
	}
	if line == 0 {
		line = r.rule.Line
	}
	f := Finding{ID: id, Check: c.Name, Severity: sev, File: r.file.Path, Line: line, Group: r.group.Name, Rule: r.rule.Name(), Message: msg, Hint: hint}
	if !slices.Contains(l.findings, f) { // the same selector twice in one expression
		l.findings = append(l.findings, f)
	}
}

package slo

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Placeholder is where an SLI query puts the range of each window it is
// measured over: Sloth's spelling, so that Sloth's queries carry over
// unchanged. Spaces inside the braces are allowed ({{ .window }}), as Go
// templates allow them in Sloth.
const Placeholder = "{{.window}}"

// placeholderRE matches the placeholder, with or without inner spaces.
var placeholderRE = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// DefaultWindow is the SLO window when the spec gives none: 30 days, for
// which the burn-rate thresholds of the SRE workbook were worked out.
const DefaultWindow = model.Duration(30 * 24 * time.Hour)

// DefaultKPIFor is how long a KPI must stay out of bounds before it alerts
// when the spec does not say.
const DefaultKPIFor = model.Duration(15 * time.Minute)

// Default severities of the alerts.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// Spec is the SLOs and KPIs of one service, as the catalogue lists them.
type Spec struct {
	SLOs []SLO `yaml:"slos,omitempty"`
	KPIs []KPI `yaml:"kpis,omitempty"`
}

// SLO is a service level objective: the share of events that must be good
// over a rolling window, alerted on by how fast the errors spend the
// window's error budget.
type SLO struct {
	// Name identifies the SLO within its service (the slo and sloth_slo
	// labels): letters, digits, '.', '_' or '-'.
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Objective is the percentage of good events, below 100 (99.9).
	Objective float64 `yaml:"objective"`
	// Window is the rolling window the objective holds over (default 30d).
	Window model.Duration `yaml:"window,omitempty"`

	// The SLI is either Good and Total, or ErrorRatio. Each query writes
	// Placeholder where the range goes:
	// sum(rate(http_requests_total{code!~"5.."}[{{.window}}])).
	Good  string `yaml:"good,omitempty"`
	Total string `yaml:"total,omitempty"`
	// ErrorRatio is the share of bad events, 0 to 1.
	ErrorRatio string `yaml:"error_ratio,omitempty"`

	// Labels go on every rule of the SLO, recorded series and alerts.
	Labels map[string]string `yaml:"labels,omitempty"`
	// InfoLabels go on the sloth_slo_info series only.
	InfoLabels map[string]string `yaml:"info_labels,omitempty"`

	// Alert is the name of both alerts (default: the SLO's name in
	// CamelCase followed by BudgetBurn).
	Alert string `yaml:"alert,omitempty"`
	// Annotations go on both alerts, over the generated ones.
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// Page is the fast-burn alert, Ticket the slow-burn one.
	Page   Alerting `yaml:"page,omitempty"`
	Ticket Alerting `yaml:"ticket,omitempty"`

	// Interval is how often the SLO's rule group runs (default: the
	// engine's evaluation interval).
	Interval model.Duration `yaml:"interval,omitempty"`
}

// Alerting configures one of an SLO's two alerts.
type Alerting struct {
	// Disable drops the alert.
	Disable bool `yaml:"disable,omitempty"`
	// Severity is its severity label (default page or ticket).
	Severity string `yaml:"severity,omitempty"`
	// For is how long the condition must hold before it fires.
	For model.Duration `yaml:"for,omitempty"`
	// Labels and Annotations go on this alert, over the SLO's; label
	// values are templates, as in any alerting rule.
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// KPI is a business ratio (matches per active user, orders per visit)
// watched against its own past: it alerts when it falls or rises beyond
// an allowed fraction of a baseline, while there is enough volume to
// trust it.
type KPI struct {
	// Name identifies the KPI within its service (the kpi label).
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Numerator and Denominator are instant PromQL queries; the KPI is
	// their ratio, with the labels they share.
	Numerator   string `yaml:"numerator"`
	Denominator string `yaml:"denominator"`
	// Baseline is what the ratio is compared with.
	Baseline Baseline `yaml:"baseline"`
	// MaxDrop and MaxRise are the allowed fractions below and above the
	// baseline (0.2: 20%); at least one is needed.
	MaxDrop float64 `yaml:"max_drop,omitempty"`
	MaxRise float64 `yaml:"max_rise,omitempty"`
	// MinVolume silences the KPI while the volume is low.
	MinVolume *Volume `yaml:"min_volume,omitempty"`
	// For is how long the ratio must stay out of bounds (default 15m).
	For *model.Duration `yaml:"for,omitempty"`
	// Severity is the alerts' severity label (default ticket).
	Severity string `yaml:"severity,omitempty"`
	// Labels go on every rule of the KPI; Annotations on its alerts, over
	// the generated ones.
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// Interval is how often the KPI's rule group runs.
	Interval model.Duration `yaml:"interval,omitempty"`
}

// Baseline is one of three: the ratio some time ago, its moving average,
// or its average at the same time of day (or week) over past periods.
type Baseline struct {
	// Offset compares with the ratio this long ago (1w).
	Offset model.Duration `yaml:"offset,omitempty"`
	// MovingAverage compares with the ratio's average over this long (7d).
	MovingAverage model.Duration `yaml:"moving_average,omitempty"`
	// SameTime compares with the ratio at the same point of each of the
	// last periods: the same time of day over the last 7 days is
	// {every: 1d, count: 7}.
	SameTime *SameTime `yaml:"same_time,omitempty"`
}

// SameTime is a seasonal baseline: the ratio Every, 2×Every, …
// Count×Every ago, averaged over those of them that have data.
type SameTime struct {
	Every model.Duration `yaml:"every"`
	Count int            `yaml:"count"`
}

// Volume is the floor below which a KPI says nothing: Query (default the
// denominator) must be at least AtLeast. Query must give the ratio's
// labels, as the denominator does.
type Volume struct {
	Query   string  `yaml:"query,omitempty"`
	AtLeast float64 `yaml:"at_least"`
}

// Limits of the spec.
const (
	maxSameTimeCount = 52
	minWindow        = 3 * 24 * time.Hour
	maxWindow        = 400 * 24 * time.Hour
	// maxInterval keeps the shortest window (5m) meaningful.
	maxInterval = 5 * time.Minute
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// reserved are the labels the generator sets itself.
var reserved = []string{"alertname", "service", "slo", "kpi", "severity",
	"sloth_id", "sloth_service", "sloth_slo", "sloth_window", "sloth_severity"}

// fieldErrs collects errors that name their field.
type fieldErrs []error

func (e *fieldErrs) add(field string, format string, args ...any) {
	*e = append(*e, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func (e *fieldErrs) addErr(field string, err error) {
	if err != nil {
		*e = append(*e, fmt.Errorf("%s: %w", field, err))
	}
}

// nest adds the errors of an item at field, each naming its own field
// under it: slos[0] and objective: … become slos[0].objective: ….
func (e *fieldErrs) nest(field string, err error) {
	for _, leaf := range leaves(err) {
		*e = append(*e, fmt.Errorf("%s.%w", field, leaf))
	}
}

// leaves are the errors joined in err.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

func (e fieldErrs) join() error { return errors.Join(e...) }

// Validate reports every problem of the spec, each naming its field
// (slos[0].objective) and the bad value.
func (s Spec) Validate() error {
	var errs fieldErrs
	seen := map[string]int{}
	for i, o := range s.SLOs {
		p := fmt.Sprintf("slos[%d]", i)
		errs.nest(p, o.Validate())
		if j, dup := seen[o.Name]; dup && o.Name != "" {
			errs.add(p+".name", "%q: slos[%d] has the same name", o.Name, j)
		}
		seen[o.Name] = i
	}
	seen = map[string]int{}
	for i, k := range s.KPIs {
		p := fmt.Sprintf("kpis[%d]", i)
		errs.nest(p, k.Validate())
		if j, dup := seen[k.Name]; dup && k.Name != "" {
			errs.add(p+".name", "%q: kpis[%d] has the same name", k.Name, j)
		}
		seen[k.Name] = i
	}
	return errs.join()
}

// Validate reports every problem of the SLO, each naming its field.
func (s SLO) Validate() error {
	var errs fieldErrs
	errs.addErr("name", checkName(s.Name))
	errs.addErr("objective", checkObjective(s.Objective))
	if s.Window != 0 {
		errs.addErr("window", checkWindow(s.Window))
	}
	hasPair := s.Good != "" || s.Total != ""
	switch {
	case hasPair && s.ErrorRatio != "":
		errs.add("error_ratio", "set good and total, or error_ratio, not both")
	case !hasPair && s.ErrorRatio == "":
		errs.add("good", "no SLI: want good and total queries, or an error_ratio query")
	case s.ErrorRatio != "":
		errs.addErr("error_ratio", checkSLIQuery(s.ErrorRatio))
	default:
		for _, q := range []struct{ field, q, other string }{{"good", s.Good, "total"}, {"total", s.Total, "good"}} {
			if q.q == "" {
				errs.add(q.field, "required with %s", q.other)
				continue
			}
			errs.addErr(q.field, checkSLIQuery(q.q))
		}
	}
	checkRuleLabels(&errs, "labels", s.Labels)
	checkRuleLabels(&errs, "info_labels", s.InfoLabels)
	if s.Alert != "" {
		errs.addErr("alert", checkAlertName(s.Alert))
	} else if checkName(s.Name) == nil && !model.LegacyValidation.IsValidMetricName(sloAlertName(s)) {
		errs.add("alert", "%q (from the name) is not a valid alert name: set alert", sloAlertName(s))
	}
	checkAnnotations(&errs, "annotations", s.Annotations)
	s.Page.check(&errs, "page")
	s.Ticket.check(&errs, "ticket")
	errs.addErr("interval", checkInterval(s.Interval))
	return errs.join()
}

func (a Alerting) check(errs *fieldErrs, field string) {
	if a.Severity != "" {
		errs.addErr(field+".severity", checkLabelValue(a.Severity, false))
	}
	if a.For < 0 {
		errs.add(field+".for", "%v: want a duration of 0 or more", a.For)
	}
	checkAlertLabels(errs, field+".labels", a.Labels)
	checkAnnotations(errs, field+".annotations", a.Annotations)
}

// Validate reports every problem of the KPI, each naming its field.
func (k KPI) Validate() error {
	var errs fieldErrs
	errs.addErr("name", checkName(k.Name))
	if k.Numerator == "" {
		errs.add("numerator", "required: a PromQL query")
	} else {
		errs.addErr("numerator", checkInstantQuery(k.Numerator))
	}
	if k.Denominator == "" {
		errs.add("denominator", "required: a PromQL query")
	} else {
		errs.addErr("denominator", checkInstantQuery(k.Denominator))
	}
	k.Baseline.check(&errs)
	switch {
	case k.MaxDrop == 0 && k.MaxRise == 0:
		errs.add("max_drop", "want max_drop, max_rise or both: the fraction of the baseline allowed (0.2 is 20%%)")
	default:
		if k.MaxDrop != 0 && !(k.MaxDrop > 0 && k.MaxDrop < 1) {
			errs.add("max_drop", "%v: want a fraction between 0 and 1 (0.2 is 20%%)", k.MaxDrop)
		}
		if k.MaxRise != 0 && !(k.MaxRise > 0 && !math.IsInf(k.MaxRise, 1)) {
			errs.add("max_rise", "%v: want a fraction above 0 (0.2 is 20%%)", k.MaxRise)
		}
	}
	if v := k.MinVolume; v != nil {
		if !(v.AtLeast > 0 && !math.IsInf(v.AtLeast, 1)) {
			errs.add("min_volume.at_least", "%v: want a number above 0", v.AtLeast)
		}
		if v.Query != "" {
			errs.addErr("min_volume.query", checkInstantQuery(v.Query))
		}
	}
	if k.For != nil && *k.For < 0 {
		errs.add("for", "%v: want a duration of 0 or more", *k.For)
	}
	if k.Severity != "" {
		errs.addErr("severity", checkLabelValue(k.Severity, false))
	}
	if n := kpiAlertName(k, "Dropped"); checkName(k.Name) == nil && !model.LegacyValidation.IsValidMetricName(n) {
		errs.add("name", "%q: the alert names made from it (%s) are not valid: start it with a letter", k.Name, n)
	}
	checkRuleLabels(&errs, "labels", k.Labels)
	checkAnnotations(&errs, "annotations", k.Annotations)
	errs.addErr("interval", checkInterval(k.Interval))
	return errs.join()
}

func (b Baseline) check(errs *fieldErrs) {
	var set []string
	if b.Offset != 0 {
		set = append(set, "offset")
		if b.Offset < 0 {
			errs.add("baseline.offset", "%v: want a duration above 0", b.Offset)
		}
	}
	if b.MovingAverage != 0 {
		set = append(set, "moving_average")
		if b.MovingAverage < 0 {
			errs.add("baseline.moving_average", "%v: want a duration above 0", b.MovingAverage)
		}
	}
	if st := b.SameTime; st != nil {
		set = append(set, "same_time")
		if st.Every <= 0 {
			errs.add("baseline.same_time.every", "%v: want the period, such as 1d (same time of day) or 1w (of week)", st.Every)
		}
		if st.Count < 1 || st.Count > maxSameTimeCount {
			errs.add("baseline.same_time.count", "%d: want how many past periods to average, 1 to %d", st.Count, maxSameTimeCount)
		}
	}
	switch len(set) {
	case 0:
		errs.add("baseline", "want one of offset (1w), moving_average (7d) or same_time ({every: 1d, count: 7})")
	case 1:
	default:
		errs.add("baseline", "%s: want only one", strings.Join(set, " and "))
	}
}

func checkName(name string) error {
	if name == "" {
		return errors.New("required")
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q: want letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

func checkObjective(o float64) error {
	switch {
	case math.IsNaN(o):
		return fmt.Errorf("%v: want a percentage such as 99.9", o)
	case o >= 100:
		return fmt.Errorf("%v: want a percentage below 100", o)
	case o <= 1:
		return fmt.Errorf("%v: want a percentage above 1: 99.9 means 99.9%%", o)
	}
	return nil
}

func checkWindow(w model.Duration) error {
	d := time.Duration(w)
	switch {
	case d <= minWindow:
		return fmt.Errorf("%v: want more than %v, the longest alert window", w, model.Duration(minWindow))
	case d > maxWindow:
		return fmt.Errorf("%v: want at most %v", w, model.Duration(maxWindow))
	case d%time.Minute != 0:
		return fmt.Errorf("%v: want whole minutes", w)
	}
	return nil
}

func checkInterval(i model.Duration) error {
	if i < 0 || time.Duration(i) > maxInterval {
		return fmt.Errorf("%v: want a duration up to %v, the shortest window", i, model.Duration(maxInterval))
	}
	return nil
}

func checkAlertName(n string) error {
	if !model.LegacyValidation.IsValidMetricName(n) || strings.Contains(n, ":") {
		return fmt.Errorf("%q: want letters, digits and '_', not starting with a digit", n)
	}
	return nil
}

// checkLabelName checks a label name the spec sets.
func checkLabelName(k string) error {
	switch {
	case !model.LegacyValidation.IsValidLabelName(k):
		return fmt.Errorf("%q: a label name is letters, digits and '_', not starting with a digit", k)
	case strings.HasPrefix(k, "__"):
		return fmt.Errorf("%q: names starting with __ are Prometheus's own", k)
	case slices.Contains(reserved, k):
		return fmt.Errorf("%q: oncall sets this label itself", k)
	}
	return nil
}

// checkLabelValue checks a label value; template says whether it is an
// alert's (a template) or a recorded series' (literal text).
func checkLabelValue(v string, template bool) error {
	if !model.LabelValue(v).IsValid() {
		return fmt.Errorf("%q: not valid UTF-8", v)
	}
	if template {
		return checkTemplate(v)
	}
	if strings.Contains(v, "{{") {
		return fmt.Errorf("%q: labels of recorded series are not templates", v)
	}
	return nil
}

// checkRuleLabels checks labels that go on recorded series and alerts.
func checkRuleLabels(errs *fieldErrs, field string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		errs.addErr(field, checkLabelName(k))
		errs.addErr(field+"."+k, checkLabelValue(m[k], false))
	}
}

// checkAlertLabels checks labels that go on alerts only.
func checkAlertLabels(errs *fieldErrs, field string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		errs.addErr(field, checkLabelName(k))
		errs.addErr(field+"."+k, checkLabelValue(m[k], true))
	}
}

func checkAnnotations(errs *fieldErrs, field string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		if !model.LegacyValidation.IsValidLabelName(k) {
			errs.add(field, "%q: an annotation name is letters, digits and '_'", k)
		}
		if !model.LabelValue(m[k]).IsValid() {
			errs.add(field+"."+k, "not valid UTF-8")
			continue
		}
		errs.addErr(field+"."+k, checkTemplate(m[k]))
	}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

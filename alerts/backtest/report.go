package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/termtext"
)

// Episode is one alert (one label set) firing: from the evaluation it
// began firing at to the first one it no longer fired at (keep_firing_for
// included), or to the end of the window when it was still firing (Open).
type Episode struct {
	Labels labels.Labels `json:"labels"`
	// ActiveAt is when it began pending.
	ActiveAt time.Time `json:"active_at"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Open     bool      `json:"open,omitempty"`
}

// Duration is how long the episode fired.
func (e Episode) Duration() time.Duration { return e.End.Sub(e.Start) }

// Spell is an alert that was pending from Start and was gone at End
// without having fired.
type Spell struct {
	Labels labels.Labels `json:"labels"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
}

// Durations are the total, median and 90th percentile of durations
// (nearest rank: the smallest that at least half, or 90%, do not exceed).
type Durations struct {
	Total, Median, P90 time.Duration
}

// SeriesStats is how often one label set fired.
type SeriesStats struct {
	Labels   labels.Labels
	Episodes int
	Firing   time.Duration
}

// RuleReport is the replay of one alerting rule.
type RuleReport struct {
	Alert, Group, File string
	Line               int
	// Severity is the rule's severity label as written.
	Severity      string
	Interval, For time.Duration
	KeepFiringFor time.Duration
	// Query is the expression range-queried (recorded series expanded).
	Query string
	// Evaluations is how many times the rule was evaluated.
	Evaluations int
	// Episodes counts the firings; Open, those still firing at the end.
	Episodes, Open int
	// Flaps counts the episodes that began within the flap window (plus
	// the rule's for) of the end of the previous one of the same labels.
	Flaps int
	// Pages counts the episodes whose severity label pages;
	// PagesPerWeek is that per week of the window.
	Pages        int
	PagesPerWeek float64
	// Firing is how long episodes fired (open ones to the window's end).
	Firing Durations
	// PendingOnly counts the alerts that were pending and went away
	// without firing; PendingOnlyTime, how long they were pending.
	PendingOnly     int
	PendingOnlyTime time.Duration
	// TopSeries are the label sets that fired most.
	TopSeries []SeriesStats
	// EvalErrors counts the evaluations that failed (a duplicate label
	// set, the group's limit); FirstEvalError says when and why the first
	// did.
	EvalErrors     int
	FirstEvalError string
	// Error is why the rule could not be replayed.
	Error string
	// EpisodeList is every episode, in order of start.
	EpisodeList []Episode
}

// Where is "file:line" of the rule.
func (r RuleReport) Where() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Report is a whole backtest.
type Report struct {
	Since, Until   time.Time
	FlapWindow     time.Duration
	PageSeverities []string
	// Expanded are the recorded series replaced by their rules'
	// expressions (the source lacked them).
	Expanded []string
	// Rules, noisiest first.
	Rules []RuleReport
}

// Weeks is the window's length in weeks.
func (r Report) Weeks() float64 { return weeks(r.Since, r.Until) }

func weeks(since, until time.Time) float64 { return until.Sub(since).Hours() / (7 * 24) }

// summarize fills the figures of r from its episodes and unfired spells.
func (r *RuleReport) summarize(eps []Episode, unfired []Spell, o Options) {
	r.EpisodeList = eps
	r.Episodes = len(eps)
	var ds []time.Duration
	last := map[uint64]time.Time{}
	series := map[uint64]*SeriesStats{}
	for _, e := range eps {
		d := e.Duration()
		ds = append(ds, d)
		if e.Open {
			r.Open++
		}
		if slices.Contains(o.PageSeverities, e.Labels.Get("severity")) {
			r.Pages++
		}
		h := e.Labels.Hash()
		if end, ok := last[h]; ok && e.Start.Sub(end) <= o.FlapWindow+r.For {
			r.Flaps++
		}
		last[h] = e.End
		s := series[h]
		if s == nil {
			s = &SeriesStats{Labels: e.Labels}
			series[h] = s
		}
		s.Episodes++
		s.Firing += d
	}
	r.Firing = durations(ds)
	if w := weeks(o.Since, o.Until); w > 0 {
		r.PagesPerWeek = float64(r.Pages) / w
	}
	for _, s := range unfired {
		r.PendingOnly++
		r.PendingOnlyTime += s.End.Sub(s.Start)
	}
	var top []SeriesStats
	for _, s := range series {
		top = append(top, *s)
	}
	slices.SortFunc(top, func(a, b SeriesStats) int {
		switch {
		case a.Episodes != b.Episodes:
			return b.Episodes - a.Episodes
		case a.Firing != b.Firing:
			return cmpDur(b.Firing, a.Firing)
		}
		return labels.Compare(a.Labels, b.Labels)
	})
	r.TopSeries = top[:min(len(top), o.Top)]
}

// durations sums ds and takes its nearest-rank median and 90th percentile.
func durations(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var out Durations
	for _, d := range s {
		out.Total += d
	}
	rank := func(p float64) time.Duration { return s[int(math.Ceil(p*float64(len(s))))-1] }
	out.Median, out.P90 = rank(0.5), rank(0.9)
	return out
}

// sort puts the noisiest rules first: most episodes, then flaps, then
// firing time, then pending without firing; rules that could not be
// replayed last.
func (r *Report) sort() {
	slices.SortStableFunc(r.Rules, func(a, b RuleReport) int {
		switch {
		case (a.Error == "") != (b.Error == ""):
			if a.Error == "" {
				return -1
			}
			return 1
		case a.Episodes != b.Episodes:
			return b.Episodes - a.Episodes
		case a.Flaps != b.Flaps:
			return b.Flaps - a.Flaps
		case a.Firing.Total != b.Firing.Total:
			return cmpDur(b.Firing.Total, a.Firing.Total)
		case a.PendingOnly != b.PendingOnly:
			return b.PendingOnly - a.PendingOnly
		case a.Alert != b.Alert:
			return strings.Compare(a.Alert, b.Alert)
		case a.File != b.File:
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Failed reports whether a rule could not be replayed.
func (r Report) Failed() bool {
	for _, rr := range r.Rules {
		if rr.Error != "" {
			return true
		}
	}
	return false
}

// WithoutEpisodes is r without the episode lists.
func (r Report) WithoutEpisodes() Report {
	r.Rules = slices.Clone(r.Rules)
	for i := range r.Rules {
		r.Rules[i].EpisodeList = nil
	}
	return r
}

// seconds writes a duration as seconds.
type seconds time.Duration

// MarshalJSON writes the duration as a number of seconds.
func (s seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(s).Seconds(), 'f', -1, 64)), nil
}

type jsonDurations struct {
	Total  seconds `json:"total_seconds"`
	Median seconds `json:"median_seconds"`
	P90    seconds `json:"p90_seconds"`
}

type jsonSeries struct {
	Labels   labels.Labels `json:"labels"`
	Episodes int           `json:"episodes"`
	Firing   seconds       `json:"firing_seconds"`
}

type jsonRule struct {
	Alert           string        `json:"alert"`
	Group           string        `json:"group"`
	File            string        `json:"file"`
	Line            int           `json:"line"`
	Severity        string        `json:"severity"`
	Interval        seconds       `json:"interval_seconds"`
	For             seconds       `json:"for_seconds"`
	KeepFiringFor   seconds       `json:"keep_firing_for_seconds"`
	Query           string        `json:"query"`
	Evaluations     int           `json:"evaluations"`
	Episodes        int           `json:"episodes"`
	Open            int           `json:"open"`
	Flaps           int           `json:"flaps"`
	Pages           int           `json:"pages"`
	PagesPerWeek    float64       `json:"pages_per_week"`
	Firing          jsonDurations `json:"firing"`
	PendingOnly     int           `json:"pending_never_fired"`
	PendingOnlyTime seconds       `json:"pending_never_fired_seconds"`
	TopSeries       []jsonSeries  `json:"top_series"`
	EvalErrors      int           `json:"evaluation_errors"`
	FirstEvalError  string        `json:"first_evaluation_error,omitempty"`
	Error           string        `json:"error,omitempty"`
	EpisodeList     []Episode     `json:"episode_list,omitempty"`
}

// MarshalJSON writes durations as seconds and names every field in
// snake case.
func (r RuleReport) MarshalJSON() ([]byte, error) {
	top := make([]jsonSeries, len(r.TopSeries))
	for i, s := range r.TopSeries {
		top[i] = jsonSeries{s.Labels, s.Episodes, seconds(s.Firing)}
	}
	return json.Marshal(jsonRule{
		Alert: r.Alert, Group: r.Group, File: r.File, Line: r.Line, Severity: r.Severity,
		Interval: seconds(r.Interval), For: seconds(r.For), KeepFiringFor: seconds(r.KeepFiringFor),
		Query: r.Query, Evaluations: r.Evaluations, Episodes: r.Episodes, Open: r.Open, Flaps: r.Flaps,
		Pages: r.Pages, PagesPerWeek: r.PagesPerWeek,
		Firing:      jsonDurations{seconds(r.Firing.Total), seconds(r.Firing.Median), seconds(r.Firing.P90)},
		PendingOnly: r.PendingOnly, PendingOnlyTime: seconds(r.PendingOnlyTime), TopSeries: top,
		EvalErrors: r.EvalErrors, FirstEvalError: r.FirstEvalError, Error: r.Error, EpisodeList: r.EpisodeList,
	})
}

// MarshalJSON writes the window, its settings and the rules.
func (r Report) MarshalJSON() ([]byte, error) {
	rs := r.Rules
	if rs == nil {
		rs = []RuleReport{}
	}
	exp := r.Expanded
	if exp == nil {
		exp = []string{}
	}
	return json.Marshal(struct {
		Since          time.Time    `json:"since"`
		Until          time.Time    `json:"until"`
		Weeks          float64      `json:"weeks"`
		FlapWindow     seconds      `json:"flap_window_seconds"`
		PageSeverities []string     `json:"page_severities"`
		Expanded       []string     `json:"expanded_recorded_series"`
		Rules          []RuleReport `json:"rules"`
	}{r.Since, r.Until, r.Weeks(), seconds(r.FlapWindow), r.PageSeverities, exp, rs})
}

// WriteTable writes the report for people: the window, then one row per
// rule, noisiest first, then the rules that failed and why. Times are in
// the location of Since.
func (r Report) WriteTable(w io.Writer) error {
	loc := r.Since.Location()
	fmt.Fprintf(w, "Replayed %s to %s (%s, %s weeks); flap window %s; paging severities: %s\n",
		r.Since.In(loc).Format("2006-01-02 15:04 MST"), r.Until.In(loc).Format("2006-01-02 15:04 MST"), dur(r.Until.Sub(r.Since)),
		strconv.FormatFloat(r.Weeks(), 'f', 2, 64), dur(r.FlapWindow), strings.Join(r.PageSeverities, ", "))
	if len(r.Expanded) > 0 {
		fmt.Fprintf(w, "Not at the source, replaced by their recording rules' expressions: %s\n", strings.Join(r.Expanded, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tSEVERITY\tEPISODES\tFLAPS\tPAGES/WEEK\tFIRING\tMEDIAN\tP90\tPENDING ONLY\tTOP SERIES")
	for _, rr := range r.Rules {
		if rr.Error != "" {
			continue
		}
		eps := strconv.Itoa(rr.Episodes)
		if rr.Open > 0 {
			eps += fmt.Sprintf(" (%d open)", rr.Open)
		}
		pending := "-"
		if rr.PendingOnly > 0 {
			pending = fmt.Sprintf("%d, %s", rr.PendingOnly, dur(rr.PendingOnlyTime))
		}
		median, p90 := "-", "-"
		if rr.Episodes > 0 {
			median, p90 = dur(rr.Firing.Median), dur(rr.Firing.P90)
		}
		var top []string
		for _, s := range rr.TopSeries {
			top = append(top, fmt.Sprintf("%s ×%d", seriesName(s.Labels), s.Episodes))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Clean(rr.Alert), orDash(termtext.Clean(rr.Severity)), eps, rr.Flaps,
			strconv.FormatFloat(rr.PagesPerWeek, 'f', 1, 64), dur(rr.Firing.Total), median, p90, pending, orDash(strings.Join(top, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, rr := range r.Rules {
		switch {
		case rr.Error != "":
			fmt.Fprintf(w, "\n%s %s: not replayed: %s", termtext.Clean(rr.Alert), rr.Where(), termtext.Clean(rr.Error))
		case rr.EvalErrors > 0:
			fmt.Fprintf(w, "\n%s %s: %d of %d evaluations failed, the first at %s", termtext.Clean(rr.Alert), rr.Where(), rr.EvalErrors, rr.Evaluations,
				termtext.Clean(rr.FirstEvalError))
		default:
			continue
		}
		fmt.Fprintln(w)
	}
	return nil
}

// seriesName is a label set without its alertname, for a table.
func seriesName(ls labels.Labels) string {
	b := labels.NewBuilder(ls)
	b.Del(labels.AlertName)
	return termtext.Clean(b.Labels().String())
}

// dur is a duration for a table, to the second.
func dur(d time.Duration) string { return model.Duration(d.Round(time.Second)).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

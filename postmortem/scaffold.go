package postmortem

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Incidents reads one incident (incidents.ErrNotFound when there is none).
type Incidents interface {
	Incident(ctx context.Context, id int64) (incidents.Incident, error)
}

// Transitions reads the alert history between from and to, oldest first.
type Transitions interface {
	Transitions(ctx context.Context, from, to time.Time) ([]alerts.Transition, error)
}

// Pages reads the pages sent for one incident, with their delivery.
type Pages interface {
	IncidentPages(ctx context.Context, id int64) ([]incidents.Page, error)
}

// Rules lists the alerting rules in effect.
type Rules interface {
	Rules(ctx context.Context) ([]alerts.Rule, error)
}

// RangeQuerier evaluates a PromQL expression over [start, end] at step.
type RangeQuerier interface {
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error)
}

// LogLines reads the log lines written between from and to.
type LogLines interface {
	LogLines(ctx context.Context, from, to time.Time) ([]logs.Entry, error)
}

// ChatMessage is a message captured from an incident's chat channel.
type ChatMessage struct {
	At      time.Time `json:"at"`
	Channel string    `json:"channel,omitempty"`
	Author  string    `json:"author,omitempty"`
	Text    string    `json:"text"`
}

// Chat reads the chat messages captured for an incident (the Slack bot
// keeps those of the incident's channel); the scaffolder leaves them out
// when Sources.Chat is nil.
type Chat interface {
	ChatMessages(ctx context.Context, incident int64, from, to time.Time) ([]ChatMessage, error)
}

// Sources are where the scaffolder reads what oncall saw. Incidents is
// required; without Transitions or Pages those parts are left out; Rules,
// Series, Logs and Chat are optional, and the document says what it
// could not read.
type Sources struct {
	Incidents   Incidents
	Transitions Transitions
	Pages       Pages
	Rules       Rules
	Series      RangeQuerier
	Logs        LogLines
	Chat        Chat
}

// Objective is a service level objective the impact is measured against:
// the error ratio (0 to 1) of the service's events, and optionally their
// rate per second, for the events lost.
type Objective struct {
	Service string
	Name    string
	// Objective is the percentage of good events (99.9).
	Objective float64
	// Window is the objective's window (30 days by default).
	Window     time.Duration
	ErrorRatio string
	// Total, when set, is the rate of all events per second.
	Total string
}

// Options are what a scaffold reads beyond the incident.
type Options struct {
	// Now is when the postmortem is written.
	Now time.Time
	// ActionDueDays is how many days an action item of the severity has
	// (DefaultActionDueDays when nil).
	ActionDueDays func(incidents.Severity) int
	// DueDays is how many days after the incident resolved the draft is
	// due for review (5 when 0).
	DueDays int
	// Catalog says which log lines are a service's.
	Catalog catalog.Catalog
	// Objectives are the SLOs the impact is estimated against; without one
	// for the service, the alert rules' queries estimate it.
	Objectives []Objective
	// Template renders the body (the default when nil): see Scaffold for
	// what it is given.
	Template *template.Template
}

// DefaultActionDueDays is the days an action item has by severity: 15 for
// SEV1, 30 for SEV2, 60 below.
func DefaultActionDueDays(s incidents.Severity) int {
	switch s {
	case incidents.SEV1:
		return 15
	case incidents.SEV2:
		return 30
	}
	return 60
}

// Row is one line of the timeline.
type Row struct {
	At time.Time `json:"at"`
	// Source is where it came from: alert, incident, page, chat.
	Source string `json:"source"`
	Text   string `json:"text"`
	Actor  string `json:"actor,omitempty"`
	// Marker names the moment a row is: started, detected, acknowledged,
	// mitigated or resolved ("" for others).
	Marker string `json:"marker,omitempty"`
}

// PageRow is one page of the escalation: who, at which step, when it was
// delivered and when the incident was acknowledged after it.
type PageRow struct {
	At          time.Time `json:"at"`
	Step        int       `json:"step"`
	StepName    string    `json:"step_name,omitempty"`
	Target      string    `json:"target"`
	Kind        string    `json:"kind"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	Error       string    `json:"error,omitempty"`
	// AckedBy and AckedAt are the first acknowledgement after the page
	// and before the next one (empty if none).
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Figure is one of the response's numbers.
type Figure struct {
	Name  string        `json:"name"`
	Value time.Duration `json:"value_ns"`
	// Known says both ends of the figure are known.
	Known    bool   `json:"known"`
	From, To string `json:"-"`
}

// RuleUse is an alert rule the incident involved.
type RuleUse struct {
	Name string `json:"name"`
	// Rule is its definition (zero when oncall does not evaluate it: the
	// alert was received).
	Rule    alerts.Rule `json:"rule,omitzero"`
	Defined bool        `json:"defined"`
	// Firings counts its firing transitions during the incident, Series
	// the distinct series.
	Firings int `json:"firings"`
	Series  int `json:"series"`
}

// LogLine is one log line at the peak.
type LogLine struct {
	logs.Entry
	// Transaction is the line's transaction (trace, request) id.
	Transaction string `json:"transaction,omitempty"`
}

// Scaffold is what oncall knows of an incident, as the template reads it.
type Scaffold struct {
	FrontMatter
	Ref     string `json:"ref"`
	Summary string `json:"summary,omitempty"`
	// Open says the incident is not resolved yet.
	Open       bool               `json:"open,omitempty"`
	Timeline   []Row              `json:"timeline"`
	Escalation []PageRow          `json:"escalation"`
	Figures    []Figure           `json:"figures"`
	Rules      []RuleUse          `json:"rules"`
	Impact     Impact             `json:"impact"`
	PeakAt     time.Time          `json:"peak_at,omitzero"`
	Logs       []LogLine          `json:"logs"`
	LogFrom    time.Time          `json:"log_from,omitzero"`
	LogTo      time.Time          `json:"log_to,omitzero"`
	Tasks      []incidents.Task   `json:"tasks,omitempty"`
	Updates    []incidents.Update `json:"updates,omitempty"`
	RunbookURL string             `json:"runbook_url,omitempty"`
	QueryURL   string             `json:"query_url,omitempty"`
	// Missing says what oncall could not read, for the document to say.
	Missing []string `json:"missing,omitempty"`
}

// lookback is how long before an incident opened its alerts' history is
// read, for when the condition began.
const lookback = time.Hour

// Build reads what oncall knows of incident id and returns the scaffold
// of its postmortem.
func Build(ctx context.Context, src Sources, id int64, opt Options) (Scaffold, error) {
	inc, err := src.Incidents.Incident(ctx, id)
	if err != nil {
		if errors.Is(err, incidents.ErrNotFound) {
			return Scaffold{}, fmt.Errorf("unknown incident %s: %w", incidents.Ref(id), err)
		}
		return Scaffold{}, fmt.Errorf("reading %s: %w", incidents.Ref(id), err)
	}
	if opt.Now.IsZero() {
		return Scaffold{}, errors.New("postmortem: Options.Now is not set")
	}
	s := Scaffold{Ref: inc.Ref(), Summary: inc.Summary, Open: inc.Open(), RunbookURL: inc.RunbookURL, QueryURL: inc.QueryURL,
		Tasks: inc.Tasks, Updates: inc.Updates}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = opt.Now
	}
	var trs []alerts.Transition
	if src.Transitions != nil {
		all, err := src.Transitions.Transitions(ctx, inc.OpenedAt.Add(-lookback), end.Add(5*time.Minute))
		if err != nil {
			s.Missing = append(s.Missing, "the alert history: "+err.Error())
		}
		trs = related(inc, all)
	} else {
		s.Missing = append(s.Missing, "the alert history")
	}
	var pages []incidents.Page
	if src.Pages != nil {
		if pages, err = src.Pages.IncidentPages(ctx, inc.ID); err != nil {
			s.Missing = append(s.Missing, "the pages: "+err.Error())
		}
		slices.SortStableFunc(pages, func(a, b incidents.Page) int { return a.CreatedAt.Compare(b.CreatedAt) })
	}
	s.FrontMatter = frontMatter(inc, trs, opt)
	s.Rules = ruleUses(ctx, src.Rules, trs, &s.Missing)
	var lost []string
	s.Impact = impact(ctx, src.Series, opt.Objectives, s.FrontMatter, s.Rules, end, &lost)
	if h := s.Impact.HeldSince; !h.IsZero() && h.Before(s.Started) {
		// The impact began when the rule's condition did, before its for
		// ran out: measure again from there.
		s.Started, lost = h, nil
		s.Impact = impact(ctx, src.Series, opt.Objectives, s.FrontMatter, s.Rules, end, &lost)
	}
	s.Missing = append(s.Missing, lost...)
	var chat []ChatMessage
	if src.Chat != nil {
		if chat, err = src.Chat.ChatMessages(ctx, inc.ID, s.Started, end); err != nil {
			s.Missing = append(s.Missing, "the chat messages: "+err.Error())
		}
	}
	s.Timeline = timeline(inc, trs, pages, chat, s.FrontMatter, s.Impact)
	s.Escalation = escalation(inc, pages)
	s.Figures = figures(s.FrontMatter)
	s.PeakAt = s.Impact.PeakAt
	if s.PeakAt.IsZero() {
		s.PeakAt = s.Detected
	}
	s.LogFrom, s.LogTo = s.PeakAt.Add(-2*time.Minute), s.PeakAt.Add(2*time.Minute)
	if src.Logs != nil {
		es, err := src.Logs.LogLines(ctx, s.LogFrom, s.LogTo)
		if err != nil {
			s.Missing = append(s.Missing, "the log lines: "+err.Error())
		}
		s.Logs = peakLogs(es, s.Services, opt.Catalog, s.PeakAt)
	} else {
		s.Missing = append(s.Missing, "the log lines")
	}
	return s, nil
}

// related keeps the transitions of the incident's alerts: those of its
// service (or, without one, of the alerts its groups and title name),
// from the episode that was active when the incident opened on.
func related(inc incidents.Incident, all []alerts.Transition) []alerts.Transition {
	keys := strings.Join(inc.Keys(), " ")
	mine := func(t alerts.Transition) bool {
		if inc.Service != "" {
			return t.Labels.Get("service") == inc.Service
		}
		return (t.Name() != "" && strings.Contains(keys, `alertname="`+t.Name()+`"`)) || (t.Summary != "" && t.Summary == inc.Title)
	}
	fpOf := func(t alerts.Transition) uint64 {
		if t.Fingerprint != 0 {
			return t.Fingerprint
		}
		return alerts.Fingerprint(t.Labels)
	}
	var out []alerts.Transition
	for _, t := range all {
		if !mine(t) {
			continue
		}
		if t.State == alerts.StateResolved && t.At.Before(inc.OpenedAt) {
			// An episode of the series ended before the incident opened:
			// it is not this incident's.
			fp := fpOf(t)
			out = slices.DeleteFunc(out, func(o alerts.Transition) bool { return fpOf(o) == fp })
			continue
		}
		out = append(out, t)
	}
	return out
}

// firstEvent is the time of the first timeline event of kind (zero if none).
func firstEvent(inc incidents.Incident, kind string) (time.Time, string) {
	for _, e := range inc.Timeline {
		if e.Kind == kind {
			return e.At, e.Actor
		}
	}
	return time.Time{}, ""
}

// frontMatter is the front matter oncall can fill in.
func frontMatter(inc incidents.Incident, trs []alerts.Transition, opt Options) FrontMatter {
	fm := FrontMatter{ID: inc.Ref(), Incident: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: StatusDraft,
		StatusSince: opt.Now.UTC(), Drill: inc.Drill, DeclaredBy: inc.DeclaredBy, Detected: inc.OpenedAt, Resolved: inc.ResolvedAt}
	fm.Started = inc.OpenedAt
	if !inc.FiringSince.IsZero() && inc.FiringSince.Before(fm.Started) {
		fm.Started = inc.FiringSince
	}
	for _, t := range trs {
		if t.State != alerts.StateResolved && t.At.Before(fm.Started) {
			fm.Started = t.At
		}
	}

	ackAt, acker := firstEvent(inc, "acknowledged")
	fm.Acknowledged = ackAt
	if fm.Mitigated, _ = firstEvent(inc, "mitigated"); fm.Mitigated.IsZero() {
		fm.Mitigated = inc.MitigatedAt
	}
	// To the second: the document is read by people.
	for _, t := range []*time.Time{&fm.StatusSince, &fm.Started, &fm.Detected, &fm.Acknowledged, &fm.Mitigated, &fm.Resolved} {
		*t = t.Truncate(time.Second)
	}
	fm.Owner = inc.Role(incidents.RoleCommander)
	for _, o := range []string{acker, inc.AckedBy, inc.DeclaredBy} {
		if fm.Owner == "" && o != "oncall" {
			fm.Owner = o
		}
	}
	if inc.Service != "" {
		fm.Services = []string{inc.Service}
	}
	for _, t := range trs {
		if sv := t.Labels.Get("service"); sv != "" && !slices.Contains(fm.Services, sv) {
			fm.Services = append(fm.Services, sv)
		}
	}
	closed := inc.ResolvedAt
	if closed.IsZero() {
		closed = opt.Now
	}
	dueDays := opt.DueDays
	if dueDays <= 0 {
		dueDays = 5
	}
	fm.Due = DateOf(closed).AddDays(dueDays)
	actDays := opt.ActionDueDays
	if actDays == nil {
		actDays = DefaultActionDueDays
	}
	actionDue := DateOf(closed).AddDays(actDays(inc.Severity))
	for _, t := range inc.Tasks {
		if !t.Done {
			fm.Actions = append(fm.Actions, Action{Title: t.Text, Owner: t.Owner, Due: actionDue, Status: ActionOpen})
		}
	}
	if inc.DeclaredBy != "" && !inc.Drill {
		// No alert caught it: setting one up is part of the fix.
		fm.Actions = append(fm.Actions, Action{Title: "Add an alert that would have caught this before " + inc.DeclaredBy + " did", Owner: fm.Owner, Due: actionDue, Status: ActionOpen})
	}
	return fm
}

// eventMarkers are the incident events that mark a moment.
var eventMarkers = map[string]string{"opened": "detected", "acknowledged": "acknowledged", "mitigated": "mitigated", "resolved": "resolved"}

// ruleUses are the alerts of the transitions, with their rules. Two
// rules of one name (an SLO's page and ticket) are told apart by their
// labels, so each alert is shown with the rule that made it.
func ruleUses(ctx context.Context, rules Rules, trs []alerts.Transition, missing *[]string) []RuleUse {
	if len(trs) == 0 {
		return nil
	}
	var rs []alerts.Rule
	switch {
	case rules == nil:
		*missing = append(*missing, "the alert rules")
	default:
		var err error
		if rs, err = rules.Rules(ctx); err != nil {
			*missing = append(*missing, "the alert rules: "+err.Error())
		}
	}
	var out []RuleUse
	index := map[string]int{}
	series := map[string]map[uint64]bool{}
	for _, t := range trs {
		n := t.Name()
		r, defined := ruleOf(rs, n, t.Labels)
		key := n
		if defined {
			key += "\x00" + r.Where()
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, RuleUse{Name: n, Rule: r, Defined: defined})
			series[key] = map[uint64]bool{}
		}
		if t.State == alerts.StateFiring {
			out[i].Firings++
		}
		series[key][alerts.Fingerprint(t.Labels)] = true
	}
	for key, i := range index {
		out[i].Series = len(series[key])
	}
	return out
}

// ruleOf is the alerting rule named name whose labels the alert carries
// (a templated label value matches any), else the first of that name.
func ruleOf(rs []alerts.Rule, name string, ls labels.Labels) (alerts.Rule, bool) {
	first := -1
	for i, r := range rs {
		if r.Record || r.Name != name {
			continue
		}
		if first < 0 {
			first = i
		}
		match := true
		for k, v := range r.Labels {
			if !strings.Contains(v, "{{") && ls.Get(k) != v {
				match = false
				break
			}
		}
		if match {
			return r, true
		}
	}
	if first >= 0 {
		return rs[first], true
	}
	return alerts.Rule{}, false
}

// transaction is a log line's transaction id: its trace id, or a field
// that names one.
func transaction(e logs.Entry) string {
	if e.TraceID != "" {
		return e.TraceID
	}
	for _, k := range []string{"txn", "txn_id", "transaction", "transaction_id", "request_id", "req_id", "trace_id", "correlation_id"} {
		if v := e.Fields[k]; v != "" {
			return v
		}
	}
	return ""
}

// maxLogLines bounds the log lines a postmortem quotes.
const maxLogLines = 20

// peakLogs keeps the lines of the affected services (the catalogue's log
// selector, else the service field), warnings and errors if there are
// any: the maxLogLines nearest the peak, in time order.
func peakLogs(es []logs.Entry, services []string, cat catalog.Catalog, peak time.Time) []LogLine {
	var filters []logs.Filter
	for _, name := range services {
		if sv, ok := cat.Get(name); ok && sv.Logs != "" {
			if f, err := logs.ParseFilter(sv.Logs); err == nil {
				filters = append(filters, f)
			}
		}
	}
	mine := func(e *logs.Entry) bool {
		if len(services) == 0 {
			return true
		}
		if slices.Contains(services, e.Service) {
			return true
		}
		for _, f := range filters {
			if f.Match(e) {
				return true
			}
		}
		return false
	}
	var all, loud []LogLine
	for i := range es {
		e := &es[i]
		if !mine(e) {
			continue
		}
		l := LogLine{Entry: *e, Transaction: transaction(*e)}
		all = append(all, l)
		if e.Level >= logs.LevelWarn {
			loud = append(loud, l)
		}
	}
	out := all
	if len(loud) > 0 {
		out = loud
	}
	if len(out) > maxLogLines {
		away := func(l LogLine) time.Duration { return max(l.Time.Sub(peak), peak.Sub(l.Time)) }
		slices.SortStableFunc(out, func(a, b LogLine) int { return cmp.Compare(away(a), away(b)) })
		out = out[:maxLogLines]
	}
	slices.SortStableFunc(out, func(a, b LogLine) int { return cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()) })
	return out
}

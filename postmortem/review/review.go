// Package review builds the agenda of the weekly postmortem review for
// an ISO week: the week's incidents with their severity, duration and
// postmortem status; postmortems due or stuck in review; overdue action
// items by owner; the on-call load (pages per shift and per person, the
// SRE book's line of two per 12-hour shift, pages out of hours and in
// each person's sleep hours in their own time zone); signal quality (the
// noisiest alerts, pages that needed no action, repeat incidents,
// incidents declared by hand that no alert caught); and medians with
// counts of the time to acknowledge and to resolve, never means, against
// the previous four weeks. It writes the agenda as Markdown and JSON and
// does no I/O: it reads through the interfaces of Sources.
package review

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/postmortem"
)

// Incidents reads the incidents active at some time in [from, to).
type Incidents interface {
	IncidentsBetween(ctx context.Context, from, to time.Time) ([]incidents.Incident, error)
}

// Pages reads the pages created in [from, to).
type Pages interface {
	Pages(ctx context.Context, from, to time.Time) ([]incidents.Page, error)
}

// Transitions reads the alert history in [from, to], oldest first.
type Transitions interface {
	Transitions(ctx context.Context, from, to time.Time) ([]alerts.Transition, error)
}

// Postmortems reads every postmortem there is, and says which files it
// could not read (each error naming file, line and field).
type Postmortems interface {
	Postmortems(ctx context.Context) ([]postmortem.Document, []error)
}

// Sources are what the review reads.
type Sources struct {
	Incidents   Incidents
	Pages       Pages
	Transitions Transitions
	Postmortems Postmortems
}

// Options are the review's week and what it reads beyond the sources.
type Options struct {
	Week Week
	// Now is when the review is made: overdue means overdue at the
	// earlier of Now and the week's end.
	Now time.Time
	// People are the users (with their time zones) and the schedules
	// whose shifts the pages are counted in.
	People schedule.Directory
	// StuckAfter is how long a postmortem may stay in review (7 days
	// when 0).
	StuckAfter time.Duration
	// TrendWeeks is how many weeks before are compared (4 when 0).
	TrendWeeks int
}

// Working and sleeping hours, in each person's time zone: the working
// day is 08:00 to 18:00 Monday to Friday; sleep is 22:00 to 06:00.
const (
	workStart, workEnd   = 8, 18
	sleepStart, sleepEnd = 22, 6
	// pagesPer12h is the SRE book's most paging events in a 12-hour shift.
	pagesPer12h = 2
	// caughtWithin is how long before a declared incident an alert on its
	// service counts as having caught it.
	caughtWithin = time.Hour
	// maxNoisy bounds the noisiest alerts listed.
	maxNoisy = 10
	// shortFiring is a firing so short it is likely noise.
	shortFiring = 5 * time.Minute
)

// Dur is a duration written in JSON as seconds.
type Dur time.Duration

// MarshalJSON writes the seconds.
func (d Dur) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).Seconds()) }

// UnmarshalJSON reads seconds.
func (d *Dur) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*d = Dur(s * float64(time.Second))
	return nil
}

// Review is the agenda of one week's review.
type Review struct {
	Week string    `json:"week"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// At is when "overdue" and "stuck" are judged: the earlier of now and
	// the week's end.
	At             time.Time       `json:"at"`
	Incidents      []IncidentRow   `json:"incidents"`
	Due            []PostmortemRow `json:"postmortems_due"`
	Stuck          []PostmortemRow `json:"postmortems_stuck"`
	OverdueActions []OwnerActions  `json:"overdue_actions"`
	Load           Load            `json:"load"`
	Signal         Signal          `json:"signal"`
	Times          Times           `json:"times"`
	// Skipped are the postmortem files that could not be read.
	Skipped []string `json:"skipped,omitempty"`
	// Notes say what else the review could not read or count.
	Notes []string `json:"notes,omitempty"`
}

// IncidentRow is one incident of the week.
type IncidentRow struct {
	ID       int64  `json:"id"`
	Ref      string `json:"ref"`
	Title    string `json:"title"`
	Severity string `json:"severity,omitempty"`
	Service  string `json:"service,omitempty"`
	Drill    bool   `json:"drill,omitempty"`
	// DeclaredBy is set when declared by hand.
	DeclaredBy string    `json:"declared_by,omitempty"`
	Opened     time.Time `json:"opened"`
	Resolved   time.Time `json:"resolved,omitzero"`
	// Duration is from opened to resolved (while open, to when the review
	// is made or the week's end, the earlier).
	Duration Dur  `json:"duration"`
	Open     bool `json:"open,omitempty"`
	// Postmortem is the postmortem's status, "missing" when its severity
	// requires one, "" when none is needed.
	Postmortem     string `json:"postmortem,omitempty"`
	PostmortemFile string `json:"postmortem_file,omitempty"`
}

// PostmortemRow is a postmortem due or stuck.
type PostmortemRow struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	File   string `json:"file,omitempty"`
	Status string `json:"status"`
	Owner  string `json:"owner,omitempty"`
	Due    string `json:"due,omitempty"`
	// Overdue says the draft is past its due date; NotStarted that the
	// incident has no postmortem yet.
	Overdue    bool      `json:"overdue,omitempty"`
	NotStarted bool      `json:"not_started,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	// For is how long it has been in review.
	For Dur `json:"for,omitempty"`
}

// OwnerActions are one owner's overdue action items.
type OwnerActions struct {
	Owner string      `json:"owner"`
	Items []ActionRow `json:"items"`
}

// ActionRow is one overdue action item.
type ActionRow struct {
	Postmortem string `json:"postmortem"`
	File       string `json:"file,omitempty"`
	Title      string `json:"title"`
	Due        string `json:"due"`
	DaysLate   int    `json:"days_late"`
	Ticket     string `json:"ticket,omitempty"`
	Status     string `json:"status"`
}

// Stat is a median and the count it is over.
type Stat struct {
	N      int `json:"n"`
	Median Dur `json:"median"`
	// Without counts the incidents that never got there (not
	// acknowledged, not resolved).
	Without int `json:"without"`
}

// WeekTimes are one week's figures.
type WeekTimes struct {
	Week      string `json:"week"`
	Incidents int    `json:"incidents"`
	TTA       Stat   `json:"time_to_acknowledge"`
	TTR       Stat   `json:"time_to_resolve"`
}

// Times are the week's medians, each previous week's, and the previous
// weeks' together.
type Times struct {
	This     WeekTimes   `json:"this_week"`
	Previous []WeekTimes `json:"previous"`
	PrevTTA  Stat        `json:"previous_time_to_acknowledge"`
	PrevTTR  Stat        `json:"previous_time_to_resolve"`
}

// Build reads the sources and makes the week's agenda.
func Build(ctx context.Context, src Sources, opt Options) (Review, error) {
	if opt.Week.Year == 0 {
		return Review{}, fmt.Errorf("review: no week given")
	}
	if opt.StuckAfter <= 0 {
		opt.StuckAfter = 7 * 24 * time.Hour
	}
	if opt.TrendWeeks <= 0 {
		opt.TrendWeeks = 4
	}
	w := opt.Week
	r := Review{Week: w.String(), From: w.Start(), To: w.End(), At: w.End()}
	if !opt.Now.IsZero() && opt.Now.Before(r.At) {
		r.At = opt.Now.UTC()
	}
	weeks := []Week{w}
	for range opt.TrendWeeks {
		weeks = append([]Week{weeks[0].Prev()}, weeks...)
	}
	since := weeks[0].Start()
	incs, err := src.Incidents.IncidentsBetween(ctx, since, r.To)
	if err != nil {
		return r, fmt.Errorf("review: reading incidents: %w", err)
	}
	incs = slices.DeleteFunc(incs, func(i incidents.Incident) bool { return i.MergedInto != 0 || i.OpenedAt.Before(since) })
	slices.SortStableFunc(incs, func(a, b incidents.Incident) int {
		return cmp.Or(a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.ID, b.ID))
	})
	var docs []postmortem.Document
	if src.Postmortems != nil {
		var bad []error
		docs, bad = src.Postmortems.Postmortems(ctx)
		for _, e := range bad {
			r.Skipped = append(r.Skipped, e.Error())
		}
	}
	var pages []incidents.Page
	if src.Pages != nil {
		if pages, err = src.Pages.Pages(ctx, r.From, r.To); err != nil {
			r.Notes = append(r.Notes, "pages not counted: "+err.Error())
		}
	}
	var trs []alerts.Transition
	if src.Transitions != nil {
		if trs, err = src.Transitions.Transitions(ctx, r.From.Add(-caughtWithin), r.To); err != nil {
			r.Notes = append(r.Notes, "alert history not read: "+err.Error())
		}
	}
	inWeek := func(i incidents.Incident, wk Week) bool {
		return !i.OpenedAt.Before(wk.Start()) && i.OpenedAt.Before(wk.End())
	}
	var week []incidents.Incident
	for _, i := range incs {
		if inWeek(i, w) {
			week = append(week, i)
		}
	}
	byIncident := map[int64]*postmortem.Document{}
	for i := range docs {
		d := &docs[i]
		id := d.Incident
		if id == 0 {
			fmt.Sscanf(strings.ToUpper(d.ID), "INC-%d", &id)
		}
		if id != 0 {
			byIncident[id] = d
		}
	}
	r.Incidents = incidentRows(week, byIncident, r.At)
	r.Due, r.Stuck = postmortemsDue(incs, docs, byIncident, r.At, opt.StuckAfter)
	r.OverdueActions = overdueActions(docs, r.At)
	r.Load = load(pages, opt.People, r.From, r.To)
	r.Signal = Signal{
		Noisiest: noisiest(trs, r.From, r.To),
		NoAction: noAction(week),
		Repeats:  repeats(incs, week),
		Uncaught: uncaught(week, trs),
	}
	for i, wk := range weeks {
		var in []incidents.Incident
		for _, inc := range incs {
			if inWeek(inc, wk) && !inc.Drill {
				in = append(in, inc)
			}
		}
		wt := weekTimes(wk, in)
		if i == len(weeks)-1 {
			r.Times.This = wt
		} else {
			r.Times.Previous = append(r.Times.Previous, wt)
		}
	}
	var prev []incidents.Incident
	for _, inc := range incs {
		if inc.OpenedAt.Before(r.From) && !inc.Drill {
			prev = append(prev, inc)
		}
	}
	all := weekTimes(Week{}, prev)
	r.Times.PrevTTA, r.Times.PrevTTR = all.TTA, all.TTR
	return r, nil
}

// requiresPostmortem says an incident's severity asks for a postmortem.
func requiresPostmortem(i incidents.Incident) bool {
	return !i.Drill && (i.Severity == incidents.SEV1 || i.Severity == incidents.SEV2)
}

func incidentRows(week []incidents.Incident, docs map[int64]*postmortem.Document, end time.Time) []IncidentRow {
	out := []IncidentRow{}
	for _, i := range week {
		row := IncidentRow{ID: i.ID, Ref: i.Ref(), Title: i.Title, Severity: i.Severity.String(), Service: i.Service, Drill: i.Drill,
			DeclaredBy: i.DeclaredBy, Opened: i.OpenedAt.UTC(), Open: i.Open()}
		stop := end
		if !i.Open() {
			row.Resolved, stop = i.ResolvedAt.UTC(), i.ResolvedAt
		}
		row.Duration = Dur(stop.Sub(i.OpenedAt))
		switch d, ok := docs[i.ID]; {
		case ok:
			row.Postmortem, row.PostmortemFile = d.Status.String(), d.File
		case requiresPostmortem(i):
			row.Postmortem = "missing"
		}
		out = append(out, row)
	}
	return out
}

// postmortemsDue are drafts due within a week of at or overdue, the
// incidents that require a postmortem and have none, and postmortems in
// review longer than stuck.
func postmortemsDue(incs []incidents.Incident, docs []postmortem.Document, byIncident map[int64]*postmortem.Document, at time.Time, stuck time.Duration) (due, stuckRows []PostmortemRow) {
	due, stuckRows = []PostmortemRow{}, []PostmortemRow{}
	for _, d := range docs {
		row := PostmortemRow{ID: d.ID, Title: d.Title, File: d.File, Status: d.Status.String(), Owner: d.Owner, Due: d.Due.String(), Since: d.StatusSince}
		switch d.Status {
		case postmortem.StatusDraft:
			if d.Due.IsZero() || d.Due.Time().After(at.AddDate(0, 0, 7)) {
				continue
			}
			row.Overdue = d.Due.Passed(at)
			due = append(due, row)
		case postmortem.StatusInReview:
			if d.StatusSince.IsZero() || at.Sub(d.StatusSince) < stuck {
				continue
			}
			row.For = Dur(at.Sub(d.StatusSince))
			stuckRows = append(stuckRows, row)
		}
	}
	for _, i := range incs {
		if _, ok := byIncident[i.ID]; ok || !requiresPostmortem(i) || i.Open() || i.ResolvedAt.After(at) {
			continue
		}
		due = append(due, PostmortemRow{ID: i.Ref(), Title: i.Title, Status: "none", NotStarted: true})
	}
	slices.SortStableFunc(due, func(a, b PostmortemRow) int {
		return cmp.Or(cmp.Compare(a.Due, b.Due), cmp.Compare(a.ID, b.ID))
	})
	return due, stuckRows
}

// overdueActions are the outstanding action items past their due date at
// at, by owner.
func overdueActions(docs []postmortem.Document, at time.Time) []OwnerActions {
	by := map[string][]ActionRow{}
	for _, d := range docs {
		for _, a := range d.Actions {
			if !a.Overdue(at) {
				continue
			}
			owner := a.Owner
			if owner == "" {
				owner = "(no owner)"
			}
			late := int(at.Sub(a.Due.Time().AddDate(0, 0, 1)) / (24 * time.Hour))
			by[owner] = append(by[owner], ActionRow{Postmortem: d.ID, File: d.File, Title: a.Title, Due: a.Due.String(), DaysLate: late, Ticket: a.Ticket, Status: string(a.Status)})
		}
	}
	out := []OwnerActions{}
	for owner, items := range by {
		slices.SortStableFunc(items, func(a, b ActionRow) int {
			return cmp.Or(cmp.Compare(a.Due, b.Due), cmp.Compare(a.Postmortem, b.Postmortem))
		})
		out = append(out, OwnerActions{Owner: owner, Items: items})
	}
	slices.SortFunc(out, func(a, b OwnerActions) int { return cmp.Compare(a.Owner, b.Owner) })
	return out
}

// passive are the timeline events that are no one's action on the
// incident: oncall's own, and the acknowledgement and resolution.
var passive = map[string]bool{"opened": true, "escalation": true, "alerts": true, "acknowledged": true, "ack-timeout": true, "resolved": true, "error": true}

var alertnameRE = regexp.MustCompile(`alertname="((?:[^"\\]|\\.)*)"`)

func medianDur(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// weekTimes are the medians of the incidents opened in a week.
func weekTimes(w Week, in []incidents.Incident) WeekTimes {
	wt := WeekTimes{Incidents: len(in)}
	if w.Year != 0 {
		wt.Week = w.String()
	}
	var tta, ttr []time.Duration
	for _, i := range in {
		ack := firstAck(i)
		if ack.IsZero() {
			wt.TTA.Without++
		} else {
			tta = append(tta, ack.Sub(i.OpenedAt))
		}
		if i.Open() {
			wt.TTR.Without++
		} else {
			ttr = append(ttr, i.ResolvedAt.Sub(i.OpenedAt))
		}
	}
	wt.TTA.N, wt.TTR.N = len(tta), len(ttr)
	if len(tta) > 0 {
		wt.TTA.Median = Dur(medianDur(tta))
	}
	if len(ttr) > 0 {
		wt.TTR.Median = Dur(medianDur(ttr))
	}
	return wt
}

// firstAck is when the incident was first acknowledged (zero if never).
func firstAck(i incidents.Incident) time.Time {
	for _, e := range i.Timeline {
		if e.Kind == "acknowledged" {
			return e.At
		}
	}
	return i.AckedAt
}

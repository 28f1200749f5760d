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

// Load is the week's paging load.
type Load struct {
	// Pages counts the pages sent (drills apart).
	Pages      int `json:"pages"`
	DrillPages int `json:"drill_pages,omitempty"`
	// Shifts are the shifts that were paged; Quiet counts the others.
	Shifts []ShiftLoad `json:"shifts"`
	Quiet  int         `json:"quiet_shifts"`
	// Flagged counts the shifts paged more than twice in 12 hours.
	Flagged int          `json:"flagged"`
	People  []PersonLoad `json:"people"`
	// OutsideShifts counts pages to people no schedule had on call then
	// (a manager's or commander's step).
	OutsideShifts int `json:"outside_shifts"`
}

// ShiftLoad is one stretch of a schedule's on-call and its pages.
type ShiftLoad struct {
	Schedule string `json:"schedule"`
	// Offset is which on-call of the schedule: 0 the primary, 1 the
	// secondary a policy step pages with offset 1.
	Offset int       `json:"offset,omitempty"`
	Users  []string  `json:"users"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Pages  int       `json:"pages"`
	// Busiest12h is the most pages in any 12 hours of the shift.
	Busiest12h int  `json:"busiest_12h"`
	Flagged    bool `json:"flagged,omitempty"`
}

// PersonLoad is one person's pages, by the hour in their time zone.
type PersonLoad struct {
	User     string `json:"user"`
	TimeZone string `json:"time_zone"`
	Pages    int    `json:"pages"`
	// WorkingHours, OffHours and SleepHours split the pages by local
	// time: Monday to Friday 08:00–18:00; any other time; 22:00–06:00
	// (part of off hours).
	WorkingHours int `json:"working_hours"`
	OffHours     int `json:"off_hours"`
	SleepHours   int `json:"sleep_hours"`
}

// Signal is how well alerts told real problems.
type Signal struct {
	Noisiest []AlertNoise `json:"noisiest"`
	// NoAction are incidents that paged and needed nothing done.
	NoAction []IncidentNote `json:"no_action"`
	Repeats  []Repeat       `json:"repeats"`
	// Uncaught are incidents declared by hand that no alert caught: each
	// is a missing alert.
	Uncaught []IncidentNote `json:"uncaught"`
}

// AlertNoise is how often an alert fired in the week.
type AlertNoise struct {
	Alert   string `json:"alert"`
	Firings int    `json:"firings"`
	Series  int    `json:"series"`
	// MedianFiring is the median time firing of the firings that ended;
	// Ended counts them, Short those under five minutes.
	MedianFiring Dur `json:"median_firing"`
	Ended        int `json:"ended"`
	Short        int `json:"short"`
}

// IncidentNote is an incident and why it is listed.
type IncidentNote struct {
	Ref   string `json:"ref"`
	Title string `json:"title"`
	Why   string `json:"why"`
}

// Repeat is a service or alert with more than one incident in the weeks
// reviewed, one of them this week.
type Repeat struct {
	Kind      string   `json:"kind"` // service or alert
	Name      string   `json:"name"`
	Incidents []string `json:"incidents"`
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

// counts says a page interrupts someone: a trigger or an escalation.
func counts(p incidents.Page) bool {
	return p.Kind == "trigger" || p.Kind == "escalate" || p.Kind == ""
}

// load counts the pages per shift and per person.
func load(pages []incidents.Page, people schedule.Directory, from, to time.Time) Load {
	l := Load{Shifts: []ShiftLoad{}, People: []PersonLoad{}}
	names := make([]string, 0, len(people.Schedules))
	for n := range people.Schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	type shift struct {
		ShiftLoad
		times []time.Time
	}
	// The on-calls of each schedule the policies page: the primary, and
	// the secondary (offset 1) and beyond where a step asks for them.
	offsets := map[string][]int{}
	for _, n := range names {
		offsets[n] = []int{0}
	}
	for _, pol := range people.Policies {
		for _, st := range pol.Steps {
			for _, tg := range st.Targets {
				if os, ok := offsets[tg.Schedule]; ok && !slices.Contains(os, tg.Offset) {
					offsets[tg.Schedule] = append(os, tg.Offset)
				}
			}
		}
	}
	var shifts []*shift
	for _, n := range names {
		slices.Sort(offsets[n])
		for _, off := range offsets[n] {
			for _, sp := range people.Spans(n, from, to, off) {
				if len(sp.Users) > 0 {
					shifts = append(shifts, &shift{ShiftLoad: ShiftLoad{Schedule: n, Offset: off, Users: sp.Users, Start: sp.Start, End: sp.End}})
				}
			}
		}
	}
	person := map[string]*PersonLoad{}
	for _, p := range pages {
		if !counts(p) {
			continue
		}
		if p.Drill {
			l.DrillPages++
			continue
		}
		l.Pages++
		found := false
		for _, s := range shifts {
			if !p.CreatedAt.Before(s.Start) && p.CreatedAt.Before(s.End) && slices.Contains(s.Users, p.Target) {
				s.Pages++
				s.times = append(s.times, p.CreatedAt)
				found = true
				break
			}
		}
		if !found {
			l.OutsideShifts++
		}
		pl, ok := person[p.Target]
		if !ok {
			u := people.Users[p.Target]
			pl = &PersonLoad{User: p.Target, TimeZone: u.Location()}
			person[p.Target] = pl
		}
		pl.Pages++
		loc, err := time.LoadLocation(pl.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		lt := p.CreatedAt.In(loc)
		h, wd := lt.Hour(), lt.Weekday()
		if wd >= time.Monday && wd <= time.Friday && h >= workStart && h < workEnd {
			pl.WorkingHours++
		} else {
			pl.OffHours++
		}
		if h >= sleepStart || h < sleepEnd {
			pl.SleepHours++
		}
	}
	for _, s := range shifts {
		if s.Pages == 0 {
			l.Quiet++
			continue
		}
		slices.SortFunc(s.times, time.Time.Compare)
		for i, t := range s.times {
			n := 0
			for _, u := range s.times[i:] {
				if u.Sub(t) < 12*time.Hour {
					n++
				}
			}
			s.Busiest12h = max(s.Busiest12h, n)
		}
		s.Flagged = s.Busiest12h > pagesPer12h
		if s.Flagged {
			l.Flagged++
		}
		l.Shifts = append(l.Shifts, s.ShiftLoad)
	}
	for _, p := range person {
		l.People = append(l.People, *p)
	}
	slices.SortFunc(l.People, func(a, b PersonLoad) int { return cmp.Or(cmp.Compare(b.Pages, a.Pages), cmp.Compare(a.User, b.User)) })
	return l
}

// noisiest ranks the alerts by how often they began firing in [from, to).
func noisiest(trs []alerts.Transition, from, to time.Time) []AlertNoise {
	type acc struct {
		AlertNoise
		series map[uint64]bool
		durs   []time.Duration
	}
	by := map[string]*acc{}
	firingSince := map[uint64]time.Time{}
	for _, t := range trs {
		fp := t.Fingerprint
		if fp == 0 {
			fp = alerts.Fingerprint(t.Labels)
		}
		switch t.State {
		case alerts.StateFiring:
			firingSince[fp] = t.At
			if t.At.Before(from) || !t.At.Before(to) {
				continue
			}
			a, ok := by[t.Name()]
			if !ok {
				a = &acc{AlertNoise: AlertNoise{Alert: t.Name()}, series: map[uint64]bool{}}
				by[t.Name()] = a
			}
			a.Firings++
			a.series[fp] = true
		case alerts.StateResolved:
			began, ok := firingSince[fp]
			delete(firingSince, fp)
			if a := by[t.Name()]; ok && a != nil && !began.Before(from) {
				a.durs = append(a.durs, t.At.Sub(began))
			}
		}
	}
	out := []AlertNoise{}
	for _, a := range by {
		a.Series, a.Ended = len(a.series), len(a.durs)
		if len(a.durs) > 0 {
			a.MedianFiring = Dur(medianDur(a.durs))
		}
		for _, d := range a.durs {
			if d < shortFiring {
				a.Short++
			}
		}
		out = append(out, a.AlertNoise)
	}
	slices.SortFunc(out, func(a, b AlertNoise) int {
		return cmp.Or(cmp.Compare(b.Firings, a.Firings), cmp.Compare(a.Alert, b.Alert))
	})
	if len(out) > maxNoisy {
		out = out[:maxNoisy]
	}
	return out
}

// passive are the timeline events that are no one's action on the
// incident: oncall's own, and the acknowledgement and resolution.
var passive = map[string]bool{"opened": true, "escalation": true, "alerts": true, "acknowledged": true, "ack-timeout": true, "resolved": true, "error": true}

// noAction are the week's resolved incidents whose timeline holds nothing
// but being paged, acknowledged and resolved.
func noAction(week []incidents.Incident) []IncidentNote {
	out := []IncidentNote{}
	for _, i := range week {
		if i.Drill || i.Open() || i.DeclaredBy != "" {
			continue
		}
		acked, byAlerts, acted := false, false, false
		for _, e := range i.Timeline {
			switch {
			case !passive[e.Kind]:
				acted = true
			case e.Kind == "acknowledged":
				acked = true
			case e.Kind == "resolved" && e.Source == "alerts":
				byAlerts = true
			}
		}
		switch {
		case acted:
		case acked:
			out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: "acknowledged and resolved with nothing else done"})
		case byAlerts:
			out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: "resolved on its own before anyone acknowledged"})
		}
	}
	return out
}

var alertnameRE = regexp.MustCompile(`alertname="((?:[^"\\]|\\.)*)"`)

// alertOf names the alert that opened an incident: the alertname of its
// group, else its title; "" when declared by hand.
func alertOf(i incidents.Incident) string {
	if i.Key == "" {
		return ""
	}
	if m := alertnameRE.FindStringSubmatch(i.Key); m != nil {
		return m[1]
	}
	return i.Title
}

// repeats are the services and alerts with more than one incident in the
// weeks read, at least one of them this week.
func repeats(all, week []incidents.Incident) []Repeat {
	thisWeek := map[int64]bool{}
	for _, i := range week {
		thisWeek[i.ID] = true
	}
	type key struct{ kind, name string }
	by := map[key][]incidents.Incident{}
	var order []key
	for _, i := range all {
		if i.Drill {
			continue
		}
		for _, k := range []key{{"service", i.Service}, {"alert", alertOf(i)}} {
			if k.name == "" {
				continue
			}
			if _, ok := by[k]; !ok {
				order = append(order, k)
			}
			by[k] = append(by[k], i)
		}
	}
	out := []Repeat{}
	for _, k := range order {
		is := by[k]
		if len(is) < 2 || !slices.ContainsFunc(is, func(i incidents.Incident) bool { return thisWeek[i.ID] }) {
			continue
		}
		rp := Repeat{Kind: k.kind, Name: k.name}
		for _, i := range is {
			rp.Incidents = append(rp.Incidents, i.Ref())
		}
		out = append(out, rp)
	}
	slices.SortStableFunc(out, func(a, b Repeat) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name)) })
	return out
}

// uncaught are the week's incidents declared by hand with no alert of
// their service beginning to fire in the hour before.
func uncaught(week []incidents.Incident, trs []alerts.Transition) []IncidentNote {
	out := []IncidentNote{}
	for _, i := range week {
		if i.DeclaredBy == "" || i.Drill {
			continue
		}
		caught := false
		for _, t := range trs {
			// An alert that began firing on the service in the hour
			// before caught it; one firing for long before did not tell
			// anyone about this.
			if i.Service != "" && t.State == alerts.StateFiring && t.Labels.Get("service") == i.Service &&
				!t.At.After(i.OpenedAt) && i.OpenedAt.Sub(t.At) <= caughtWithin {
				caught = true
				break
			}
		}
		if caught {
			continue
		}
		why := "declared by " + i.DeclaredBy + "; no alert fired"
		if i.Service != "" {
			why += " on " + i.Service
		}
		out = append(out, IncidentNote{Ref: i.Ref(), Title: i.Title, Why: why + " in the hour before: a missing alert"})
	}
	return out
}

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

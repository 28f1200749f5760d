package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/internal/golden"
	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/postmortem/storedata"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

// people are a team in Berlin with a night on-call in New York: ana and
// ben take weekday days in turn, cai the weeknights (a shift that crosses
// midnight), dee the weekends (across the end of summer time on 25
// October 2026); ric is the incident commander, on no schedule.
func people(t *testing.T) schedule.Directory {
	t.Helper()
	day := func(s string) []schedule.DaySpan {
		var d schedule.DaySpan
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return []schedule.DaySpan{d}
	}
	return schedule.Directory{
		Users: map[string]schedule.User{
			"ana": {Name: "ana", TimeZone: "Europe/Berlin"}, "ben": {Name: "ben", TimeZone: "Europe/Berlin"},
			"cai": {Name: "cai", TimeZone: "America/New_York"}, "dee": {Name: "dee", TimeZone: "Europe/Berlin"}, "ric": {Name: "ric"},
		},
		Rotations: map[string]schedule.Rotation{"days": {Name: "days", Users: []string{"ana", "ben"}, Start: schedule.WallClock(2026, 1, 5, 9, 0), TimeZone: "Europe/Berlin"}},
		Schedules: map[string]schedule.Schedule{"checkout": {Name: "checkout", TimeZone: "Europe/Berlin", Rules: []schedule.Rule{
			{Rotation: "days", Days: day("mon-fri"), From: schedule.Clock(9, 0), To: schedule.Clock(18, 0)},
			{User: "cai", Days: day("mon-thu"), From: schedule.Clock(18, 0), To: schedule.Clock(9, 0)},
			{User: "cai", Days: day("fri"), From: schedule.Clock(18, 0), To: schedule.Clock(0, 0)},
			{User: "dee", Days: day("sat-sun")},
			{User: "dee", Days: day("mon"), From: schedule.Clock(0, 0), To: schedule.Clock(9, 0)},
		}}},
		Policies: map[string]schedule.Policy{"checkout": {Name: "checkout", Steps: []schedule.Step{
			{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "checkout"}}, Delay: 5 * time.Minute},
			{Name: "incident commander", Targets: []schedule.Target{{User: "ric"}}, Delay: 10 * time.Minute},
		}}},
	}
}

// seed writes a history into a real store through the incident
// lifecycle: alarms open incidents and page the on-call, people act.
type seed struct {
	t  *testing.T
	st store.Store
	s  incidents.Settings
}

func newSeed(t *testing.T) seed {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return seed{t: t, st: st, s: incidents.Settings{People: people(t)}}
}

func utc(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, time.UTC) }

func (sd seed) labels(name, service, severity string) labels.Labels {
	return labels.FromStrings("alertname", name, "service", service, "severity", severity)
}

// alarm opens an incident for alert name on service at at.
func (sd seed) alarm(at time.Time, name, service, severity string) int64 {
	sd.t.Helper()
	a := incidents.Alarm{Receiver: "pager", GroupKey: `{}:{alertname="` + name + `", service="` + service + `"}`,
		Firing: []alerts.Alert{{Labels: sd.labels(name, service, severity), Annotations: labels.FromStrings("summary", name+" on "+service), StartsAt: at}}}
	var id int64
	err := store.Incidents(sd.st).UpdateIncidents(context.Background(), func(tx incidents.Tx) ([]incidents.Page, error) {
		inc, pages, err := incidents.Receive(context.Background(), tx, sd.s, "checkout", a, at)
		if inc != nil {
			id = inc.ID
		}
		return pages, err
	})
	if err != nil {
		sd.t.Fatal(err)
	}
	return id
}

// clear tells the incident's group that its alerts resolved.
func (sd seed) clear(at time.Time, name, service string) {
	sd.t.Helper()
	a := incidents.Alarm{Receiver: "pager", GroupKey: `{}:{alertname="` + name + `", service="` + service + `"}`}
	err := store.Incidents(sd.st).UpdateIncidents(context.Background(), func(tx incidents.Tx) ([]incidents.Page, error) {
		_, pages, err := incidents.Receive(context.Background(), tx, sd.s, "checkout", a, at)
		return pages, err
	})
	if err != nil {
		sd.t.Fatal(err)
	}
}

func (sd seed) declare(at time.Time, title, service string, sev incidents.Severity, by string, drill bool) int64 {
	sd.t.Helper()
	inc, err := incidents.Declare(context.Background(), store.Incidents(sd.st), sd.s, incidents.Declaration{Title: title, Service: service, Severity: sev,
		Policy: "checkout", Drill: drill, By: incidents.Actor{Name: by, Source: "cli"}}, at)
	if err != nil {
		sd.t.Fatal(err)
	}
	return inc.ID
}

func (sd seed) act(id int64, f func(*incidents.Incident) ([]incidents.Page, error)) {
	sd.t.Helper()
	if _, err := incidents.Act(context.Background(), store.Incidents(sd.st), id, f); err != nil {
		sd.t.Fatal(err)
	}
}

func (sd seed) ack(id int64, by string, at time.Time) {
	sd.act(id, func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.Acknowledge(sd.s, incidents.Actor{Name: by, Source: "cli"}, at)
	})
}

func (sd seed) resolve(id int64, by string, at time.Time) {
	sd.act(id, func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.Resolve(incidents.Actor{Name: by, Source: "cli"}, "", at)
	})
}

func (sd seed) note(id int64, by, text string, at time.Time) {
	sd.act(id, func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.AddNote(text, incidents.Actor{Name: by, Source: "cli"}, at)
	})
}

// history records an alert firing over [from, to).
func (sd seed) history(name, service string, from, to time.Time) {
	sd.t.Helper()
	ls := sd.labels(name, service, "page")
	fp := alerts.Fingerprint(ls)
	trs := []alerts.Transition{{At: from, Fingerprint: fp, Labels: ls, State: alerts.StateFiring, Source: "rule"}}
	if !to.IsZero() {
		trs = append(trs, alerts.Transition{At: to, Fingerprint: fp, Labels: ls, State: alerts.StateResolved, Source: "rule"})
	}
	if err := sd.st.AppendHistory(context.Background(), trs); err != nil {
		sd.t.Fatal(err)
	}
}

// week43 seeds five weeks ending with 2026-W43 (19 to 25 October).
func week43(t *testing.T) seed {
	sd := newSeed(t)
	// W39: checkout errors, answered in 2 minutes.
	i := sd.alarm(utc(9, 22, 10, 0), "CheckoutErrors", "checkout", "page")
	sd.ack(i, "ana", utc(9, 22, 10, 2))
	sd.resolve(i, "ana", utc(9, 22, 10, 30))
	// W40: nothing. W41: a bank declines cards; declared by hand.
	i = sd.declare(utc(10, 7, 12, 0), "Checkout declined every card from one bank", "checkout", incidents.SEV2, "ana", false)
	sd.ack(i, "ben", utc(10, 7, 12, 4))
	sd.resolve(i, "ben", utc(10, 7, 13, 0))
	// W42: search slow, a payments backlog.
	i = sd.alarm(utc(10, 15, 14, 0), "SearchLatency", "search", "warning")
	sd.ack(i, "ana", utc(10, 15, 14, 6))
	sd.resolve(i, "ana", utc(10, 15, 14, 20))
	i = sd.alarm(utc(10, 16, 9, 0), "QueueBacklog", "payments", "warning")
	sd.ack(i, "ana", utc(10, 16, 9, 1))
	sd.resolve(i, "ana", utc(10, 16, 9, 10))

	// W43. Tuesday noon in Berlin: checkout errors, ben on days.
	sd.history("CheckoutErrors", "checkout", utc(10, 20, 9, 58), utc(10, 20, 10, 35))
	i = sd.alarm(utc(10, 20, 10, 0), "CheckoutErrors", "checkout", "page") // INC-5
	sd.ack(i, "ben", utc(10, 20, 10, 3))
	sd.act(i, func(inc *incidents.Incident) ([]incidents.Page, error) {
		return nil, inc.PostUpdate("rolling back", false, "", incidents.Actor{Name: "ben"}, utc(10, 20, 10, 10))
	})
	sd.resolve(i, "ben", utc(10, 20, 10, 40))
	// Wednesday night, cai's shift from 18:00 Berlin to 09:00 Thursday:
	// five pages, across midnight.
	sd.history("SearchLatency", "search", utc(10, 21, 20, 29), utc(10, 21, 20, 45))
	i = sd.alarm(utc(10, 21, 20, 30), "SearchLatency", "search", "warning") // INC-6: nothing to do
	sd.ack(i, "cai", utc(10, 21, 20, 33))
	sd.resolve(i, "cai", utc(10, 21, 20, 50))
	sd.history("SearchLatency", "search", utc(10, 21, 21, 49), utc(10, 21, 21, 52))
	sd.alarm(utc(10, 21, 21, 50), "SearchLatency", "search", "warning") // INC-7: resolves itself
	sd.clear(utc(10, 21, 21, 55), "SearchLatency", "search")
	sd.history("DiskFull", "search", utc(10, 21, 22, 19), utc(10, 21, 22, 39))
	i = sd.alarm(utc(10, 21, 22, 20), "DiskFull", "search", "page") // INC-8
	sd.ack(i, "cai", utc(10, 21, 22, 25))
	sd.note(i, "cai", "cleared /var/log", utc(10, 21, 22, 30))
	sd.resolve(i, "cai", utc(10, 21, 22, 40))
	sd.history("SearchLatency", "search", utc(10, 21, 23, 59), utc(10, 22, 0, 3))
	i = sd.alarm(utc(10, 22, 0, 0), "SearchLatency", "search", "warning") // INC-9: nothing to do
	sd.ack(i, "cai", utc(10, 22, 0, 2))
	sd.resolve(i, "cai", utc(10, 22, 0, 20))
	sd.history("QueueBacklog", "payments", utc(10, 22, 2, 58), time.Time{}) // still firing at the week's end
	i = sd.alarm(utc(10, 22, 3, 0), "QueueBacklog", "payments", "warning")  // INC-10: 23:00 in New York
	sd.ack(i, "cai", utc(10, 22, 3, 10))
	sd.note(i, "cai", "scaled the consumers", utc(10, 22, 3, 20))
	sd.resolve(i, "cai", utc(10, 22, 3, 30))
	// Saturday 06:30 in Berlin (summer time): declared by hand, no
	// alert on payments; nobody answers for 5 minutes: ric is paged.
	i = sd.declare(utc(10, 24, 4, 30), "Refunds stuck", "payments", incidents.SEV1, "ana", false) // INC-11
	sd.act(i, func(inc *incidents.Incident) ([]incidents.Page, error) {
		return inc.Escalate(sd.s, utc(10, 24, 4, 35)), nil
	})
	sd.ack(i, "dee", utc(10, 24, 4, 38))
	sd.resolve(i, "dee", utc(10, 24, 6, 0))
	// Sunday 05:30 in Berlin (winter time since 03:00): declared while
	// an alert on checkout fires, so an alert did catch it.
	sd.history("CheckoutErrors", "checkout", utc(10, 25, 4, 10), utc(10, 25, 4, 50))
	i = sd.declare(utc(10, 25, 4, 30), "Checkout slow", "checkout", incidents.SEV3, "ben", false) // INC-12
	sd.ack(i, "dee", utc(10, 25, 4, 40))
	sd.resolve(i, "dee", utc(10, 25, 5, 0))
	i = sd.declare(utc(10, 25, 5, 30), "Game day: the database fails over", "checkout", incidents.SEV2, "ric", true) // INC-13
	sd.resolve(i, "ric", utc(10, 25, 6, 30))
	// Sunday night: a ticket nobody takes, open at the week's end.
	sd.alarm(utc(10, 25, 20, 0), "CertExpiring", "edge", "ticket") // INC-14
	return sd
}

// dir reads the postmortems of testdata/postmortems.
type dir string

func (d dir) Postmortems(context.Context) ([]postmortem.Document, []error) {
	return postmortem.Load(os.DirFS(string(d)), ".")
}

func sources(sd seed, pms string) review.Sources {
	rd := storedata.Reader{Store: sd.st}
	return review.Sources{Incidents: rd, Pages: rd, Transitions: rd, Postmortems: dir(pms)}
}

func TestWeeklyReview(t *testing.T) {
	sd := week43(t)
	w, err := review.ParseWeek("2026-W43")
	if err != nil {
		t.Fatal(err)
	}
	r, err := review.Build(context.Background(), sources(sd, "testdata/postmortems"), review.Options{Week: w, Now: utc(10, 28, 9, 0), People: people(t)})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden.File(t, "review-2026-W43.md", md.String())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.File(t, "review-2026-W43.json", string(js)+"\n")

	// Each figure, from the script above.
	if len(r.Incidents) != 10 || r.Incidents[0].Ref != "INC-5" || !r.Incidents[9].Open {
		t.Errorf("incidents: %+v", r.Incidents)
	}
	pm := map[string]string{}
	for _, i := range r.Incidents {
		pm[i.Ref] = i.Postmortem
	}
	if pm["INC-5"] != "Draft" || pm["INC-11"] != "missing" || pm["INC-8"] != "missing" || pm["INC-13"] != "" {
		t.Errorf("postmortem statuses %v", pm)
	}
	var due []string
	for _, d := range r.Due {
		due = append(due, d.ID)
		if d.ID == "INC-5" && !d.Overdue {
			t.Errorf("INC-5's draft was due on the 25th: %+v", d)
		}
	}
	if strings.Join(due, " ") != "INC-1 INC-11 INC-8 INC-5" || len(r.Stuck) != 1 || r.Stuck[0].ID != "INC-2" || time.Duration(r.Stuck[0].For) != 16*24*time.Hour+9*time.Hour {
		t.Errorf("due %v, stuck %+v", due, r.Stuck)
	}
	if len(r.OverdueActions) != 2 || r.OverdueActions[0].Owner != "ana" || r.OverdueActions[1].Owner != "ben" || r.OverdueActions[1].Items[0].DaysLate != 10 {
		t.Errorf("overdue actions %+v", r.OverdueActions)
	}
	if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], "broken.md:4: status: unknown status \"Done\"") {
		t.Errorf("skipped %v: want broken.md reported, README left alone", r.Skipped)
	}
	l := r.Load
	if l.Pages != 10 || l.DrillPages != 1 || l.OutsideShifts != 1 || l.Flagged != 1 {
		t.Errorf("load: %d pages, %d drill, %d outside, %d flagged", l.Pages, l.DrillPages, l.OutsideShifts, l.Flagged)
	}
	var night *review.ShiftLoad
	for i, s := range l.Shifts {
		if s.Users[0] == "cai" && s.Pages > 0 {
			night = &l.Shifts[i]
		}
	}
	if night == nil || night.Pages != 5 || night.Busiest12h != 5 || !night.Flagged || !night.Start.Equal(utc(10, 21, 16, 0)) || !night.End.Equal(utc(10, 22, 7, 0)) {
		t.Errorf("cai's night shift across midnight: %+v", night)
	}
	byUser := map[string]review.PersonLoad{}
	for _, p := range l.People {
		byUser[p.User] = p
	}
	// New York: 16:30 and 17:50 are working hours, 18:20, 20:00 and 23:00
	// are not, and 23:00 is asleep.
	if c := byUser["cai"]; c.Pages != 5 || c.WorkingHours != 2 || c.OffHours != 3 || c.SleepHours != 1 {
		t.Errorf("cai: %+v", c)
	}
	// Berlin: 04:30 UTC is 06:30 on Saturday (summer time) but 05:30 on
	// Sunday (winter time): only Sunday's wakes dee. 20:00 UTC on Sunday
	// is 21:00.
	if d := byUser["dee"]; d.Pages != 3 || d.OffHours != 3 || d.SleepHours != 1 {
		t.Errorf("dee across the change of time: %+v", d)
	}
	sig := r.Signal
	if len(sig.Noisiest) == 0 || sig.Noisiest[0].Alert != "SearchLatency" || sig.Noisiest[0].Firings != 3 || sig.Noisiest[0].Short != 2 {
		t.Errorf("noisiest %+v", sig.Noisiest)
	}
	var noAction []string
	for _, n := range sig.NoAction {
		noAction = append(noAction, n.Ref)
	}
	if strings.Join(noAction, " ") != "INC-6 INC-7 INC-9" {
		t.Errorf("no action: %+v", sig.NoAction)
	}
	if len(sig.Uncaught) != 1 || sig.Uncaught[0].Ref != "INC-11" {
		t.Errorf("uncaught: %+v (INC-12 was caught by CheckoutErrors)", sig.Uncaught)
	}
	reps := map[string]string{}
	for _, rp := range sig.Repeats {
		reps[rp.Kind+" "+rp.Name] = strings.Join(rp.Incidents, ",")
	}
	if reps["alert SearchLatency"] != "INC-3,INC-6,INC-7,INC-9" || reps["service checkout"] != "INC-1,INC-2,INC-5,INC-12" || reps["alert CheckoutErrors"] != "INC-1,INC-5" || reps["alert DiskFull"] != "" {
		t.Errorf("repeats %v", reps)
	}
	tm := r.Times
	// This week: acknowledged in 3, 3, 5, 2, 10, 8 and 10 minutes; INC-7
	// and INC-14 never; the drill apart.
	if tm.This.Incidents != 9 || tm.This.TTA.N != 7 || time.Duration(tm.This.TTA.Median) != 5*time.Minute || tm.This.TTA.Without != 2 || tm.This.TTR.Without != 1 {
		t.Errorf("this week %+v", tm.This)
	}
	if len(tm.Previous) != 4 || tm.Previous[0].Week != "2026-W39" || tm.Previous[1].Incidents != 0 || tm.PrevTTA.N != 4 || time.Duration(tm.PrevTTA.Median) != 3*time.Minute {
		t.Errorf("previous %+v %+v", tm.Previous, tm.PrevTTA)
	}
}

// 2026 has 53 ISO weeks: its last runs from Monday 28 December to Sunday
// 3 January 2027, and 2027-W01 begins on the 4th.
func TestWeekAcrossTheYear(t *testing.T) {
	for _, tc := range []struct {
		in         string
		start, end time.Time
		err        string
	}{
		{in: "2026-W53", start: time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), end: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)},
		{in: "2027W01", start: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), end: time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)},
		{in: "2026-w47", start: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), end: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{in: "2020-W53", start: time.Date(2020, 12, 28, 0, 0, 0, 0, time.UTC), end: time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC)},
		{in: "2025-W01", start: time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), end: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)},
		{in: "2027-W53", err: `"2027-W53": 2027 has weeks 1 to 52`},
		{in: "2026-W00", err: "2026 has weeks 1 to 53"},
		{in: "2026-47", err: `"2026-47" is not an ISO week: want YYYY-Www, like 2026-W47`},
		{in: "last week", err: "is not an ISO week"},
	} {
		w, err := review.ParseWeek(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseWeek(%q) = %v, %v; want error %q", tc.in, w, err, tc.err)
			}
		case err != nil:
			t.Errorf("ParseWeek(%q): %v", tc.in, err)
		case !w.Start().Equal(tc.start) || !w.End().Equal(tc.end):
			t.Errorf("%s: %v to %v, want %v to %v", tc.in, w.Start(), w.End(), tc.start, tc.end)
		case review.WeekOf(w.Start()) != w || review.WeekOf(w.End().Add(-time.Nanosecond)) != w:
			t.Errorf("%s: WeekOf disagrees", tc.in)
		}
	}
	if got := (review.Week{Year: 2027, Num: 1}).Prev(); got.String() != "2026-W53" {
		t.Errorf("the week before 2027-W01 is %s", got)
	}

	sd := newSeed(t)
	for _, at := range []time.Time{
		time.Date(2026, 12, 21, 10, 0, 0, 0, time.UTC),  // W52
		time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), // W53, 2026
		time.Date(2027, 1, 3, 23, 30, 0, 0, time.UTC),   // W53, 2027: Monday 00:30 in Berlin, Sunday in UTC
		time.Date(2027, 1, 4, 0, 30, 0, 0, time.UTC),    // 2027-W01
	} {
		i := sd.alarm(at, "CheckoutErrors", "checkout", "page")
		sd.ack(i, "dee", at.Add(4*time.Minute))
		sd.resolve(i, "dee", at.Add(30*time.Minute))
	}
	refs := func(w string) (review.Review, string) {
		wk, err := review.ParseWeek(w)
		if err != nil {
			t.Fatal(err)
		}
		r, err := review.Build(context.Background(), sources(sd, t.TempDir()), review.Options{Week: wk, Now: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), People: people(t)})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, i := range r.Incidents {
			s = append(s, i.Ref)
		}
		return r, strings.Join(s, " ")
	}
	if _, got := refs("2026-W53"); got != "INC-2 INC-3" {
		t.Errorf("2026-W53 holds %s, want INC-2 INC-3", got)
	}
	r, got := refs("2027-W01")
	if got != "INC-4" {
		t.Errorf("2027-W01 holds %s, want INC-4", got)
	}
	var weeks []string
	for _, p := range r.Times.Previous {
		weeks = append(weeks, p.Week+"="+string(rune('0'+p.Incidents)))
	}
	if strings.Join(weeks, " ") != "2026-W50=0 2026-W51=0 2026-W52=1 2026-W53=2" || r.Times.PrevTTA.N != 3 {
		t.Errorf("previous weeks of 2027-W01: %v, %+v", weeks, r.Times.PrevTTA)
	}
	// The week's Monday night in Berlin, Sunday night in UTC: dee's
	// weekend shift covers both years' sides of midnight.
	if r.Load.Pages != 1 || len(r.Load.Shifts) != 1 || r.Load.Shifts[0].Users[0] != "dee" {
		t.Errorf("2027-W01 load %+v", r.Load)
	}
}

// A policy's secondary step (offset 1) pages the schedule's secondary
// on-call: that page counts in the secondary's shift, not outside any.
func TestSecondaryShifts(t *testing.T) {
	sd := newSeed(t)
	sd.s.People = schedule.Directory{
		Users: map[string]schedule.User{"ann": {Name: "ann", TimeZone: "Europe/Berlin"}, "bo": {Name: "bo", TimeZone: "Europe/Berlin"}},
		Schedules: map[string]schedule.Schedule{"checkout": {Name: "checkout", Users: []string{"ann", "bo"},
			Start: schedule.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}},
		Policies: map[string]schedule.Policy{"checkout": {Name: "checkout", Steps: []schedule.Step{
			{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "checkout"}}, Delay: 5 * time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{Schedule: "checkout", Offset: 1}}, Delay: 10 * time.Minute},
		}}},
	}
	at := utc(11, 24, 10, 0)
	i := sd.alarm(at, "CheckoutErrors", "checkout", "page")
	sd.act(i, func(inc *incidents.Incident) ([]incidents.Page, error) {
		return inc.Escalate(sd.s, at.Add(5*time.Minute)), nil
	})
	sd.ack(i, "bo", at.Add(7*time.Minute))
	r, err := review.Build(context.Background(), sources(sd, t.TempDir()), review.Options{Week: review.WeekOf(at), Now: at.Add(time.Hour), People: sd.s.People})
	if err != nil {
		t.Fatal(err)
	}
	l := r.Load
	got := map[string]int{}
	for _, s := range l.Shifts {
		got[fmt.Sprintf("%s+%d %s", s.Schedule, s.Offset, strings.Join(s.Users, ","))] += s.Pages
	}
	if l.Pages != 2 || l.OutsideShifts != 0 || got["checkout+0 bo"] != 1 || got["checkout+1 ann"] != 1 {
		t.Errorf("load %+v: want bo's page in his shift and ann's in her secondary shift", l)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "| checkout (secondary) | ann |") {
		t.Errorf("markdown (%v) lacks the secondary's shift:\n%s", err, md.String())
	}
	// Still open an hour in: its duration so far, not to the week's end.
	if len(r.Incidents) != 1 || !r.Incidents[0].Open || time.Duration(r.Incidents[0].Duration) != time.Hour {
		t.Errorf("the open incident: %+v", r.Incidents)
	}
}

package review

// The on-call load of the week: pages per shift and per person, out of
// hours and during sleep in each one's time zone.

import (
	"cmp"
	"slices"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
)

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

// Package schedule answers "who is on call" and "who is paged next":
// people, rotations (hourly, daily, weekly or any shift, with hand-offs
// that keep their local time across daylight saving), schedules built
// from weekday and time-of-day rules with overrides and temporary
// rosters, and escalation policies whose steps page people, schedule
// positions or another policy, ending at the incident commander. It also
// lints coverage and exports shifts as iCalendar. Every answer takes the
// instant it is asked about.
package schedule

import (
	"fmt"
	"slices"
	"time"
)

// Directory is everything that says who is paged: people, rotations,
// schedules and policies, by name.
type Directory struct {
	Users     map[string]User     `json:"users,omitempty"`
	Rotations map[string]Rotation `json:"rotations,omitempty"`
	Schedules map[string]Schedule `json:"schedules,omitempty"`
	Policies  map[string]Policy   `json:"policies,omitempty"`
	// Commander, when set, is the last step of every policy that does
	// not reach it already (unless the policy opts out).
	Commander *Step `json:"incident_commander,omitempty"`
}

// rotation returns the named rotation, or a short-form schedule's own.
func (d Directory) rotation(name string) (Rotation, bool) {
	if r, ok := d.Rotations[name]; ok {
		return r, true
	}
	if s, ok := d.Schedules[name]; ok && len(s.Users) > 0 {
		return s.rotation(), true
	}
	return Rotation{}, false
}

// OnCall returns who the named schedule puts on call at t, offset places
// along its rotations (offset 1 is the secondary: whoever has the next
// shift), and when the answer may next change (zero: never). Overrides
// and temporary schedules change offset 0 only; a rule naming a person
// has nobody further along.
func (d Directory) OnCall(name string, t time.Time, offset int) (users []string, until time.Time) {
	s, ok := d.Schedules[name]
	if !ok {
		return nil, time.Time{}
	}
	earliest := func(c time.Time) {
		if !c.IsZero() && c.After(t) && (until.IsZero() || c.Before(until)) {
			until = c
		}
	}
	inTemp := false
	if offset == 0 {
		for _, tmp := range s.Temporary {
			if t.Before(tmp.Start) {
				earliest(tmp.Start)
				continue
			}
			if !t.Before(tmp.End) {
				continue
			}
			inTemp = true
			earliest(tmp.End)
			for _, sh := range tmp.Shifts {
				switch {
				case t.Before(sh.Start):
					earliest(sh.Start)
				case t.Before(sh.End):
					earliest(sh.End)
					if !slices.Contains(users, sh.User) {
						users = append(users, sh.User)
					}
				}
			}
		}
	}
	if !inTemp {
		loc := mustLocation(s.TimeZone)
		for _, r := range s.rules() {
			w := newWindow(r, loc)
			earliest(w.next(t))
			if !w.covers(t) {
				continue
			}
			switch {
			case r.User != "":
				if offset == 0 {
					users = []string{r.User}
				}
			default:
				rot, ok := d.rotation(r.Rotation)
				if !ok {
					continue
				}
				u, _, end := rot.At(t, offset)
				earliest(end)
				if u != "" {
					users = []string{u}
				}
			}
		}
	}
	if offset == 0 {
		for _, o := range s.Overrides {
			switch {
			case t.Before(o.Start):
				earliest(o.Start)
			case t.Before(o.End):
				earliest(o.End)
				users = o.apply(users)
			}
		}
	}
	return users, until
}

// Spans returns who the schedule puts on call at offset over [from, to),
// as stretches of unchanged on-call.
func (d Directory) Spans(name string, from, to time.Time, offset int) []Span {
	var out []Span
	for t := from; t.Before(to); {
		users, until := d.OnCall(name, t, offset)
		end := to
		if !until.IsZero() && until.Before(to) {
			end = until
		}
		if n := len(out); n > 0 && slices.Equal(out[n-1].Users, users) {
			out[n-1].End = end.UTC()
		} else {
			out = append(out, Span{Users: users, Start: t.UTC(), End: end.UTC()})
		}
		t = end
	}
	return out
}

// NextChange returns when, after t, the schedule at offset next puts
// someone else on call, and who; zero if not within horizon.
func (d Directory) NextChange(name string, t time.Time, offset int, horizon time.Duration) (time.Time, []string) {
	now, _ := d.OnCall(name, t, offset)
	limit := t.Add(horizon)
	for at := t; ; {
		_, until := d.OnCall(name, at, offset)
		if until.IsZero() || until.After(limit) {
			return time.Time{}, nil
		}
		next, _ := d.OnCall(name, until, offset)
		if !slices.Equal(next, now) {
			return until, next
		}
		at = until
	}
}

// Who is the answer to "who is on call": each step of a policy, and each
// schedule, now and next.
type Who struct {
	At     time.Time `json:"at"`
	Policy string    `json:"policy,omitempty"`
	// Steps are the policy's steps resolved at At.
	Steps []Assignment `json:"steps,omitempty"`
	// Schedules are who each schedule puts on call at At.
	Schedules []Now `json:"schedules,omitempty"`
}

// Now is who a schedule puts on call at an instant, until when, and who
// takes over then.
type Now struct {
	Schedule string    `json:"schedule"`
	Users    []string  `json:"users"`
	Until    time.Time `json:"until,omitzero"`
	Next     []string  `json:"next,omitempty"`
}

// Who answers for policy (its steps; none if "") and for the named
// schedules (every schedule if none is named and no policy is asked).
func (d Directory) Who(at time.Time, policy string, schedules ...string) (Who, error) {
	w := Who{At: at, Policy: policy}
	if policy != "" {
		steps, err := d.Chain(policy, at)
		if err != nil {
			return w, err
		}
		w.Steps = steps
	}
	if len(schedules) == 0 && policy == "" {
		for n := range d.Schedules {
			schedules = append(schedules, n)
		}
		slices.Sort(schedules)
	}
	for _, n := range schedules {
		if _, ok := d.Schedules[n]; !ok {
			return w, fmt.Errorf("unknown schedule %q", n)
		}
		users, _ := d.OnCall(n, at, 0)
		now := Now{Schedule: n, Users: users}
		now.Until, now.Next = d.NextChange(n, at, 0, lookAhead)
		w.Schedules = append(w.Schedules, now)
	}
	return w, nil
}

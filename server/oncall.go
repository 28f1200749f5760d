package server

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/oncallhq/oncall/incidents/schedule"
)

func (a *api) oncallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/oncall", a.oncall)
	mux.HandleFunc("GET /api/v1/who", a.who)
	mux.HandleFunc("GET /api/v1/schedules", a.schedules)
	mux.HandleFunc("GET /api/v1/schedules/{name}/shifts", a.shifts)
	mux.HandleFunc("GET /api/v1/schedules/{name}/lint", a.lint)
	mux.HandleFunc("GET /api/v1/schedules/{name}/ical", a.scheduleICal)
	mux.HandleFunc("GET /api/v1/users/{name}/ical", a.userICal)
}

func (a *api) oncall(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, a.onCallAt(a.o.Now()))
}

// onCallAt is the escalation chain of /api/v1/oncall at now: the main
// policy's steps, now and next.
func (a *api) onCallAt(now time.Time) []schedule.Assignment {
	if a.o.OnCallPolicy == "" {
		return []schedule.Assignment{}
	}
	chain, err := a.o.Incidents.People.Chain(a.o.OnCallPolicy, now)
	if err != nil {
		return []schedule.Assignment{}
	}
	return nonNil(chain)
}

// timeParam reads an RFC 3339 or Unix-seconds query parameter, def when
// absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := promTime(v)
	if err == nil {
		err = checkTime(t)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// who answers GET /api/v1/who?at=&policy=&service=&schedule=…: each step
// of the policy (the service's, or the main one) and each schedule named
// (every schedule when nothing is named), now and next.
func (a *api) who(w http.ResponseWriter, r *http.Request) {
	at, err := timeParam(r, "at", a.o.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	policy := q.Get("policy")
	if svc := q.Get("service"); svc != "" {
		s, ok := a.o.Catalog.Get(svc)
		switch {
		case !ok:
			writeError(w, http.StatusNotFound, fmt.Errorf("unknown service %q", svc))
			return
		case s.Policy == "":
			writeError(w, http.StatusNotFound, fmt.Errorf("service %q names no escalation policy", svc))
			return
		}
		policy = s.Policy
	}
	scheds := q["schedule"]
	if policy == "" && len(scheds) == 0 {
		policy = a.o.OnCallPolicy
	}
	people := a.o.Incidents.People
	if policy != "" {
		if _, ok := people.Policies[policy]; !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("unknown policy %q", policy))
			return
		}
	}
	if policy != "" && len(scheds) == 0 {
		// With a policy, the schedules its steps read.
		p, _ := people.Freeze(policy)
		for _, s := range p.Steps {
			for _, t := range s.Targets {
				if t.Schedule != "" && !slices.Contains(scheds, t.Schedule) {
					scheds = append(scheds, t.Schedule)
				}
			}
		}
	}
	ans, err := people.Who(at, policy, scheds...)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, ans)
}

// ScheduleInfo is a schedule and who it puts on call now.
type ScheduleInfo struct {
	schedule.Schedule
	Now schedule.Now `json:"now"`
}

func (a *api) schedules(w http.ResponseWriter, _ *http.Request) {
	people := a.o.Incidents.People
	names := make([]string, 0, len(people.Schedules))
	for n := range people.Schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	now := a.o.Now()
	ans, _ := people.Who(now, "", names...)
	out := []ScheduleInfo{}
	for i, n := range names {
		out = append(out, ScheduleInfo{people.Schedules[n], ans.Schedules[i]})
	}
	writeJSON(w, out)
}

// span reads from and to (default: from, and length after it), at most a
// year and a day apart.
func span(r *http.Request, from time.Time, length time.Duration) (time.Time, time.Time, error) {
	from, err := timeParam(r, "from", from)
	if err != nil {
		return from, from, err
	}
	to, err := timeParam(r, "to", from.Add(length))
	if err != nil {
		return from, to, err
	}
	switch {
	case !to.After(from):
		return from, to, fmt.Errorf("to (%s) must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > 367*24*time.Hour:
		return from, to, fmt.Errorf("from %s to %s is more than a year", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

// knownSchedule answers 404 for an unknown schedule.
func (a *api) knownSchedule(w http.ResponseWriter, name string) bool {
	if _, ok := a.o.Incidents.People.Schedules[name]; !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("unknown schedule %q", name))
		return false
	}
	return true
}

func (a *api) shifts(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !a.knownSchedule(w, name) {
		return
	}
	from, to, err := span(r, a.o.Now(), 14*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	offset := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		if _, err := fmt.Sscan(v, &offset); err != nil || offset < 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("offset: %q is not a position (0 is the on-call, 1 the secondary)", v))
			return
		}
	}
	writeJSON(w, nonNil(a.o.Incidents.People.Spans(name, from, to, offset)))
}

func (a *api) lint(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !a.knownSchedule(w, name) {
		return
	}
	from, to, err := span(r, a.o.Now(), 14*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, nonNil(a.o.Incidents.People.Lint(name, from, to)))
}

func (a *api) scheduleICal(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !a.knownSchedule(w, name) {
		return
	}
	a.writeICal(w, r, name, func(from, to time.Time) []schedule.Event {
		return a.o.Incidents.People.ScheduleEvents(name, from, to)
	})
}

func (a *api) userICal(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := a.o.Incidents.People.Users[name]; !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("unknown user %q", name))
		return
	}
	a.writeICal(w, r, "on call: "+name, func(from, to time.Time) []schedule.Event {
		return a.o.Incidents.People.UserEvents(name, from, to)
	})
}

func (a *api) writeICal(w http.ResponseWriter, r *http.Request, name string, events func(from, to time.Time) []schedule.Event) {
	now := a.o.Now()
	// A week back and three months on, as a subscribed calendar wants.
	from, to, err := span(r, now.Add(-7*24*time.Hour), 97*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	schedule.WriteICal(w, name, events(from, to), now)
}

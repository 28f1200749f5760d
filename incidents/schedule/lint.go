package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Finding is one coverage problem of a schedule.
type Finding struct {
	Schedule string `json:"schedule"`
	// Check is "uncovered" (nobody on call) or "long-stretch" (one person
	// on call longer than the schedule's max_stretch).
	Check string    `json:"check"`
	User  string    `json:"user,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Open says the stretch runs on past the end of the span linted.
	Open    bool   `json:"open,omitempty"`
	Message string `json:"message"`
}

// Lint reports the hours in [from, to) that nobody covers and every
// person on call for longer than the schedule's max_stretch without a
// break.
func (d Directory) Lint(name string, from, to time.Time) []Finding {
	s, ok := d.Schedules[name]
	if !ok {
		return nil
	}
	var out []Finding
	spans := d.Spans(name, from, to, 0)
	for _, sp := range spans {
		if len(sp.Users) == 0 {
			out = append(out, Finding{Schedule: name, Check: "uncovered", Start: sp.Start, End: sp.End,
				Message: fmt.Sprintf("nobody is on call for %s, %s to %s", human(sp.End.Sub(sp.Start)), sp.Start.UTC().Format(time.RFC3339), sp.End.UTC().Format(time.RFC3339))})
		}
	}
	runs := map[string]time.Time{} // user → start of the stretch they are in
	closeRun := func(u string, end time.Time, open bool) {
		start := runs[u]
		delete(runs, u)
		if end.Sub(start) <= s.maxStretch() {
			return
		}
		more := ""
		if open {
			more = " or more"
		}
		out = append(out, Finding{Schedule: name, Check: "long-stretch", User: u, Start: start, End: end, Open: open,
			Message: fmt.Sprintf("%s is on call for %s%s without a break from %s (longest allowed: %s)", u, human(end.Sub(start)), more, start.UTC().Format(time.RFC3339), human(s.maxStretch()))})
	}
	for _, sp := range spans {
		for u := range runs {
			if !slices.Contains(sp.Users, u) {
				closeRun(u, sp.Start, false)
			}
		}
		for _, u := range sp.Users {
			if _, on := runs[u]; !on {
				runs[u] = sp.Start
			}
		}
	}
	users := make([]string, 0, len(runs))
	for u := range runs {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		closeRun(u, to, true)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Start.Compare(b.Start) })
	return out
}

// human writes a duration in days and hours: "3d 4h", "45m".
func human(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 || days == 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if m := int(d % time.Hour / time.Minute); m > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	return strings.Join(parts, " ")
}

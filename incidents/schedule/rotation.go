package schedule

import (
	"errors"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // hand-offs are in named zones even on a machine without zoneinfo
)

// Rotation hands on-call from one person to the next at every hand-off:
// Users[0] from Start for one Shift, then Users[1], and round again.
type Rotation struct {
	Name  string   `yaml:"name" json:"name"`
	Users []string `yaml:"users" json:"users"`
	// Shift is the length of a shift (default weekly).
	Shift Length `yaml:"shift" json:"shift"`
	// Start is a hand-off: a wall-clock time in TimeZone (2026-01-05T09:00)
	// or an instant (RFC 3339).
	Start Wall `yaml:"start" json:"start"`
	// TimeZone is the IANA zone hand-offs keep their local time in
	// (default UTC).
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
}

func (r Rotation) shift() Length {
	if r.Shift.IsZero() {
		return Days(7)
	}
	return r.Shift
}

// Validate reports what is wrong with the rotation given the known users
// (nil: any user).
func (r Rotation) Validate(users map[string]User) error {
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if len(r.Users) == 0 {
		errs = append(errs, fmt.Errorf("users: rotation %q needs at least one user", r.Name))
	}
	errs = append(errs, checkUsers("users", r.Users, users)...)
	if r.Start.IsZero() {
		errs = append(errs, fmt.Errorf("start: rotation %q needs its first hand-off, like 2026-01-05T09:00", r.Name))
	}
	if loc, err := location(r.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	} else if err := r.Start.exists(loc); err != nil {
		errs = append(errs, fmt.Errorf("start: %w", err))
	}
	return errors.Join(errs...)
}

func checkUsers(field string, names []string, users map[string]User) []error {
	var errs []error
	for i, u := range names {
		if err := knownUser(u, users); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", field, i, err))
		}
	}
	return errs
}

// handOff returns the start of shift n (shift 0 starts at Start).
func (r Rotation) handOff(n int64, loc *time.Location) time.Time {
	return r.shift().after(r.Start.In(loc), n, loc)
}

// At returns who the rotation names at t, offset places further along
// (offset 1 is whoever has the next shift), and when that shift began and
// ends.
func (r Rotation) At(t time.Time, offset int) (user string, start, end time.Time) {
	if len(r.Users) == 0 || r.Start.IsZero() {
		return "", time.Time{}, time.Time{}
	}
	loc := mustLocation(r.TimeZone)
	first := r.Start.In(loc)
	n := int64(t.Sub(first) / r.shift().nominal())
	if t.Before(first) {
		n-- // floor, for instants before the first hand-off
	}
	// The nominal estimate is off by at most one across daylight saving.
	for r.handOff(n, loc).After(t) {
		n--
	}
	for !r.handOff(n+1, loc).After(t) {
		n++
	}
	k := int64(len(r.Users))
	i := ((n+int64(offset))%k + k) % k
	return r.Users[i], r.handOff(n, loc), r.handOff(n+1, loc)
}

var locations sync.Map // zone name → *time.Location

// location loads an IANA time zone ("" is UTC), once.
func location(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name like Europe/Berlin or America/New_York", name)
	}
	locations.Store(name, l)
	return l, nil
}

// mustLocation is location for a zone that validated; UTC otherwise.
func mustLocation(name string) *time.Location {
	l, err := location(name)
	if err != nil {
		return time.UTC
	}
	return l
}

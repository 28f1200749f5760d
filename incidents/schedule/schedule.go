package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Schedule says who is on call at any instant. Its rules map weekday and
// time-of-day windows to rotations or people (business hours to one team,
// nights to another: follow the sun); at most one rule applies at a time.
// Overrides change who that is for a span; a temporary schedule replaces
// the rules outright for a span.
//
// A schedule of one rotation can be written in short: users, start,
// shift and time_zone on the schedule itself.
type Schedule struct {
	Name string `yaml:"name" json:"name"`
	// TimeZone is the IANA zone the rules' windows are read in (default
	// UTC); in short form, the rotation's too.
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`

	// The short form: one rotation, always on.
	Users []string `yaml:"users" json:"users,omitempty"`
	Start Wall     `yaml:"start" json:"start,omitzero"`
	Shift Length   `yaml:"shift" json:"shift,omitzero"`

	Rules     []Rule      `yaml:"rules" json:"rules,omitempty"`
	Overrides []Override  `yaml:"overrides" json:"overrides,omitempty"`
	Temporary []Temporary `yaml:"temporary" json:"temporary,omitempty"`

	// MaxStretch is the longest a person should be on call without a
	// break; the lint reports longer stretches (default one week).
	MaxStretch time.Duration `yaml:"max_stretch" json:"max_stretch,omitempty"`
}

// Rule puts a rotation or a person on call during a window of the week.
// Days empty is every day; From equal to To is the whole day; To before
// From runs past midnight into the next day.
type Rule struct {
	Rotation string    `yaml:"rotation" json:"rotation,omitempty"`
	User     string    `yaml:"user" json:"user,omitempty"`
	Days     []DaySpan `yaml:"days" json:"days,omitempty"`
	From     TimeOfDay `yaml:"from" json:"from"`
	To       TimeOfDay `yaml:"to" json:"to"`
}

// Override changes who is on call during [Start, End): User takes the
// whole schedule over; Add puts a person on call beside whoever is;
// Remove takes a person off; Replace hands a person's time to With.
// Overrides change the schedule's own on-call (offset 0), not the
// positions further along a rotation.
type Override struct {
	User    string    `yaml:"user" json:"user,omitempty"`
	Add     string    `yaml:"add" json:"add,omitempty"`
	Remove  string    `yaml:"remove" json:"remove,omitempty"`
	Replace string    `yaml:"replace" json:"replace,omitempty"`
	With    string    `yaml:"with" json:"with,omitempty"`
	Start   time.Time `yaml:"start" json:"start"`
	End     time.Time `yaml:"end" json:"end"`
	// Reason says why (a swap, a holiday); shown in the timeline.
	Reason string `yaml:"reason" json:"reason,omitempty"`
}

// Temporary replaces a schedule's rules during [Start, End) with fixed
// shifts (a holiday roster); time within it that no shift covers has
// nobody on call.
type Temporary struct {
	Start  time.Time `yaml:"start" json:"start"`
	End    time.Time `yaml:"end" json:"end"`
	Shifts []Shift   `yaml:"shifts" json:"shifts"`
}

// Shift is one person's fixed time on call in a temporary schedule.
type Shift struct {
	User  string    `yaml:"user" json:"user"`
	Start time.Time `yaml:"start" json:"start"`
	End   time.Time `yaml:"end" json:"end"`
}

// Span is a stretch of time and who is on call through it (nobody, when
// Users is empty).
type Span struct {
	Users []string  `json:"users"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DefaultMaxStretch is the longest on-call stretch the lint accepts
// unless a schedule says otherwise.
const DefaultMaxStretch = 7 * 24 * time.Hour

func (s Schedule) maxStretch() time.Duration {
	if s.MaxStretch > 0 {
		return s.MaxStretch
	}
	return DefaultMaxStretch
}

// rules returns the schedule's rules; the short form is one rule over
// the rotation named after the schedule.
func (s Schedule) rules() []Rule {
	if len(s.Users) > 0 {
		return []Rule{{Rotation: s.Name}}
	}
	return s.Rules
}

// rotation is the short form's rotation.
func (s Schedule) rotation() Rotation {
	return Rotation{Name: s.Name, Users: s.Users, Shift: s.Shift, Start: s.Start, TimeZone: s.TimeZone}
}

// Validate reports what is wrong with the schedule given the known users
// and rotations.
func (s Schedule) Validate(users map[string]User, rotations map[string]Rotation) error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if _, err := location(s.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	}
	short := len(s.Users) > 0 || !s.Start.IsZero() || !s.Shift.IsZero()
	switch {
	case short && len(s.Rules) > 0:
		errs = append(errs, fmt.Errorf("rules: schedule %q sets users, start or shift and rules: use rules with a rotation, or the short form alone", s.Name))
	case short:
		if len(s.Users) == 0 {
			errs = append(errs, fmt.Errorf("users: schedule %q needs at least one user", s.Name))
		}
		errs = append(errs, checkUsers("users", s.Users, users)...)
		if s.Start.IsZero() {
			errs = append(errs, fmt.Errorf("start: schedule %q needs its first hand-off, like 2026-01-05T09:00", s.Name))
		} else if loc, err := location(s.TimeZone); err == nil {
			if err := s.Start.exists(loc); err != nil {
				errs = append(errs, fmt.Errorf("start: %w", err))
			}
		}
	case len(s.Rules) == 0 && len(s.Temporary) == 0:
		errs = append(errs, fmt.Errorf("rules: schedule %q needs rules, or users and a start", s.Name))
	}
	for i, r := range s.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Rotation == "" && r.User == "":
			errs = append(errs, fmt.Errorf("%s: set rotation or user", f))
		case r.Rotation != "" && r.User != "":
			errs = append(errs, fmt.Errorf("%s: set rotation or user, not both", f))
		case r.Rotation != "":
			if _, ok := rotations[r.Rotation]; !ok {
				errs = append(errs, fmt.Errorf("%s.rotation: unknown rotation %q", f, r.Rotation))
			}
		default:
			if err := knownUser(r.User, users); err != nil {
				errs = append(errs, fmt.Errorf("%s.user: %w", f, err))
			}
		}
	}
	errs = append(errs, overlaps(s.Rules)...)
	for i, o := range s.Overrides {
		errs = append(errs, o.validate(fmt.Sprintf("overrides[%d]", i), users)...)
	}
	for i, tmp := range s.Temporary {
		f := fmt.Sprintf("temporary[%d]", i)
		if !tmp.End.After(tmp.Start) {
			errs = append(errs, fmt.Errorf("%s.end: must be after start", f))
		}
		for j, sh := range tmp.Shifts {
			g := fmt.Sprintf("%s.shifts[%d]", f, j)
			if err := knownUser(sh.User, users); err != nil {
				errs = append(errs, fmt.Errorf("%s.user: %w", g, err))
			}
			if !sh.End.After(sh.Start) {
				errs = append(errs, fmt.Errorf("%s.end: must be after start", g))
			}
			if sh.Start.Before(tmp.Start) || sh.End.After(tmp.End) {
				errs = append(errs, fmt.Errorf("%s: shift lies outside the temporary schedule (%s to %s)", g, tmp.Start.Format(time.RFC3339), tmp.End.Format(time.RFC3339)))
			}
		}
		for j := range i {
			if o := s.Temporary[j]; tmp.Start.Before(o.End) && o.Start.Before(tmp.End) {
				errs = append(errs, fmt.Errorf("%s: overlaps temporary[%d]", f, j))
			}
		}
	}
	if s.MaxStretch < 0 {
		errs = append(errs, errors.New("max_stretch: must not be negative"))
	}
	return errors.Join(errs...)
}

func (o Override) validate(f string, users map[string]User) []error {
	var errs []error
	set := 0
	for _, v := range []string{o.User, o.Add, o.Remove, o.Replace} {
		if v != "" {
			set++
		}
	}
	switch {
	case set != 1:
		errs = append(errs, fmt.Errorf("%s: set exactly one of user (take over), add, remove or replace", f))
	case o.Replace != "" && o.With == "":
		errs = append(errs, fmt.Errorf("%s.with: replace needs with: the person who takes the time", f))
	case o.Replace == "" && o.With != "":
		errs = append(errs, fmt.Errorf("%s.with: only replace takes with", f))
	}
	for field, u := range map[string]string{"user": o.User, "add": o.Add, "remove": o.Remove, "replace": o.Replace, "with": o.With} {
		if u == "" {
			continue
		}
		if err := knownUser(u, users); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", f, field, err))
		}
	}
	if o.Start.IsZero() {
		errs = append(errs, fmt.Errorf("%s.start: must be set", f))
	}
	if !o.End.After(o.Start) {
		errs = append(errs, fmt.Errorf("%s.end: must be after start", f))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// apply returns who is on call after the override, given who was.
func (o Override) apply(users []string) []string {
	switch {
	case o.User != "":
		return []string{o.User}
	case o.Add != "":
		if slices.Contains(users, o.Add) {
			return users
		}
		return append(slices.Clone(users), o.Add)
	case o.Remove != "":
		return slices.DeleteFunc(slices.Clone(users), func(u string) bool { return u == o.Remove })
	case o.Replace != "":
		out := make([]string, 0, len(users))
		for _, u := range users {
			if u == o.Replace {
				u = o.With
			}
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
		return out
	}
	return users
}

// What says what the override does, in words.
func (o Override) What() string {
	switch {
	case o.User != "":
		return o.User + " takes over"
	case o.Add != "":
		return o.Add + " added"
	case o.Remove != "":
		return o.Remove + " removed"
	case o.Replace != "":
		return o.With + " replaces " + o.Replace
	}
	return ""
}

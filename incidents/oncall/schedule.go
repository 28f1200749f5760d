package oncall

import (
	"errors"
	"fmt"
	"time"
)

// Schedule is a rotation of people. Every Shift (a week by default) the
// next person in Users takes over at the hand-off instant; Overrides replace
// whoever the rotation names for a span of time.
type Schedule struct {
	Name  string   `yaml:"name" json:"name"`
	Users []string `yaml:"users" json:"users"`
	// Start is a hand-off instant: Users[0] is on call from Start for one Shift.
	Start time.Time `yaml:"start" json:"start"`
	// Shift is the rotation length; zero means one week.
	Shift     time.Duration `yaml:"shift" json:"shift"`
	Overrides []Override    `yaml:"overrides" json:"overrides,omitempty"`
}

// Override puts User on call instead of the rotation during [Start, End).
type Override struct {
	User  string    `yaml:"user" json:"user"`
	Start time.Time `yaml:"start" json:"start"`
	End   time.Time `yaml:"end" json:"end"`
}

// Week is the default shift length of a rotation.
const Week = 7 * 24 * time.Hour

func (s Schedule) shift() time.Duration {
	if s.Shift <= 0 {
		return Week
	}
	return s.Shift
}

// Validate reports what is wrong with the schedule, if anything.
func (s Schedule) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if len(s.Users) == 0 {
		errs = append(errs, fmt.Errorf("users: schedule %q needs at least one user", s.Name))
	}
	if s.Start.IsZero() {
		errs = append(errs, fmt.Errorf("start: schedule %q needs a start time (RFC 3339)", s.Name))
	}
	for i, o := range s.Overrides {
		if !o.End.After(o.Start) {
			errs = append(errs, fmt.Errorf("overrides[%d]: end must be after start", i))
		}
		if o.User == "" {
			errs = append(errs, fmt.Errorf("overrides[%d].user: must not be empty", i))
		}
	}
	return errors.Join(errs...)
}

// slot returns the rotation index on call at t and the end of that shift.
func (s Schedule) slot(t time.Time) (int, time.Time) {
	d := s.shift()
	n := t.Sub(s.Start) / d
	if t.Before(s.Start) && t.Sub(s.Start)%d != 0 {
		n-- // floor division for instants before the start
	}
	end := s.Start.Add((n + 1) * d)
	k := len(s.Users)
	return ((int(n) % k) + k) % k, end
}

// At returns who is on call at t, counting offset places further along the
// rotation (offset 1 is the secondary: the person whose shift is next), and
// when that answer next changes. Overrides apply to offset 0 only.
func (s Schedule) At(t time.Time, offset int) (user string, until time.Time) {
	if len(s.Users) == 0 {
		return "", time.Time{}
	}
	i, end := s.slot(t)
	if offset == 0 {
		for _, o := range s.Overrides {
			if !t.Before(o.Start) && t.Before(o.End) {
				if o.End.Before(end) {
					end = o.End
				}
				return o.User, end
			}
			if o.Start.After(t) && o.Start.Before(end) {
				end = o.Start
			}
		}
	}
	k := len(s.Users)
	return s.Users[((i+offset)%k+k)%k], end
}

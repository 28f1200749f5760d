package oncall

import (
	"errors"
	"fmt"
	"time"
)

// Policy is an escalation policy: who is paged first, and who next when
// nobody acknowledges within a step's timeout.
type Policy struct {
	Name  string `yaml:"name" json:"name"`
	Steps []Step `yaml:"steps" json:"steps"`
	// Repeat is how many more times the whole policy runs after the last
	// step times out (0: stay on the last step).
	Repeat int `yaml:"repeat" json:"repeat"`
}

// Step is one rung of a policy.
type Step struct {
	// Name says what the rung is for: "primary on-call", "incident commander".
	Name    string   `yaml:"name" json:"name"`
	Targets []Target `yaml:"targets" json:"targets"`
	// AckTimeout is how long the step waits for an acknowledgement.
	AckTimeout time.Duration `yaml:"ack_timeout" json:"ack_timeout"`
}

// Target is a schedule position or a person.
type Target struct {
	// Schedule names a schedule; Offset 0 is its on-call, 1 the secondary.
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
	Offset   int    `yaml:"offset" json:"offset,omitempty"`
	// User names one person directly.
	User string `yaml:"user" json:"user,omitempty"`
}

// String renders the target the way the config spells it.
func (t Target) String() string {
	switch {
	case t.User != "":
		return "user " + t.User
	case t.Offset == 0:
		return "schedule " + t.Schedule
	default:
		return fmt.Sprintf("schedule %s+%d", t.Schedule, t.Offset)
	}
}

// Validate reports what is wrong with the policy, given the known schedules.
func (p Policy) Validate(schedules map[string]Schedule) error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if len(p.Steps) == 0 {
		errs = append(errs, fmt.Errorf("steps: policy %q needs at least one step", p.Name))
	}
	if p.Repeat < 0 {
		errs = append(errs, fmt.Errorf("repeat: must not be negative, got %d", p.Repeat))
	}
	for i, s := range p.Steps {
		if s.AckTimeout <= 0 {
			errs = append(errs, fmt.Errorf("steps[%d].ack_timeout: must be positive", i))
		}
		if len(s.Targets) == 0 {
			errs = append(errs, fmt.Errorf("steps[%d].targets: step needs at least one target", i))
		}
		for j, t := range s.Targets {
			switch {
			case t.User == "" && t.Schedule == "":
				errs = append(errs, fmt.Errorf("steps[%d].targets[%d]: set schedule or user", i, j))
			case t.User != "" && t.Schedule != "":
				errs = append(errs, fmt.Errorf("steps[%d].targets[%d]: set schedule or user, not both", i, j))
			case t.Schedule != "":
				if _, ok := schedules[t.Schedule]; !ok {
					errs = append(errs, fmt.Errorf("steps[%d].targets[%d].schedule: unknown schedule %q", i, j, t.Schedule))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Resolve returns step i of the policy resolved to people at t.
func (p Policy) Resolve(i int, t time.Time, schedules map[string]Schedule) Assignment {
	s := p.Steps[i]
	a := Assignment{Policy: p.Name, Step: i, StepName: s.Name, AckTimeout: s.AckTimeout}
	seen := map[string]bool{}
	for _, tg := range s.Targets {
		user, until := tg.User, time.Time{}
		if tg.Schedule != "" {
			user, until = schedules[tg.Schedule].At(t, tg.Offset)
		}
		if user == "" || seen[user] {
			continue
		}
		seen[user] = true
		a.Users = append(a.Users, user)
		if !until.IsZero() && (a.Until.IsZero() || until.Before(a.Until)) {
			a.Until = until
		}
	}
	return a
}

// Chain returns every step of the policy resolved to people at t, each
// with who takes over at the next hand-off.
func (p Policy) Chain(t time.Time, schedules map[string]Schedule) []Assignment {
	out := make([]Assignment, len(p.Steps))
	for i := range p.Steps {
		out[i] = p.Resolve(i, t, schedules)
		if u := out[i].Until; !u.IsZero() {
			out[i].Next = p.Resolve(i, u, schedules).Users
		}
	}
	return out
}

package schedule

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Policy is an escalation policy: who is paged first, and who next when
// nobody acknowledges within a step's delay.
type Policy struct {
	Name  string `yaml:"name" json:"name"`
	Steps []Step `yaml:"steps" json:"steps"`
	// Repeat is how many more times the whole policy runs after the last
	// step's delay passes unacknowledged (0: re-page the last step every
	// delay until someone answers).
	Repeat int `yaml:"repeat" json:"repeat"`
	// AckTimeout, when set, is how long an acknowledgement holds: an
	// incident acknowledged but neither mitigated nor resolved within it
	// triggers again and escalation starts over.
	AckTimeout time.Duration `yaml:"ack_timeout" json:"ack_timeout,omitempty"`
	// NoIncidentCommander keeps the directory's incident commander from
	// being added as the policy's last step.
	NoIncidentCommander bool `yaml:"no_incident_commander" json:"no_incident_commander,omitempty"`
}

// Step is one rung of a policy.
type Step struct {
	// Name says what the rung is for: "primary on-call", "incident commander".
	Name    string   `yaml:"name" json:"name"`
	Targets []Target `yaml:"targets" json:"targets"`
	// Delay is how long the step waits for an acknowledgement before the
	// next step is paged.
	Delay time.Duration `yaml:"delay" json:"delay"`
}

// Target is a person, a schedule position, or another policy (whose
// steps then take the step's place).
type Target struct {
	// User names one person.
	User string `yaml:"user" json:"user,omitempty"`
	// Schedule names a schedule; Offset 0 is its on-call, 1 the secondary.
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
	Offset   int    `yaml:"offset" json:"offset,omitempty"`
	// Policy hands escalation on to another policy's steps.
	Policy string `yaml:"policy" json:"policy,omitempty"`
}

// String renders the target the way the config spells it.
func (t Target) String() string {
	switch {
	case t.User != "":
		return "user " + t.User
	case t.Policy != "":
		return "policy " + t.Policy
	case t.Offset == 0:
		return "schedule " + t.Schedule
	default:
		return fmt.Sprintf("schedule %s+%d", t.Schedule, t.Offset)
	}
}

// Validate reports what is wrong with the policy, given the directory it
// lives in (users, schedules and the other policies).
func (p Policy) Validate(d Directory) error {
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
	if p.AckTimeout < 0 {
		errs = append(errs, errors.New("ack_timeout: must not be negative"))
	}
	for i, s := range p.Steps {
		errs = append(errs, s.validate(fmt.Sprintf("steps[%d]", i), d)...)
	}
	if cycle := p.cycle(d, nil); cycle != nil {
		errs = append(errs, fmt.Errorf("steps: policy %q targets itself (%s)", p.Name, joinArrow(cycle)))
	}
	return errors.Join(errs...)
}

// Validate reports what is wrong with the step, given the directory.
func (s Step) Validate(d Directory) error { return errors.Join(s.validate("", d)...) }

func (s Step) validate(f string, d Directory) []error {
	at := func(name string) string {
		if f == "" {
			return name
		}
		return f + "." + name
	}
	var errs []error
	if s.Delay <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive: how long the step waits for an acknowledgement", at("delay")))
	}
	if len(s.Targets) == 0 {
		errs = append(errs, fmt.Errorf("%s: step needs at least one target", at("targets")))
	}
	for j, t := range s.Targets {
		g := at(fmt.Sprintf("targets[%d]", j))
		set := 0
		for _, v := range []string{t.User, t.Schedule, t.Policy} {
			if v != "" {
				set++
			}
		}
		switch {
		case set != 1:
			errs = append(errs, fmt.Errorf("%s: set exactly one of user, schedule or policy", g))
		case t.User != "":
			if err := knownUser(t.User, d.Users); err != nil {
				errs = append(errs, fmt.Errorf("%s.user: %w", g, err))
			}
		case t.Schedule != "":
			if _, ok := d.Schedules[t.Schedule]; !ok {
				errs = append(errs, fmt.Errorf("%s.schedule: unknown schedule %q", g, t.Schedule))
			}
		case t.Policy != "":
			if _, ok := d.Policies[t.Policy]; !ok {
				errs = append(errs, fmt.Errorf("%s.policy: unknown policy %q", g, t.Policy))
			}
			if len(s.Targets) > 1 {
				errs = append(errs, fmt.Errorf("%s.policy: a step that hands on to a policy has no other target", g))
			}
		}
		if t.Offset < 0 {
			errs = append(errs, fmt.Errorf("%s.offset: must not be negative", g))
		} else if t.Offset > 0 && t.Schedule == "" {
			errs = append(errs, fmt.Errorf("%s.offset: only a schedule target has an offset", g))
		}
	}
	return errs
}

// cycle returns the chain of policy names that leads back to one already
// on the path, or nil.
func (p Policy) cycle(d Directory, path []string) []string {
	if slices.Contains(path, p.Name) {
		return append(path, p.Name)
	}
	path = append(path, p.Name)
	for _, s := range p.Steps {
		for _, t := range s.Targets {
			if t.Policy == "" {
				continue
			}
			next, ok := d.Policies[t.Policy]
			if !ok {
				continue
			}
			if c := next.cycle(d, slices.Clone(path)); c != nil {
				return c
			}
		}
	}
	return nil
}

func joinArrow(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " → "
		}
		out += n
	}
	return out
}

// Freeze returns the named policy as an incident keeps it: steps that
// hand on to another policy replaced by that policy's steps, and the
// incident commander added as the last step unless the policy reaches
// it already or opts out. Editing the configuration later does not
// change a frozen policy.
func (d Directory) Freeze(name string) (Policy, error) {
	p, ok := d.Policies[name]
	if !ok {
		return Policy{}, fmt.Errorf("unknown escalation policy %q", name)
	}
	steps, err := d.expand(p, nil)
	if err != nil {
		return Policy{}, err
	}
	p.Steps = steps
	if c := d.Commander; c != nil && !p.NoIncidentCommander && len(c.Targets) > 0 {
		last := p.Steps[len(p.Steps)-1]
		if !slices.Equal(last.Targets, c.Targets) {
			ic := *c
			ic.Targets = slices.Clone(c.Targets)
			if ic.Name == "" {
				ic.Name = "incident commander"
			}
			p.Steps = append(p.Steps, ic)
		}
	}
	return p, nil
}

func (d Directory) expand(p Policy, path []string) ([]Step, error) {
	if slices.Contains(path, p.Name) {
		return nil, fmt.Errorf("policy %q targets itself (%s)", p.Name, joinArrow(append(path, p.Name)))
	}
	path = append(path, p.Name)
	var out []Step
	for _, s := range p.Steps {
		if len(s.Targets) == 1 && s.Targets[0].Policy != "" {
			inner, ok := d.Policies[s.Targets[0].Policy]
			if !ok {
				return nil, fmt.Errorf("unknown escalation policy %q", s.Targets[0].Policy)
			}
			steps, err := d.expand(inner, path)
			if err != nil {
				return nil, err
			}
			out = append(out, steps...)
			continue
		}
		s.Targets = slices.Clone(s.Targets)
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("policy %q has no steps", p.Name)
	}
	return out, nil
}

// Assignment is one step of an escalation policy resolved to people at an
// instant: who would be paged at that step right now.
type Assignment struct {
	Policy   string        `json:"policy"`
	Step     int           `json:"step"`
	StepName string        `json:"step_name"`
	Users    []string      `json:"users"`
	Delay    time.Duration `json:"delay"`
	// Targets say where the users come from ("schedule matchmaking+1").
	Targets []string `json:"targets,omitempty"`
	// Until is when the step's on-call next changes (zero for fixed
	// people), and Next who it pages from then on.
	Until time.Time `json:"until,omitzero"`
	Next  []string  `json:"next,omitempty"`
}

// Resolve returns step i of the (frozen) policy resolved to people at t.
func (p Policy) Resolve(i int, t time.Time, d Directory) Assignment {
	s := p.Steps[i]
	a := Assignment{Policy: p.Name, Step: i, StepName: s.Name, Delay: s.Delay}
	seen := map[string]bool{}
	for _, tg := range s.Targets {
		a.Targets = append(a.Targets, tg.String())
		var users []string
		switch {
		case tg.User != "":
			users = []string{tg.User}
		case tg.Schedule != "":
			users, _ = d.OnCall(tg.Schedule, t, tg.Offset)
		}
		for _, u := range users {
			if !seen[u] {
				seen[u] = true
				a.Users = append(a.Users, u)
			}
		}
	}
	return a
}

// lookAhead bounds how far who-is-next looks for a hand-off.
const lookAhead = 90 * 24 * time.Hour

// Chain returns every step of the named policy, frozen, resolved to
// people at t, each with when its on-call next changes and who takes over.
func (d Directory) Chain(name string, t time.Time) ([]Assignment, error) {
	p, err := d.Freeze(name)
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = p.Resolve(i, t, d)
		for _, tg := range s.Targets {
			if tg.Schedule == "" {
				continue
			}
			if at, _ := d.NextChange(tg.Schedule, t, tg.Offset, lookAhead); !at.IsZero() && (out[i].Until.IsZero() || at.Before(out[i].Until)) {
				out[i].Until = at
			}
		}
		if !out[i].Until.IsZero() {
			out[i].Next = p.Resolve(i, out[i].Until, d).Users
		}
	}
	return out, nil
}

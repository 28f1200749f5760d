package incidents

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oncallhq/oncall/incidents/oncall"
)

// Errors returned by lifecycle transitions and lookups.
var (
	ErrResolved = errors.New("incident is resolved")
	ErrAcked    = errors.New("incident is already acknowledged")
	ErrNotFound = errors.New("no such incident")
)

// Directory resolves escalation policies to people.
type Directory struct {
	Policies  map[string]oncall.Policy
	Schedules map[string]oncall.Schedule
}

// Chain returns the named policy resolved to people at t.
func (d Directory) Chain(policy string, t time.Time) []oncall.Assignment {
	p, ok := d.Policies[policy]
	if !ok {
		return nil
	}
	return p.Chain(t, d.Schedules)
}

// Start begins escalation on the named policy: the first step is paged now.
func (i *Incident) Start(d Directory, policy string, now time.Time) ([]Page, error) {
	p, ok := d.Policies[policy]
	if !ok {
		return nil, fmt.Errorf("unknown escalation policy %q", policy)
	}
	i.Escalation = Escalation{Policy: policy}
	i.event(now, "opened", i.Title)
	return i.page(p, d, 0, now, "trigger"), nil
}

// page moves escalation to step and returns the pages for it.
func (i *Incident) page(p oncall.Policy, d Directory, step int, now time.Time, kind string) []Page {
	a := p.Resolve(step, now, d.Schedules)
	e := &i.Escalation
	e.Step, e.StepName, e.Paged, e.StepStartedAt = step, a.StepName, a.Users, now
	e.Seq++
	e.NextAt = now.Add(a.AckTimeout)
	if e.Round >= p.Repeat && step == len(p.Steps)-1 && p.Repeat > 0 {
		e.NextAt = time.Time{} // last step of the last round: nobody left to escalate to
	}
	i.event(now, "escalation", fmt.Sprintf("step %d/%d %s: paged %s", step+1, len(p.Steps), a.StepName, strings.Join(a.Users, ", ")))
	var pages []Page
	for _, u := range a.Users {
		pages = append(pages, Page{
			Key:        fmt.Sprintf("%s/p%d/%s", i.Ref(), e.Seq, u),
			IncidentID: i.ID,
			Kind:       kind,
			Target:     u,
			Step:       step,
			StepName:   a.StepName,
			Subject:    fmt.Sprintf("[%s] %s", i.Ref(), i.Title),
			Body:       i.Summary,
			RunbookURL: i.RunbookURL,
			CreatedAt:  now,
		})
	}
	return pages
}

// Escalate pages the next step if the current one timed out unacknowledged.
// It returns no pages when nothing is due.
func (i *Incident) Escalate(d Directory, now time.Time) []Page {
	e := &i.Escalation
	if i.Status != StatusTriggered || e.NextAt.IsZero() || now.Before(e.NextAt) {
		return nil
	}
	p, ok := d.Policies[e.Policy]
	if !ok || len(p.Steps) == 0 {
		return nil
	}
	next := e.Step + 1
	if next >= len(p.Steps) {
		if p.Repeat == 0 {
			// Stay on the last rung: re-page it every ack timeout.
			next = len(p.Steps) - 1
		} else {
			e.Round++
			next = 0
		}
	}
	return i.page(p, d, next, now, "escalate")
}

// Acknowledge records that by owns the incident; escalation stops.
func (i *Incident) Acknowledge(by string, now time.Time) error {
	switch i.Status {
	case StatusResolved:
		return fmt.Errorf("acknowledge %s: %w", i.Ref(), ErrResolved)
	case StatusAcknowledged:
		return fmt.Errorf("acknowledge %s by %q: %w (by %q)", i.Ref(), by, ErrAcked, i.AckedBy)
	}
	i.Status, i.AckedAt, i.AckedBy = StatusAcknowledged, now, by
	i.Escalation.NextAt = time.Time{}
	i.event(now, "acknowledged", "acknowledged by "+by)
	return nil
}

// Resolve closes the incident.
func (i *Incident) Resolve(by, why string, now time.Time) error {
	if i.Status == StatusResolved {
		return fmt.Errorf("resolve %s: %w", i.Ref(), ErrResolved)
	}
	i.Status, i.ResolvedAt, i.ResolvedBy = StatusResolved, now, by
	i.Escalation.NextAt = time.Time{}
	text := "resolved by " + by
	if why != "" {
		text += ": " + why
	}
	i.event(now, "resolved", text)
	return nil
}

// Note appends a free-form event to the timeline.
func (i *Incident) Note(now time.Time, kind, text string) { i.event(now, kind, text) }

func (i *Incident) event(at time.Time, kind, text string) {
	i.Timeline = append(i.Timeline, Event{At: at, Kind: kind, Text: text})
}

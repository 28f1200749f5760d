package incidents

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/incidents/schedule"
)

// Errors of lifecycle transitions and lookups. A refused transition
// wraps ErrTransition, and ErrResolved or ErrAcked when that is the
// reason; a bad request (empty text, unknown task) wraps ErrInvalid.
var (
	ErrNotFound   = errors.New("no such incident")
	ErrTransition = errors.New("transition not allowed")
	ErrResolved   = errors.New("incident is resolved")
	ErrAcked      = errors.New("incident is already acknowledged")
	ErrInvalid    = errors.New("invalid request")
)

// Settings are what the lifecycle reads of the configuration: who is
// paged, and what each severity means.
type Settings struct {
	People     schedule.Directory
	Severities Severities
}

// Actor is who does something, and through what (cli, api, console,
// slack; alerts and escalation for oncall itself).
type Actor struct {
	Name   string
	Source string
}

func (a Actor) orOncall() string {
	if a.Name == "" {
		return "oncall"
	}
	return a.Name
}

// refuse builds a refused-transition error.
func (i *Incident) refuse(action string, reasons ...error) error {
	why := fmt.Sprintf("it is %s", i.Status)
	if i.MergedInto != 0 {
		why = "it was merged into " + Ref(i.MergedInto)
	}
	return fmt.Errorf("%s %s: %s: %w", action, i.Ref(), why, errors.Join(append([]error{ErrTransition}, reasons...)...))
}

func (i *Incident) event(at time.Time, kind, text string, by Actor) {
	i.Timeline = append(i.Timeline, Event{At: at, Kind: kind, Text: text, Source: by.Source, Actor: by.Name})
}

// Note appends a free-form event to the timeline.
func (i *Incident) Note(now time.Time, kind, text string) { i.event(now, kind, text, Actor{}) }

// AddNote appends a person's note to the timeline.
func (i *Incident) AddNote(text string, by Actor, now time.Time) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("note on %s: the text is empty: %w", i.Ref(), ErrInvalid)
	}
	i.event(now, "note", text, by)
	return nil
}

// Start begins escalation on the named policy, frozen now: the first
// step is paged.
func (i *Incident) Start(s Settings, policy string, now time.Time) ([]Page, error) {
	p, err := s.People.Freeze(policy)
	if err != nil {
		return nil, err
	}
	i.Escalation = Escalation{Policy: policy, Frozen: &p, Steps: len(p.Steps)}
	return i.pageFrom(s, 0, now, PageTrigger), nil
}

// frozen returns the incident's frozen policy, freezing the configured
// one for an incident stored before policies were frozen.
func (i *Incident) frozen(s Settings) (schedule.Policy, bool) {
	if f := i.Escalation.Frozen; f != nil && len(f.Steps) > 0 {
		return *f, true
	}
	p, err := s.People.Freeze(i.Escalation.Policy)
	if err != nil {
		return schedule.Policy{}, false
	}
	i.Escalation.Frozen, i.Escalation.Steps = &p, len(p.Steps)
	return p, true
}

// pageFrom pages step (or, when it reaches nobody, the first step after
// it that reaches someone) and returns the pages.
func (i *Incident) pageFrom(s Settings, step int, now time.Time, kind string) []Page {
	p, ok := i.frozen(s)
	if !ok {
		i.Note(now, "error", fmt.Sprintf("escalation policy %q is not configured: nobody paged", i.Escalation.Policy))
		i.Escalation.NextAt = time.Time{}
		return nil
	}
	e := &i.Escalation
	tried := map[int]bool{}
	for {
		a := p.Resolve(step, now, s.People)
		e.Step, e.StepName, e.Paged, e.StepStartedAt = step, a.StepName, a.Users, now
		e.NextAt = now.Add(a.Delay)
		last := step == len(p.Steps)-1
		if last && p.Repeat > 0 && e.Round >= p.Repeat {
			e.NextAt = time.Time{} // last step of the last round: nobody left to escalate to
		}
		if len(a.Users) > 0 {
			e.Seq++
			i.event(now, "escalation", fmt.Sprintf("step %d/%d %s: paged %s", step+1, len(p.Steps), a.StepName, strings.Join(a.Users, ", ")), Actor{Source: "escalation"})
			return i.pages(a, kind, now)
		}
		i.event(now, "escalation", fmt.Sprintf("step %d/%d %s: nobody on call (%s)", step+1, len(p.Steps), a.StepName, strings.Join(a.Targets, ", ")), Actor{Source: "escalation"})
		if e.NextAt.IsZero() {
			i.Note(now, "error", "the last step of the last round reaches nobody: escalation ended")
			return nil
		}
		tried[step] = true
		next, ok := i.nextStep(p)
		if !ok {
			e.NextAt = time.Time{}
			return nil
		}
		if tried[next] {
			// Every step from here on reaches nobody right now (a gap in
			// a schedule): try again when this step's delay is up, by
			// which time someone may be on call.
			i.Note(now, "error", fmt.Sprintf("nobody to page at this time; trying again at %s", e.NextAt.UTC().Format("15:04:05Z")))
			return nil
		}
		step = next
	}
}

// nextStep is the step after the current one, counting rounds.
func (i *Incident) nextStep(p schedule.Policy) (int, bool) {
	e := &i.Escalation
	next := e.Step + 1
	if next < len(p.Steps) {
		return next, true
	}
	if p.Repeat == 0 {
		return len(p.Steps) - 1, true // stay on the last rung
	}
	if e.Round >= p.Repeat {
		return 0, false
	}
	e.Round++
	return 0, true
}

// pageBody is what a page says beyond its subject: the description, since
// when the alert fires, and where to look.
func (i *Incident) pageBody() string {
	var b []string
	if i.Summary != "" {
		b = append(b, i.Summary)
	}
	if !i.FiringSince.IsZero() {
		b = append(b, "Firing since "+i.FiringSince.UTC().Format("2006-01-02 15:04 UTC")+".")
	}
	if i.RunbookURL != "" {
		b = append(b, "Runbook: "+i.RunbookURL)
	}
	if i.QueryURL != "" {
		b = append(b, "Query: "+i.QueryURL)
	}
	return strings.Join(b, "\n")
}

// pageSubject is what a page says first: the incident, and a drill as one.
func (i *Incident) pageSubject() string {
	if i.Drill {
		return fmt.Sprintf("[DRILL] [%s] %s", i.Ref(), i.Title)
	}
	return fmt.Sprintf("[%s] %s", i.Ref(), i.Title)
}

func (i *Incident) pages(a schedule.Assignment, kind string, now time.Time) []Page {
	subject := i.pageSubject()
	var pages []Page
	for _, u := range a.Users {
		key := fmt.Sprintf("%s/p%d/%s", i.Ref(), i.Escalation.Seq, u)
		i.Sent = append(i.Sent, PageRef{Key: key, Target: u})
		pages = append(pages, Page{
			Key:        key,
			IncidentID: i.ID, Kind: kind, Target: u, Step: a.Step, StepName: a.StepName,
			Subject: subject, Body: i.pageBody(), RunbookURL: i.RunbookURL,
			Severity: i.Severity, Drill: i.Drill, CreatedAt: now,
		})
	}
	return pages
}

// Settle returns the page updates the incident owes: once it is
// acknowledged, each page still open is acknowledged; once it is mitigated
// or resolved (merged too), each page is resolved. A paging service
// (PagerDuty) stops notifying for an answered page only when told. Each
// update is owed once, so Settle can be called after any change; it is
// dated by the newest timeline event, the change that caused it.
func (i *Incident) Settle() []Page {
	var kind string
	switch i.Status {
	case StatusAcknowledged:
		kind = PageAcknowledge
	case StatusMitigated, StatusResolved:
		kind = PageResolve
	default:
		return nil
	}
	var at time.Time
	if n := len(i.Timeline); n > 0 {
		at = i.Timeline[n-1].At
	}
	var out []Page
	for k := range i.Sent {
		r := &i.Sent[k]
		if r.Closed == kind || r.Closed == PageResolve {
			continue
		}
		r.Closed = kind
		out = append(out, Page{
			Key: r.Key + "/" + kind, Of: r.Key, IncidentID: i.ID, Kind: kind, Target: r.Target,
			Subject: i.pageSubject(), Body: i.closedBy(), Severity: i.Severity, Drill: i.Drill, CreatedAt: at,
		})
	}
	return out
}

// closedBy says who answered the incident, for a page update.
func (i *Incident) closedBy() string {
	switch {
	case i.MergedInto != 0:
		return "merged into " + Ref(i.MergedInto)
	case i.Status == StatusResolved:
		return "resolved by " + i.ResolvedBy
	case i.Status == StatusMitigated:
		return "mitigated by " + i.MitigatedBy
	}
	return "acknowledged by " + i.AckedBy
}

// Escalate does what is due at now: an unacknowledged step whose delay
// passed pages the next step; an acknowledgement that expired (the
// policy's ack_timeout) triggers the incident again from the first step.
// It returns no pages when nothing is due.
func (i *Incident) Escalate(s Settings, now time.Time) []Page {
	e := &i.Escalation
	if e.NextAt.IsZero() || now.Before(e.NextAt) {
		return nil
	}
	switch i.Status {
	case StatusTriggered:
		p, ok := i.frozen(s)
		if !ok || len(p.Steps) == 0 {
			return nil
		}
		next, ok := i.nextStep(p)
		if !ok {
			e.NextAt = time.Time{}
			return nil
		}
		return i.pageFrom(s, next, now, PageEscalate)
	case StatusAcknowledged:
		i.event(now, "ack-timeout", fmt.Sprintf("acknowledged by %s at %s and still open: triggered again", i.AckedBy, i.AckedAt.UTC().Format("15:04:05Z")), Actor{Source: "escalation"})
		i.Status = StatusTriggered
		e.Round = 0
		return i.pageFrom(s, 0, now, PageTrigger)
	}
	return nil
}

// EscalateNow pages the next step at once (a person asks for help).
func (i *Incident) EscalateNow(s Settings, by Actor, now time.Time) ([]Page, error) {
	if i.Status != StatusTriggered && i.Status != StatusAcknowledged {
		return nil, i.refuse("escalate", i.statusErr())
	}
	p, ok := i.frozen(s)
	if !ok {
		return nil, fmt.Errorf("escalate %s: escalation policy %q is not configured: %w", i.Ref(), i.Escalation.Policy, ErrInvalid)
	}
	i.event(now, "escalated", "escalated by "+by.orOncall(), by)
	i.Status = StatusTriggered
	next, ok := i.nextStep(p)
	if !ok {
		next = len(p.Steps) - 1
	}
	return i.pageFrom(s, next, now, PageEscalate), nil
}

func (i *Incident) statusErr() error {
	switch i.Status {
	case StatusResolved:
		return ErrResolved
	case StatusAcknowledged:
		return ErrAcked
	}
	return nil
}

// Acknowledge records that by owns the incident: escalation stops, until
// the policy's ack_timeout if it has one.
func (i *Incident) Acknowledge(s Settings, by Actor, now time.Time) error {
	if i.Status != StatusTriggered {
		if i.Status == StatusAcknowledged {
			return fmt.Errorf("acknowledge %s by %q: %w (by %q)", i.Ref(), by.Name, errors.Join(ErrTransition, ErrAcked), i.AckedBy)
		}
		return i.refuse("acknowledge", i.statusErr())
	}
	i.Status, i.AckedAt, i.AckedBy = StatusAcknowledged, now, by.orOncall()
	i.Escalation.NextAt = time.Time{}
	if p, ok := i.frozen(s); ok && p.AckTimeout > 0 {
		i.Escalation.NextAt = now.Add(p.AckTimeout)
	}
	i.event(now, "acknowledged", "acknowledged by "+by.orOncall(), by)
	return nil
}

// Mitigate records that the impact stopped: escalation stops for good.
func (i *Incident) Mitigate(by Actor, why string, now time.Time) error {
	if i.Status != StatusTriggered && i.Status != StatusAcknowledged {
		return i.refuse("mitigate", i.statusErr())
	}
	i.Status, i.MitigatedAt, i.MitigatedBy = StatusMitigated, now, by.orOncall()
	i.Escalation.NextAt = time.Time{}
	i.event(now, "mitigated", withWhy("mitigated by "+by.orOncall(), why), by)
	return nil
}

// Resolve closes the incident.
func (i *Incident) Resolve(by Actor, why string, now time.Time) error {
	if i.Status == StatusResolved {
		return i.refuse("resolve", ErrResolved)
	}
	i.Status, i.ResolvedAt, i.ResolvedBy = StatusResolved, now, by.orOncall()
	i.Escalation.NextAt = time.Time{}
	i.event(now, "resolved", withWhy("resolved by "+by.orOncall(), why), by)
	return nil
}

// Reopen sends a mitigated or resolved incident back to triggered and
// pages its policy from the first step.
func (i *Incident) Reopen(s Settings, by Actor, why string, now time.Time) ([]Page, error) {
	if (i.Status != StatusMitigated && i.Status != StatusResolved) || i.MergedInto != 0 {
		return nil, i.refuse("reopen")
	}
	i.Status = StatusTriggered
	i.ResolvedAt, i.ResolvedBy, i.MitigatedAt, i.MitigatedBy = time.Time{}, "", time.Time{}, ""
	i.event(now, "reopened", withWhy("reopened by "+by.orOncall(), why), by)
	if i.Escalation.Policy == "" {
		return nil, nil
	}
	i.Escalation.Round = 0
	return i.pageFrom(s, 0, now, PageTrigger), nil
}

func withWhy(text, why string) string {
	if why = strings.TrimSpace(why); why != "" {
		return text + ": " + why
	}
	return text
}

// Assign gives role to user ("" takes it away).
func (i *Incident) Assign(role Role, user string, by Actor, now time.Time) error {
	if !i.Open() || i.MergedInto != 0 {
		return i.refuse("assign "+role.Title()+" on", i.statusErr())
	}
	user = strings.TrimPrefix(strings.TrimSpace(user), "@")
	if i.Assigned == nil {
		i.Assigned = map[Role]string{}
	}
	prev := i.Assigned[role]
	switch {
	case user == "" && prev == "":
		return fmt.Errorf("unassign %s on %s: nobody has the role: %w", role.Title(), i.Ref(), ErrInvalid)
	case user == "":
		delete(i.Assigned, role)
		i.event(now, "role", fmt.Sprintf("%s is no longer %s", prev, role.Title()), by)
	case user == prev:
		return nil
	default:
		i.Assigned[role] = user
		text := fmt.Sprintf("%s is %s", user, role.Title())
		if prev != "" {
			text += " (was " + prev + ")"
		}
		i.event(now, "role", text, by)
	}
	return nil
}

// LinkChannel makes channel the incident's chat channel: the chat bot
// keeps what is written there from now on. A resolved incident can be
// linked too (the discussion goes on into the postmortem); a merged one
// cannot, its conversation belongs to the incident it joined.
func (i *Incident) LinkChannel(channel string, by Actor, now time.Time) error {
	if err := chat.ValidateChannel(channel); err != nil {
		return fmt.Errorf("channel of %s: %v: %w", i.Ref(), err, ErrInvalid)
	}
	if i.MergedInto != 0 {
		return i.refuse("link a channel to")
	}
	if channel == i.Channel {
		return nil
	}
	text := "chat channel " + channel
	if i.Channel != "" {
		text += " (was " + i.Channel + ")"
	}
	i.event(now, "channel", text, by)
	i.Channel = channel
	return nil
}

// SetSeverity changes the incident's severity.
func (i *Incident) SetSeverity(sev Severity, by Actor, now time.Time) error {
	if sev.String() == "" {
		return fmt.Errorf("severity of %s: %d is not SEV1 to SEV4: %w", i.Ref(), sev, ErrInvalid)
	}
	if !i.Open() {
		return i.refuse("change the severity of", ErrResolved)
	}
	if sev == i.Severity {
		return nil
	}
	i.event(now, "severity", fmt.Sprintf("severity %s → %s", orNone(i.Severity.String()), sev), by)
	i.Severity = sev
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// PostUpdate adds a status update; a public one is published on the
// status page, under title if given (the first public update needs one,
// or the status page names the affected service).
func (i *Incident) PostUpdate(text string, public bool, title string, by Actor, now time.Time) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("update on %s: the text is empty: %w", i.Ref(), ErrInvalid)
	}
	if i.MergedInto != 0 {
		return i.refuse("post an update on")
	}
	i.Updates = append(i.Updates, Update{At: now, Text: text, Public: public, Actor: by.Name, Status: i.Status})
	kind := "update"
	if public {
		kind = "public-update"
		if t := strings.TrimSpace(title); t != "" {
			i.PublicTitle = t
		}
	}
	i.event(now, kind, text, by)
	return nil
}

// AddTask adds a task with an owner ("" for nobody yet) and returns its
// number.
func (i *Incident) AddTask(text, owner string, by Actor, now time.Time) (int, error) {
	if strings.TrimSpace(text) == "" {
		return 0, fmt.Errorf("task on %s: the text is empty: %w", i.Ref(), ErrInvalid)
	}
	id := len(i.Tasks) + 1
	owner = strings.TrimPrefix(owner, "@")
	i.Tasks = append(i.Tasks, Task{ID: id, Text: text, Owner: owner, CreatedAt: now, CreatedBy: by.Name})
	text = fmt.Sprintf("task %d: %s", id, text)
	if owner != "" {
		text += " (owner " + owner + ")"
	}
	i.event(now, "task", text, by)
	return id, nil
}

// FinishTask marks task id done.
func (i *Incident) FinishTask(id int, by Actor, now time.Time) error {
	if id < 1 || id > len(i.Tasks) {
		return fmt.Errorf("task %d of %s: no such task (it has %d): %w", id, i.Ref(), len(i.Tasks), ErrInvalid)
	}
	t := &i.Tasks[id-1]
	if t.Done {
		return fmt.Errorf("task %d of %s: already done by %s: %w", id, i.Ref(), t.DoneBy, ErrTransition)
	}
	t.Done, t.DoneAt, t.DoneBy = true, now, by.orOncall()
	i.event(now, "task-done", fmt.Sprintf("task %d done: %s", id, t.Text), by)
	return nil
}

// MergeInto folds src into i: src's alert groups attach to i from now on,
// its tasks and public updates come along, and src is resolved as merged.
func (i *Incident) MergeInto(src *Incident, by Actor, now time.Time) error {
	switch {
	case src.ID == i.ID:
		return fmt.Errorf("merge %s into itself: %w", i.Ref(), ErrInvalid)
	case !i.Open() || i.MergedInto != 0:
		return i.refuse("merge into")
	case !src.Open():
		return src.refuse("merge", ErrResolved)
	}
	i.Links = append(i.Links, src.Keys()...)
	for _, t := range src.Tasks {
		t.ID = len(i.Tasks) + 1
		t.Text += " (from " + src.Ref() + ")"
		i.Tasks = append(i.Tasks, t)
	}
	i.Updates = append(i.Updates, src.Updates...)
	for k, n := range src.GroupFiring {
		i.setFiring(k, n)
	}
	if src.Severity != 0 && (i.Severity == 0 || src.Severity < i.Severity) {
		i.event(now, "severity", fmt.Sprintf("severity %s → %s (from %s)", orNone(i.Severity.String()), src.Severity, src.Ref()), by)
		i.Severity = src.Severity
	}
	if i.Channel == "" && src.Channel != "" {
		i.event(now, "channel", fmt.Sprintf("chat channel %s (from %s)", src.Channel, src.Ref()), by)
		i.Channel = src.Channel
	}
	i.event(now, "merged", fmt.Sprintf("%s merged into this incident: %s", src.Ref(), src.Title), by)
	src.MergedInto = i.ID
	src.Status, src.ResolvedAt, src.ResolvedBy = StatusResolved, now, by.orOncall()
	src.Escalation.NextAt = time.Time{}
	src.event(now, "merged", "merged into "+i.Ref(), by)
	return nil
}

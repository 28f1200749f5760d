// Package incidents owns the incident and its lifecycle as an incident
// commander runs it: opened by an alert group's notification or declared
// by hand (a drill too), a severity from SEV1 to SEV4, statuses triggered
// → acknowledged → mitigated → resolved (and reopened), escalation
// through a policy frozen when the incident opened, roles (incident
// commander, communications lead, scribe), a timeline of every event with
// its source and actor, status updates (internal or public), tasks with
// owners, several alert groups linked to one incident, and merges.
package incidents

import (
	"fmt"
	"slices"
	"time"

	"github.com/oncallhq/oncall/incidents/schedule"
)

// Status is where an incident is in its lifecycle.
type Status int

// Incident statuses, in lifecycle order.
const (
	StatusTriggered    Status = iota // paging: nobody has acknowledged
	StatusAcknowledged               // a human owns it; escalation waits
	StatusMitigated                  // the impact has stopped; the cause may remain
	StatusResolved                   // closed
)

var statusNames = [...]string{"triggered", "acknowledged", "mitigated", "resolved"}

// String returns the status name.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("unknown incident status %q (want triggered, acknowledged, mitigated or resolved)", b)
}

// Role is a part a person plays in an incident's response.
type Role string

// The roles of an incident response.
const (
	RoleCommander     Role = "commander"      // runs the response and decides
	RoleCommunication Role = "communications" // tells customers and the company
	RoleScribe        Role = "scribe"         // keeps the timeline
)

// Roles lists every role in the order they are shown.
var Roles = []Role{RoleCommander, RoleCommunication, RoleScribe}

// ParseRole reads a role by name or alias (ic, comms, cl, scribe).
func ParseRole(s string) (Role, error) {
	switch s {
	case "commander", "incident-commander", "incident_commander", "ic":
		return RoleCommander, nil
	case "communications", "communications-lead", "comms", "cl":
		return RoleCommunication, nil
	case "scribe":
		return RoleScribe, nil
	}
	return "", fmt.Errorf("unknown role %q: want ic (incident commander), comms (communications lead) or scribe", s)
}

// Title is the role's name in words.
func (r Role) Title() string {
	switch r {
	case RoleCommander:
		return "incident commander"
	case RoleCommunication:
		return "communications lead"
	}
	return string(r)
}

// Incident is one problem a human is asked to own.
type Incident struct {
	ID int64 `json:"id"`
	// Key is the receiver and alert group the incident was opened for
	// ("" when declared by hand); Links are further alert groups that
	// attach to it (merged incidents'). While the incident is open, their
	// notifications attach to it rather than open another.
	Key        string   `json:"key,omitempty"`
	Links      []string `json:"links,omitempty"`
	Title      string   `json:"title"`
	Summary    string   `json:"summary,omitempty"`
	Service    string   `json:"service,omitempty"`
	Severity   Severity `json:"severity"`
	RunbookURL string   `json:"runbook_url,omitempty"`
	// QueryURL links to the expression of the alert that opened it (its
	// generator URL); FiringSince is when that alert began firing.
	QueryURL    string    `json:"query_url,omitempty"`
	FiringSince time.Time `json:"firing_since,omitzero"`
	// AlertSeverity is the severity label of the alert that opened it.
	AlertSeverity string `json:"alert_severity,omitempty"`
	Status        Status `json:"status"`
	// Drill marks a rehearsal: it runs the whole path, its pages say so.
	Drill bool `json:"drill,omitempty"`
	// DeclaredBy is who declared the incident by hand ("" when an alert
	// opened it): an incident no alert caught is a missing alert.
	DeclaredBy  string    `json:"declared_by,omitempty"`
	OpenedAt    time.Time `json:"opened_at"`
	AckedAt     time.Time `json:"acked_at,omitzero"`
	AckedBy     string    `json:"acked_by,omitempty"`
	MitigatedAt time.Time `json:"mitigated_at,omitzero"`
	MitigatedBy string    `json:"mitigated_by,omitempty"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	ResolvedBy  string    `json:"resolved_by,omitempty"`
	// MergedInto is the incident this one was merged into (0 if none).
	MergedInto int64 `json:"merged_into,omitempty"`
	// Assigned holds who plays each role.
	Assigned map[Role]string `json:"roles,omitempty"`
	// AlertsFiring counts the firing alerts of every group linked, as
	// GroupFiring counts them per group, at the last notification.
	AlertsFiring int            `json:"alerts_firing"`
	GroupFiring  map[string]int `json:"group_firing,omitempty"`
	Escalation   Escalation     `json:"escalation"`
	Timeline     []Event        `json:"timeline,omitempty"`
	Updates      []Update       `json:"updates,omitempty"`
	Tasks        []Task         `json:"tasks,omitempty"`
	// Sent are the pages sent for the incident and how far each has been
	// closed since (see Settle).
	Sent []PageRef `json:"sent,omitempty"`
	// Channel is the chat channel of the incident (a Slack channel ID):
	// the chat bot keeps its messages for the timeline and the postmortem.
	Channel string `json:"channel,omitempty"`
	// Announced counts the timeline events told in the channel (0: none
	// yet); the chat bot posts the rest.
	Announced int `json:"announced,omitempty"`
	// PublicTitle is what the status page calls the incident; set with
	// the first public update.
	PublicTitle string `json:"public_title,omitempty"`
	// CommanderNeeded says the severity requires an incident commander
	// and none is assigned; the server sets it as it answers (see
	// NeedsCommander), it is not stored.
	CommanderNeeded bool `json:"commander_needed,omitempty"`
}

// Open reports whether the incident is not resolved.
func (i Incident) Open() bool { return i.Status != StatusResolved }

// Ref is the short human reference of the incident, e.g. "INC-7".
func (i Incident) Ref() string { return Ref(i.ID) }

// Ref is the short human reference of incident id.
func Ref(id int64) string { return fmt.Sprintf("INC-%d", id) }

// Keys are the alert groups that attach to the incident.
func (i Incident) Keys() []string {
	if i.Key == "" {
		return slices.Clone(i.Links)
	}
	return append([]string{i.Key}, i.Links...)
}

// Role returns who plays role ("" if nobody).
func (i Incident) Role(r Role) string { return i.Assigned[r] }

// NeedsCommander reports whether the open incident's severity requires an
// incident commander and none is assigned.
func (i Incident) NeedsCommander(sev Severities) bool {
	return i.Open() && !i.Drill && sev.Get(i.Severity).RequiresCommander && i.Assigned[RoleCommander] == ""
}

// Escalation is the incident's position in its escalation policy.
type Escalation struct {
	Policy string `json:"policy"`
	// Frozen is the policy as it was when the incident opened: editing
	// the configuration never changes a running escalation.
	Frozen *schedule.Policy `json:"frozen,omitempty"`
	// Step is the index of the current step in the policy.
	Step     int    `json:"step"`
	StepName string `json:"step_name,omitempty"`
	Steps    int    `json:"steps,omitempty"`
	// Round counts passes through the whole policy (0 for the first).
	Round int `json:"round"`
	// Seq counts the times the incident paged (1 for the first): it makes
	// every page's key unique, even when the last step re-pages.
	Seq int `json:"seq"`
	// Paged lists who the current step paged.
	Paged []string `json:"paged,omitempty"`
	// StepStartedAt is when the current step paged.
	StepStartedAt time.Time `json:"step_started_at,omitzero"`
	// NextAt is when the next step pages unless acknowledged, or, for an
	// acknowledged incident, when the acknowledgement expires; zero when
	// nothing is due.
	NextAt time.Time `json:"next_at,omitzero"`
}

// Event is one line of the incident timeline.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
	// Source is where the event came from: alerts, escalation, cli, api,
	// console, slack.
	Source string `json:"source,omitempty"`
	// Actor is who did it ("" for oncall itself).
	Actor string `json:"actor,omitempty"`
}

// Update is a status update: what is known, what is being done. Public
// ones are published on the status page; nothing else of an incident is.
type Update struct {
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
	Public bool      `json:"public,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	// Status is the incident's status when the update was posted.
	Status Status `json:"status"`
}

// Task is a piece of work in the response, with its owner.
type Task struct {
	ID        int       `json:"id"`
	Text      string    `json:"text"`
	Owner     string    `json:"owner,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	Done      bool      `json:"done,omitempty"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	DoneBy    string    `json:"done_by,omitempty"`
}

// Page kinds: a page asks a person to act (trigger, escalate); a page
// update tells the paging service that an earlier page is answered
// (acknowledge) or moot (resolve), so that it stops notifying.
const (
	PageTrigger     = "trigger"
	PageEscalate    = "escalate"
	PageAcknowledge = "acknowledge"
	PageResolve     = "resolve"
)

// Page is one message asking a person to act on an incident, or an update
// of such a message. Pages are written to a durable outbox together with
// the state change that caused them, and delivered at least once. Key is
// unique within the store: the incident, the page round and the person
// (and, for an update, its kind).
type Page struct {
	ID         int64  `json:"id"`
	Key        string `json:"key"`
	IncidentID int64  `json:"incident_id"`
	Kind       string `json:"kind"` // PageTrigger, PageEscalate, PageAcknowledge, PageResolve
	// Of is the key of the page an update is about ("" for a page).
	Of         string    `json:"of,omitempty"`
	Target     string    `json:"target"`
	Step       int       `json:"step"`
	StepName   string    `json:"step_name,omitempty"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body,omitempty"`
	RunbookURL string    `json:"runbook_url,omitempty"`
	Severity   Severity  `json:"severity,omitempty"`
	Drill      bool      `json:"drill,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	SentAt     time.Time `json:"sent_at,omitzero"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
}

// IsUpdate reports whether p updates an earlier page rather than pages.
func (p Page) IsUpdate() bool { return p.Of != "" }

// PageRef is a page sent for an incident. A paging service keeps an alert
// open for each page until it is told the page is answered.
type PageRef struct {
	Key    string `json:"key"`
	Target string `json:"target"`
	// Closed is "" while the page is open, then PageAcknowledge or
	// PageResolve once the update saying so was queued.
	Closed string `json:"closed,omitempty"`
}

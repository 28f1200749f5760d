// Package incidents owns the incident model and its lifecycle: an incident opens
// for one alert group (never twice for the same group while open), escalates
// through a policy until someone acknowledges it, and keeps a timeline.
package incidents

import (
	"fmt"
	"time"
)

// Status is where an incident is in its lifecycle.
type Status int

// Incident statuses.
const (
	StatusTriggered    Status = iota // paging, nobody has acknowledged
	StatusAcknowledged               // a human owns it; escalation stops
	StatusResolved                   // closed
)

var statusNames = [...]string{"triggered", "acknowledged", "resolved"}

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
	return fmt.Errorf("unknown incident status %q", b)
}

// Incident is one problem a human is asked to own.
type Incident struct {
	ID int64 `json:"id"`
	// Key is the receiver and alert group the incident was opened for; while
	// the incident is open, further notifications for the group attach to it.
	Key        string    `json:"key"`
	Title      string    `json:"title"`
	Summary    string    `json:"summary,omitempty"`
	Service    string    `json:"service,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	RunbookURL string    `json:"runbook_url,omitempty"`
	Status     Status    `json:"status"`
	OpenedAt   time.Time `json:"opened_at"`
	AckedAt    time.Time `json:"acked_at,omitzero"`
	AckedBy    string    `json:"acked_by,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	// AlertsFiring counts the firing alerts of the group at the last update.
	AlertsFiring int        `json:"alerts_firing"`
	Escalation   Escalation `json:"escalation"`
	Timeline     []Event    `json:"timeline,omitempty"`
}

// Open reports whether the incident is not resolved.
func (i Incident) Open() bool { return i.Status != StatusResolved }

// Ref is the short human reference of the incident, e.g. "INC-7".
func (i Incident) Ref() string { return fmt.Sprintf("INC-%d", i.ID) }

// Escalation is the incident's position in its escalation policy.
type Escalation struct {
	Policy string `json:"policy"`
	// Step is the index of the current step in the policy.
	Step     int    `json:"step"`
	StepName string `json:"step_name,omitempty"`
	// Round counts passes through the whole policy (0 for the first).
	Round int `json:"round"`
	// Seq counts the times the incident paged (1 for the first): it makes
	// every page's key unique, even when the last step re-pages.
	Seq int `json:"seq"`
	// Paged lists who the current step paged.
	Paged []string `json:"paged,omitempty"`
	// StepStartedAt is when the current step paged.
	StepStartedAt time.Time `json:"step_started_at"`
	// NextAt is when the next step pages unless acknowledged; zero when escalation
	// is finished or stopped.
	NextAt time.Time `json:"next_at,omitzero"`
}

// Event is one line of the incident timeline.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// Page is one message asking a person to act on an incident. Pages are written
// to a durable outbox together with the state change that caused them, and
// delivered at least once. Key is unique within the store: the incident, the
// page round and the person.
type Page struct {
	ID         int64     `json:"id"`
	Key        string    `json:"key"`
	IncidentID int64     `json:"incident_id"`
	Kind       string    `json:"kind"` // "trigger", "escalate", "resolve"
	Target     string    `json:"target"`
	Step       int       `json:"step"`
	StepName   string    `json:"step_name,omitempty"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body,omitempty"`
	RunbookURL string    `json:"runbook_url,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	SentAt     time.Time `json:"sent_at,omitzero"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
}

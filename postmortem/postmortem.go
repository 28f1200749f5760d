// Package postmortem is the postmortem document: a Markdown file with YAML
// front matter (the incident, its severity, the review status Draft → In
// review → Reviewed → Closed, owner and facilitator, services, the start,
// detection, acknowledgement, mitigation and resolution times, and the
// action items with owner, due date, ticket and status) over the
// author's prose in the standard sections. It parses and writes that
// file, editing the front matter without touching the prose; imports
// postmortems written with common heading-based templates; and scaffolds
// a new one from what oncall saw of an incident — its timeline, the
// alerts and their rules, who was paged and when they answered, the
// figures, an impact estimate with a chart, the log lines at the peak —
// through a text/template the user can override. It does no I/O: the
// scaffolder reads through the small interfaces of Sources.
package postmortem

import (
	"fmt"
	"strings"
	"time"

	"github.com/oncallhq/oncall/incidents"
)

// Status is where a postmortem is in its review.
type Status int

// The statuses, in review order.
const (
	StatusDraft    Status = iota // being written
	StatusInReview               // written, waiting for its review meeting
	StatusReviewed               // reviewed; action items being done
	StatusClosed                 // every action item done or dropped
)

var statusNames = [...]string{"Draft", "In review", "Reviewed", "Closed"}

// Statuses lists every status in order.
var Statuses = []Status{StatusDraft, StatusInReview, StatusReviewed, StatusClosed}

// String is the status as the front matter writes it.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// ParseStatus reads a status in any case, with a space, hyphen or
// underscore in "in review".
func ParseStatus(v string) (Status, error) {
	k := strings.NewReplacer("-", " ", "_", " ").Replace(strings.ToLower(strings.TrimSpace(v)))
	k = strings.Join(strings.Fields(k), " ")
	for i, n := range statusNames {
		if strings.ToLower(n) == k || (k == "inreview" && i == int(StatusInReview)) {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q: want Draft, In review, Reviewed or Closed", v)
}

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what ParseStatus reads.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// ActionStatus is where an action item is.
type ActionStatus string

// The action statuses: open and in progress count as outstanding; done
// and dropped (decided against, with a reason in the prose) do not.
const (
	ActionOpen       ActionStatus = "open"
	ActionInProgress ActionStatus = "in-progress"
	ActionDone       ActionStatus = "done"
	ActionDropped    ActionStatus = "dropped"
)

// ParseActionStatus reads an action status ("" is open).
func ParseActionStatus(v string) (ActionStatus, error) {
	k := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(v)))
	switch k {
	case "", "open", "todo":
		return ActionOpen, nil
	case "in-progress", "doing", "started":
		return ActionInProgress, nil
	case "done", "completed", "complete", "fixed":
		return ActionDone, nil
	case "dropped", "wont-do", "won't-do", "wontfix", "cancelled", "canceled":
		return ActionDropped, nil
	}
	return "", fmt.Errorf("unknown action status %q: want open, in-progress, done or dropped", v)
}

// Outstanding reports whether the action still has to be done.
func (s ActionStatus) Outstanding() bool { return s == ActionOpen || s == ActionInProgress || s == "" }

// Date is a calendar day (UTC), as action items and postmortems are due.
type Date struct{ t time.Time }

// DateOf is the UTC calendar day of t.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads 2026-12-08 (or an RFC 3339 time, keeping its UTC day).
func ParseDate(v string) (Date, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return Date{t}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return DateOf(t), nil
	}
	return Date{}, fmt.Errorf("%q is not a date like 2026-12-08", v)
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String writes 2026-12-08 ("" when unset).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// Passed reports whether the whole day is over at at: a due date passes at
// the end of its day.
func (d Date) Passed(at time.Time) bool { return !d.IsZero() && !at.Before(d.t.AddDate(0, 0, 1)) }

// AddDays is the date n days later.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Time is the start of the day, UTC.
func (d Date) Time() time.Time { return d.t }

// MarshalText writes the date.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what ParseDate reads; empty is unset.
func (d *Date) UnmarshalText(b []byte) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	*d = v
	return err
}

// Action is one action item: what is to be done, by whom, by when, where
// it is tracked and where it is.
type Action struct {
	Title  string       `yaml:"title" json:"title"`
	Owner  string       `yaml:"owner,omitempty" json:"owner,omitempty"`
	Due    Date         `yaml:"due,omitempty" json:"due,omitzero"`
	Ticket string       `yaml:"ticket,omitempty" json:"ticket,omitempty"`
	Status ActionStatus `yaml:"status" json:"status"`
}

// Overdue reports whether the action is outstanding past its due date at
// at.
func (a Action) Overdue(at time.Time) bool { return a.Status.Outstanding() && a.Due.Passed(at) }

// FrontMatter is what a postmortem says of itself, in its YAML header.
type FrontMatter struct {
	// ID names the postmortem: the incident's reference (INC-7) for one
	// oncall scaffolded, whatever the source said for one imported.
	ID string `yaml:"id" json:"id"`
	// Incident is oncall's incident number (0: not an oncall incident).
	Incident int64              `yaml:"incident,omitempty" json:"incident,omitempty"`
	Title    string             `yaml:"title" json:"title"`
	Severity incidents.Severity `yaml:"severity,omitempty" json:"severity,omitempty"`
	Status   Status             `yaml:"status" json:"status"`
	// StatusSince is when the status last changed: a postmortem in review
	// too long is stuck.
	StatusSince time.Time `yaml:"status_since,omitempty" json:"status_since,omitzero"`
	Owner       string    `yaml:"owner,omitempty" json:"owner,omitempty"`
	Facilitator string    `yaml:"facilitator,omitempty" json:"facilitator,omitempty"`
	Services    []string  `yaml:"services,omitempty" json:"services,omitempty"`
	Drill       bool      `yaml:"drill,omitempty" json:"drill,omitempty"`
	// DeclaredBy is who declared the incident by hand: no alert caught it.
	DeclaredBy string `yaml:"declared_by,omitempty" json:"declared_by,omitempty"`
	// The incident's times: the impact began (Started), oncall or a human
	// noticed (Detected), someone owned it (Acknowledged), the impact
	// stopped (Mitigated), it was closed (Resolved).
	Started      time.Time `yaml:"started,omitempty" json:"started,omitzero"`
	Detected     time.Time `yaml:"detected,omitempty" json:"detected,omitzero"`
	Acknowledged time.Time `yaml:"acknowledged,omitempty" json:"acknowledged,omitzero"`
	Mitigated    time.Time `yaml:"mitigated,omitempty" json:"mitigated,omitzero"`
	Resolved     time.Time `yaml:"resolved,omitempty" json:"resolved,omitzero"`
	// Due is when the draft should be ready for review.
	Due     Date     `yaml:"due,omitempty" json:"due,omitzero"`
	Actions []Action `yaml:"actions,omitempty" json:"actions,omitempty"`
	// ImportedFrom names the file an imported postmortem came from.
	ImportedFrom string `yaml:"imported_from,omitempty" json:"imported_from,omitempty"`
}

// fieldOrder is the order the front matter is written in; Parse knows
// these keys and no others.
var fieldOrder = []string{"id", "incident", "title", "severity", "status", "status_since", "owner", "facilitator", "services",
	"drill", "declared_by", "started", "detected", "acknowledged", "mitigated", "resolved", "due", "actions", "imported_from"}

// Section is one of the standard sections of a postmortem.
type Section struct {
	Key, Heading string
	// Prompt is what the section asks the author when oncall cannot know.
	Prompt string
}

// Sections are the standard sections, in order.
var Sections = []Section{
	{"summary", "Summary", "What happened, in two or three sentences a reader outside the team follows."},
	{"impact", "Impact", "Who was affected, how and for how long; what it cost."},
	{"timeline", "Timeline", ""},
	{"trigger", "Trigger", "What change or event set it off?"},
	{"root-cause", "Root cause", "Why could the trigger cause this? Keep asking why."},
	{"contributing-factors", "Contributing factors", "What made it worse, longer or harder to see?"},
	{"detection", "Detection", "How did we find out? Would an alert have caught it sooner?"},
	{"response", "Response", "Who did what; what helped and what slowed us down."},
	{"recovery", "Recovery", "How was the impact stopped, and how was the system brought back?"},
	{"went-well", "What went well", ""},
	{"went-wrong", "What went wrong", ""},
	{"lucky", "Where we got lucky", ""},
	{"action-items", "Action items", ""},
	{"supporting", "Supporting information", ""},
}

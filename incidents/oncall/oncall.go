// Package oncall answers "who is on call": weekly rotations with overrides, and
// escalation policies whose steps name schedules (primary, secondary) or people
// (team manager, incident commander), each with an acknowledgement timeout.
package oncall

import "time"

// Assignment is one step of an escalation policy resolved to people at an
// instant: who would be paged at that step right now.
type Assignment struct {
	Policy     string        `json:"policy"`
	Step       int           `json:"step"`
	StepName   string        `json:"step_name"`
	Users      []string      `json:"users"`
	AckTimeout time.Duration `json:"ack_timeout"`
	// Until is when the first user's shift ends (zero for a fixed person).
	Until time.Time `json:"until,omitzero"`
	// Next is who the step pages from Until on.
	Next []string `json:"next,omitempty"`
}

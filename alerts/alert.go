// Package alerts turns rules into alerts: rule loading (Prometheus rule files,
// unchanged), evaluation with Prometheus semantics (pending → firing → resolved,
// `for`, `keep_firing_for`), and grouping so that one problem yields one
// notification however many evaluations see it.
package alerts

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// State is where an alert is in its lifecycle.
type State int

// Alert states, as Prometheus names them.
const (
	StateInactive State = iota // resolved, kept a while so the resolution is notified
	StatePending               // condition true, waiting out `for`
	StateFiring                // condition true for at least `for`
)

var stateNames = [...]string{"inactive", "pending", "firing"}

// String returns the Prometheus name of the state.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// MarshalText encodes the state by name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown alert state %q", b)
}

// Alert is one instance of an alerting rule: the rule's name and labels merged
// with the labels of one series of its expression.
type Alert struct {
	// Rule is the alerting rule's name (the alertname label).
	Rule        string            `json:"rule"`
	Labels      labels.Labels     `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	State       State             `json:"state"`
	Value       float64           `json:"value"`
	// ActiveAt is when the condition was first seen true in this streak.
	ActiveAt time.Time `json:"active_at"`
	// FiredAt is when the alert went from pending to firing (zero while pending).
	FiredAt time.Time `json:"fired_at,omitzero"`
	// ResolvedAt is when the condition stopped holding (zero while active).
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// LastSeenAt is the last evaluation at which the condition held.
	LastSeenAt time.Time `json:"last_seen_at"`

	// KeepFiringSince is when the condition stopped holding while keep_firing_for held the alert firing.
	KeepFiringSince time.Time `json:"keep_firing_since,omitzero"`
}

// Fingerprint identifies the alert: the hash of its labels.
func (a Alert) Fingerprint() uint64 { return a.Labels.Hash() }

// Severity is the alert's severity label ("" when unset).
func (a Alert) Severity() string { return a.Labels.Get("severity") }

// Summary is the summary annotation, falling back to the rule name.
func (a Alert) Summary() string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	return a.Rule
}

package alerts

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// RuleAlert is one instance of an alerting rule: the rule's name and labels merged
// with the labels of one series of its expression.
type RuleAlert struct {
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

// Fingerprint identifies the alert by its labels, as Alert.Fingerprint does.
func (a RuleAlert) Fingerprint() uint64 { return Fingerprint(a.Labels) }

// Alert is the rule's alert as the rest of oncall sees it at now, the way
// Prometheus sends alerts to an Alertmanager: a firing alert starts when it
// fired and ends validFor after now unless evaluated again; a resolved one
// ends when it resolved. Pending alerts are listed but never routed.
func (a RuleAlert) Alert(now time.Time, validFor time.Duration) Alert {
	out := Alert{Labels: a.Labels, Annotations: labels.FromMap(a.Annotations), UpdatedAt: now, Status: Status{State: a.State}}
	switch a.State {
	case StatePending:
		out.StartsAt = a.ActiveAt
	case StateFiring:
		out.StartsAt, out.EndsAt = a.FiredAt, now.Add(validFor)
	default:
		out.StartsAt, out.EndsAt = a.FiredAt, a.ResolvedAt
		if out.StartsAt.IsZero() {
			out.StartsAt = a.ActiveAt
		}
	}
	return out
}

// Severity is the alert's severity label ("" when unset).
func (a RuleAlert) Severity() string { return a.Labels.Get("severity") }

// Summary is the summary annotation, falling back to the rule name.
func (a RuleAlert) Summary() string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	return a.Rule
}

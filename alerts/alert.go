// Package alerts is oncall's alert: its identity (the label set, fingerprinted
// exactly as Alertmanager does), its active interval and state, validation
// and merging with Alertmanager's semantics — plus the rules that produce
// alerts (Prometheus rule files, unchanged) and their evaluator (pending →
// firing → resolved, `for`, `keep_firing_for`).
package alerts

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// State is where an alert is in its lifecycle.
type State int

// Alert states.
const (
	StateResolved State = iota // no longer active, kept a while so the resolution is seen
	StatePending               // a rule's condition holds, waiting out its `for`; never routed
	StateFiring                // active
)

var stateNames = [...]string{"resolved", "pending", "firing"}

// String returns the state's name.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// MarshalText encodes the state by name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name ("inactive" is read as resolved).
func (s *State) UnmarshalText(b []byte) error {
	if string(b) == "inactive" {
		*s = StateResolved
		return nil
	}
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown alert state %q", b)
}

// Alert is one alert as Alertmanager models it: a label set (its identity),
// annotations, and the interval it is active in. Alerts posted by a
// Prometheus and alerts of oncall's own rules are the same value.
type Alert struct {
	Labels      labels.Labels `json:"labels"`
	Annotations labels.Labels `json:"annotations"`
	StartsAt    time.Time     `json:"startsAt"`
	// EndsAt is when the alert stops being active; zero means open-ended.
	EndsAt time.Time `json:"endsAt,omitzero"`
	// UpdatedAt is when oncall last received the alert.
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
	GeneratorURL string    `json:"generatorURL,omitempty"`
	// Timeout is true when the sender gave no end: EndsAt was set to the
	// receipt time plus resolve_timeout, and a later explicit end wins.
	Timeout bool `json:"timeout,omitempty"`
	// Status is how oncall treats the alert right now. It is computed when
	// alerts are listed, never stored.
	Status Status `json:"status"`
}

// Status says how oncall treats an alert at one instant.
type Status struct {
	State State `json:"state"`
	// SilencedBy and InhibitedBy list the silences and inhibiting alerts
	// (by fingerprint) that mute it.
	SilencedBy  []string `json:"silencedBy,omitempty"`
	InhibitedBy []string `json:"inhibitedBy,omitempty"`
	// Receivers are the receivers of the routes the alert matches.
	Receivers []string `json:"receivers,omitempty"`
}

// Suppressed reports whether a silence or an inhibition mutes the alert.
func (s Status) Suppressed() bool { return len(s.SilencedBy) > 0 || len(s.InhibitedBy) > 0 }

// Name is the alertname label.
func (a *Alert) Name() string { return a.Labels.Get(labels.AlertName) }

// Severity is the severity label ("" when unset).
func (a *Alert) Severity() string { return a.Labels.Get("severity") }

// Summary is the summary annotation, falling back to the alert's name.
func (a *Alert) Summary() string {
	if s := a.Annotations.Get("summary"); s != "" {
		return s
	}
	return a.Name()
}

// Fingerprint identifies the alert by its labels, as Alertmanager does.
func (a *Alert) Fingerprint() uint64 { return Fingerprint(a.Labels) }

// ResolvedAt reports whether the alert's active interval ended at or before t.
func (a *Alert) ResolvedAt(t time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(t)
}

// StateAt is firing or resolved at t (pending comes only from rules).
func (a *Alert) StateAt(t time.Time) State {
	if a.ResolvedAt(t) {
		return StateResolved
	}
	return StateFiring
}

// Merge combines two receptions of the same alert the way Alertmanager
// does at now: the younger one (by UpdatedAt) wins, except that the earliest
// start is kept, a later explicit end is not replaced by a timeout one, and
// of two resolved receptions the latest end wins.
func (a *Alert) Merge(o *Alert, now time.Time) *Alert {
	if o.UpdatedAt.Before(a.UpdatedAt) {
		return o.Merge(a, now)
	}
	res := *o
	if a.StartsAt.Before(o.StartsAt) {
		res.StartsAt = a.StartsAt
	}
	if o.ResolvedAt(now) {
		if a.ResolvedAt(now) && a.EndsAt.After(o.EndsAt) {
			res.EndsAt = a.EndsAt
		}
	} else if a.EndsAt.After(o.EndsAt) && !a.Timeout {
		res.EndsAt = a.EndsAt
	}
	return &res
}

// Validate checks the alert as Alertmanager 0.25 does: a start, an end not
// before it, at least one label, and label and annotation names of the
// classic form ([a-zA-Z_][a-zA-Z0-9_]*) with UTF-8 values.
func (a *Alert) Validate() error {
	if a.StartsAt.IsZero() {
		return errors.New("start time missing")
	}
	if !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
		return errors.New("start time must be before end time")
	}
	if err := validateSet(a.Labels); err != nil {
		return fmt.Errorf("invalid label set: %w", err)
	}
	if a.Labels.IsEmpty() {
		return errors.New("at least one label pair required")
	}
	if err := validateSet(a.Annotations); err != nil {
		return fmt.Errorf("invalid annotations: %w", err)
	}
	return nil
}

func validateSet(ls labels.Labels) error {
	var err error
	ls.Range(func(l labels.Label) {
		if err != nil {
			return
		}
		if !model.LabelName(l.Name).IsValidLegacy() {
			err = fmt.Errorf("invalid name %q", l.Name)
		} else if !utf8.ValidString(l.Value) {
			err = fmt.Errorf("invalid value %q", l.Value)
		}
	})
	return err
}

// Fingerprint hashes a label set exactly as Alertmanager's fingerprints do
// (FNV-1a over sorted names and values), so fingerprints shown by oncall
// match those of an Alertmanager fed the same alert.
func Fingerprint(ls labels.Labels) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
		sep      = 0xff
	)
	h := uint64(offset64)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
		h ^= sep
		h *= prime64
	}
	ls.Range(func(l labels.Label) {
		add(l.Name)
		add(l.Value)
	})
	return h
}

// FingerprintString renders a fingerprint as Alertmanager does: 16 hex digits.
func FingerprintString(fp uint64) string { return fmt.Sprintf("%016x", fp) }

// Group is an aggregation group as it is listed: the receiver it notifies,
// its group key and labels, and its alerts with their status.
type Group struct {
	Receiver string        `json:"receiver"`
	Key      string        `json:"groupKey"`
	Labels   labels.Labels `json:"labels"`
	Alerts   []Alert       `json:"alerts"`
}

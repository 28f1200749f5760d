package alerts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Transition is one change of an alert's state — it began pending, began
// firing, resolved — as the alert history records it.
type Transition struct {
	At          time.Time     `json:"at"`
	Fingerprint uint64        `json:"-"`
	Labels      labels.Labels `json:"labels"`
	State       State         `json:"state"`
	// Summary is the summary annotation, if the alert had one.
	Summary string `json:"summary,omitempty"`
	// Source says where the alert came from: "rule" (oncall's own rules)
	// or "received" (posted by a Prometheus, forwarded by an Alertmanager).
	Source string `json:"source"`
}

// Name is the transition's alertname.
func (t Transition) Name() string { return t.Labels.Get(labels.AlertName) }

// MarshalJSON writes the fingerprint as Alertmanager writes it.
func (t Transition) MarshalJSON() ([]byte, error) {
	type plain Transition
	return json.Marshal(struct {
		plain
		Fingerprint string `json:"fingerprint"`
	}{plain(t), FingerprintString(t.Fingerprint)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Transition) UnmarshalJSON(b []byte) error {
	type plain Transition
	var v struct {
		*plain
		Fingerprint string `json:"fingerprint"`
	}
	v.plain = (*plain)(t)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Fingerprint == "" {
		t.Fingerprint = Fingerprint(t.Labels)
		return nil
	}
	fp, err := strconv.ParseUint(v.Fingerprint, 16, 64)
	if err != nil {
		return fmt.Errorf("fingerprint %q: %w", v.Fingerprint, err)
	}
	t.Fingerprint = fp
	return nil
}

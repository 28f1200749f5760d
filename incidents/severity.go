package incidents

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity is how bad an incident is: SEV1 (the worst) to SEV4; 0 is
// unset.
type Severity int

// The severities.
const (
	SEV1 Severity = 1 + iota
	SEV2
	SEV3
	SEV4
)

// String writes SEV1 … SEV4 ("" when unset).
func (s Severity) String() string {
	if s < SEV1 || s > SEV4 {
		return ""
	}
	return "SEV" + strconv.Itoa(int(s))
}

// ParseSeverity reads 1, sev1 or SEV1.
func ParseSeverity(v string) (Severity, error) {
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "SEV")
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > 4 {
		return 0, fmt.Errorf("unknown severity %q: want SEV1 (worst) to SEV4, or 1 to 4", v)
	}
	return Severity(n), nil
}

// MarshalText writes SEV1 … SEV4.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what ParseSeverity reads; empty is unset.
func (s *Severity) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = 0
		return nil
	}
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Definition says what a severity means and what it demands.
type Definition struct {
	Description string `yaml:"description" json:"description"`
	// AlertSeverities are the values of an alert's severity label that
	// open an incident of this severity.
	AlertSeverities []string `yaml:"alert_severities" json:"alert_severities,omitempty"`
	// RequiresCommander says an incident of this severity needs an
	// incident commander assigned.
	RequiresCommander bool `yaml:"requires_commander" json:"requires_commander"`
}

// Severities define every severity; Get falls back on the defaults.
type Severities map[Severity]Definition

// DefaultSeverities are the definitions oncall starts with.
var DefaultSeverities = Severities{
	SEV1: {Description: "Critical: customers cannot use the product or a core feature, or data is at risk. All hands; public updates.", AlertSeverities: []string{"critical"}, RequiresCommander: true},
	SEV2: {Description: "Major: a core feature is degraded for many customers. Page the on-call and an incident commander.", AlertSeverities: []string{"page"}, RequiresCommander: true},
	SEV3: {Description: "Minor: a feature is degraded for some customers, or there is no redundancy left. Handle in working hours.", AlertSeverities: []string{"error", "warning"}},
	SEV4: {Description: "Low: no customer impact yet; something to fix before it becomes one.", AlertSeverities: []string{"ticket", "info"}},
}

// Get returns the definition of s: the configured one, else the default.
func (ss Severities) Get(s Severity) Definition {
	if d, ok := ss[s]; ok {
		return d
	}
	return DefaultSeverities[s]
}

// ForAlert returns the severity an alert with the severity label value
// opens an incident at; SEV3 when no definition names the label.
func (ss Severities) ForAlert(label string) Severity {
	for _, s := range []Severity{SEV1, SEV2, SEV3, SEV4} {
		if slices.Contains(ss.Get(s).AlertSeverities, label) {
			return s
		}
	}
	return SEV3
}

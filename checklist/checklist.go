// Package checklist is the production-readiness checklist: checks with
// stable ids, categories, levels, rationale and remediation; the built-in
// `prod` checklist (Heroku's ten checks); custom checklists read from
// YAML with file:line:field errors; the records people and outside
// systems add (attestations, waivers, pushed results) and their expiry;
// evaluation of probe results and records into a run whose levels are
// cumulative; and the import of a Markdown checklist.
//
// The package does no I/O of its own beyond reading checklist files:
// probes are behind Prober, and run concurrently through Runner.
package checklist

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

// Kind says what proves a check.
type Kind string

// The kinds of check.
const (
	// KindProbe is proven by a probe oncall runs (TLS, the alert chain,
	// logs, the runbook, staging, drills).
	KindProbe Kind = "probe"
	// KindAttestation is a person's word, with a justification, maybe an
	// evidence URL, and an expiry.
	KindAttestation Kind = "attestation"
	// KindExternal is a result pushed from outside (a CI job, the
	// launch email oncall sent).
	KindExternal Kind = "external"
)

// Status is the result of one check.
type Status string

// The results of a check.
const (
	Pass        Status = "pass"
	Fail        Status = "fail"
	Warn        Status = "warn" // a concern that does not block the level
	NA          Status = "na"   // not applicable to the service
	NotReported Status = "not_reported"
	Error       Status = "error" // the probe could not run
	Waived      Status = "waived"
)

var statuses = []Status{Pass, Fail, Warn, NA, NotReported, Error, Waived}

// ParseStatus reads a status by name ("n/a" for NA too).
func ParseStatus(s string) (Status, error) {
	switch strings.ToLower(s) {
	case "n/a", "na", "not-applicable", "not_applicable":
		return NA, nil
	case "not-reported":
		return NotReported, nil
	}
	for _, st := range statuses {
		if string(st) == strings.ToLower(s) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown result %q: want pass, fail, warn, n/a, not_reported, error or waived", s)
}

// Label is the status as a person reads it.
func (s Status) Label() string {
	switch s {
	case NA:
		return "n/a"
	case NotReported:
		return "not reported"
	}
	return string(s)
}

// Holds reports whether the status lets a level pass: pass, warn, n/a
// and waived do; fail, not reported and error do not.
func (s Status) Holds() bool { return s == Pass || s == Warn || s == NA || s == Waived }

// Evidence says whether an attestation needs an evidence URL.
type Evidence string

// Evidence requirements.
const (
	EvidenceOptional Evidence = "optional"
	EvidenceRequired Evidence = "required"
)

// DefaultValidFor is how long an attestation or pushed result holds when
// neither it nor its check says otherwise.
const DefaultValidFor = 90 * 24 * time.Hour

// Check is one item of a checklist.
type Check struct {
	// ID is stable: records and reports name the check by it.
	ID       string `json:"id" yaml:"id"`
	Title    string `json:"title" yaml:"title"`
	Category string `json:"category,omitempty" yaml:"category,omitempty"`
	// Level is the lowest level that requires the check; every higher
	// level requires it too.
	Level string `json:"level" yaml:"level"`
	Kind  Kind   `json:"kind" yaml:"kind"`
	// Probe names the probe of a probe check.
	Probe string `json:"probe,omitempty" yaml:"probe,omitempty"`
	// Params tune the probe (thresholds, windows).
	Params map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	// Attestable lets a person's attestation stand in when a probe check's
	// probe does not pass (a drill recorded elsewhere).
	Attestable bool `json:"attestable,omitempty" yaml:"attestable,omitempty"`
	// Evidence says whether an attestation needs an evidence URL.
	Evidence Evidence `json:"evidence,omitempty" yaml:"evidence,omitempty"`
	// ValidFor is how long an attestation or pushed result holds by
	// default.
	ValidFor    time.Duration `json:"valid_for,omitempty" yaml:"-"`
	Rationale   string        `json:"rationale,omitempty" yaml:"rationale,omitempty"`
	Remediation string        `json:"remediation,omitempty" yaml:"remediation,omitempty"`
	// Line is where the check is defined in its file.
	Line int `json:"line,omitempty" yaml:"-"`
}

// Param returns the named parameter, or def when it is not set.
func (c Check) Param(name, def string) string {
	if v, ok := c.Params[name]; ok && v != "" {
		return v
	}
	return def
}

// validFor is how long a record for the check holds by default.
func (c Check) validFor() time.Duration {
	if c.ValidFor > 0 {
		return c.ValidFor
	}
	return DefaultValidFor
}

// takesAttestation reports whether a person may attest the check.
func (c Check) takesAttestation() bool {
	return c.Kind == KindAttestation || c.Kind == KindProbe && c.Attestable
}

// Checklist is a named list of checks with its levels.
type Checklist struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Levels are in ascending order; each requires the checks of the
	// levels below it too.
	Levels []string `json:"levels"`
	// Tiers maps a service's catalogue tier to the level it must reach.
	Tiers map[int]string `json:"tiers,omitempty"`
	// DefaultLevel is required of a service whose tier maps to none.
	DefaultLevel string  `json:"default_level"`
	Checks       []Check `json:"checks"`
	// File is where it was read from ("builtin/NAME.yaml" when built in).
	File string `json:"file,omitempty"`
}

// Check returns the check with the given id.
func (cl Checklist) Check(id string) (Check, bool) {
	for _, c := range cl.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// IDs returns the ids of the checks, in order.
func (cl Checklist) IDs() []string {
	out := make([]string, len(cl.Checks))
	for i, c := range cl.Checks {
		out[i] = c.ID
	}
	return out
}

// Rank is the position of level among the checklist's levels (-1 when
// it is not one of them).
func (cl Checklist) Rank(level string) int { return slices.Index(cl.Levels, level) }

// RequiredLevel says which level svc must reach: override when set, else
// the one its tier maps to, else the default; and why.
func (cl Checklist) RequiredLevel(svc catalog.Service, override string) (level, why string, err error) {
	if override != "" {
		if cl.Rank(override) < 0 {
			return "", "", fmt.Errorf("level %q: checklist %s has levels %s", override, cl.Name, strings.Join(cl.Levels, ", "))
		}
		return override, "asked for", nil
	}
	if l, ok := cl.Tiers[svc.Tier]; ok && svc.Tier > 0 {
		return l, fmt.Sprintf("tier %d", svc.Tier), nil
	}
	return cl.DefaultLevel, "default", nil
}

// Unknown is the error for a name that is not among the valid ones; the
// message lists them.
type Unknown struct {
	What  string // "check", "service", "checklist"
	Name  string
	Valid []string
	// In is where the names were looked up ("checklist prod").
	In string
}

func (e *Unknown) Error() string {
	in := ""
	if e.In != "" {
		in = " in " + e.In
	}
	if len(e.Valid) == 0 {
		return fmt.Sprintf("unknown %s %q%s: there are none", e.What, e.Name, in)
	}
	return fmt.Sprintf("unknown %s %q%s (%ss: %s)", e.What, e.Name, in, e.What, strings.Join(e.Valid, ", "))
}

// Find returns the named checklist of cls.
func Find(cls []Checklist, name string) (Checklist, error) {
	var names []string
	for _, cl := range cls {
		if cl.Name == name {
			return cl, nil
		}
		names = append(names, cl.Name)
	}
	return Checklist{}, &Unknown{What: "checklist", Name: name, Valid: names}
}

// Service returns the named service of the catalogue, or an error listing
// the services it has.
func Service(cat catalog.Catalog, name string) (catalog.Service, error) {
	if s, ok := cat.Get(name); ok {
		return s, nil
	}
	names := make([]string, len(cat.Services))
	for i, s := range cat.Services {
		names[i] = s.Name
	}
	return catalog.Service{}, &Unknown{What: "service", Name: name, Valid: names, In: "the catalogue"}
}

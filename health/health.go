// Package health is oncall's readiness, in Prometheus's style: a process
// is healthy while it runs, and ready while every check passes — the store
// takes writes, the sources answer, evaluation is on time, the outbox
// drains. A report says why in a few words per check, and never a secret.
package health

import (
	"fmt"
	"time"

	"github.com/oncallhq/oncall/secret"
)

// Check is one condition of readiness.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

// Report is the readiness of a process.
type Report struct {
	Ready bool `json:"ready"`
	// Role is "leader" (runs the pipeline) or "standby".
	Role   string  `json:"role"`
	Checks []Check `json:"checks"`
}

// NewReport is ready when every check passes. Reasons are redacted.
func NewReport(role string, checks []Check) Report {
	r := Report{Ready: true, Role: role, Checks: make([]Check, len(checks))}
	for i, c := range checks {
		c.Reason = secret.Redact(c.Reason)
		r.Checks[i] = c
		r.Ready = r.Ready && c.OK
	}
	return r
}

// Failing lists the checks that fail, as "name: reason".
func (r Report) Failing() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Reason)
		}
	}
	return out
}

// Recent is a check that passes when the last success is at most within
// before now, and says when it was and what failed since.
func Recent(name string, lastOK time.Time, lastErr error, within time.Duration, now time.Time) Check {
	switch {
	case lastOK.IsZero() && lastErr == nil:
		return Check{Name: name, OK: true, Reason: "not run yet"}
	case lastErr != nil && (lastOK.IsZero() || now.Sub(lastOK) > within):
		return Check{Name: name, Reason: oneLine(lastErr.Error())}
	case now.Sub(lastOK) > within:
		return Check{Name: name, Reason: fmt.Sprintf("last succeeded %s ago", now.Sub(lastOK).Round(time.Second))}
	}
	return Check{Name: name, OK: true, Reason: fmt.Sprintf("ok %s ago", now.Sub(lastOK).Round(time.Second))}
}

func oneLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

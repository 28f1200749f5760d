// Package catalog is the service catalogue: the business services oncall
// watches, each with its owner team, tier, escalation policy, runbook,
// dashboard, log selector, SLOs and KPIs, and the name customers know it
// by on the status page. Alert text, routing, the readiness checklist and
// postmortems read it.
package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"

	"github.com/oncallhq/oncall/alerts/slo"
)

// Service is one business service.
type Service struct {
	// Name is the value of the service label on its alerts.
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Team owns the service.
	Team string `yaml:"team" json:"team,omitempty"`
	// Tier says how critical it is: 1 is the most critical.
	Tier int `yaml:"tier" json:"tier,omitempty"`
	// Policy is the escalation policy an incident for it pages.
	Policy    string `yaml:"policy" json:"policy,omitempty"`
	Runbook   string `yaml:"runbook" json:"runbook,omitempty"`
	Dashboard string `yaml:"dashboard" json:"dashboard,omitempty"`
	// Logs selects its log lines (the filter language of oncall logs).
	Logs string `yaml:"logs" json:"logs,omitempty"`
	// PublicName is the component customers see on the status page; a
	// service without one is not shown there.
	PublicName string `yaml:"public_name" json:"public_name,omitempty"`
	// SLOs and KPIs are the service's objectives and business ratios:
	// oncall generates their recording rules and alerts (multiwindow,
	// multi-burn-rate pages and tickets; drops against a baseline).
	SLOs []slo.SLO `yaml:"slos" json:"slos,omitempty"`
	KPIs []slo.KPI `yaml:"kpis" json:"kpis,omitempty"`
}

// RuleService is what the rule generator needs of the service.
func (s Service) RuleService() slo.Service {
	return slo.Service{Name: s.Name, Runbook: s.Runbook, Dashboard: s.Dashboard}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Validate reports what is wrong with the service; policies are the
// known escalation policies.
func (s Service) Validate(policies func(string) bool) error {
	var errs []error
	if !nameRE.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("name: %q: a service name is letters, digits, '.', '_' or '-'", s.Name))
	}
	if s.Tier < 0 || s.Tier > 5 {
		errs = append(errs, fmt.Errorf("tier: %d: want 1 (most critical) to 5", s.Tier))
	}
	if s.Policy != "" && !policies(s.Policy) {
		errs = append(errs, fmt.Errorf("policy: unknown policy %q", s.Policy))
	}
	for field, u := range map[string]string{"runbook": s.Runbook, "dashboard": s.Dashboard} {
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || pu.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute URL", field, u))
		}
	}
	if err := (slo.Spec{SLOs: s.SLOs, KPIs: s.KPIs}).Validate(); err != nil {
		errs = append(errs, err)
	}
	slices.SortFunc(errs, func(a, b error) int {
		if a.Error() < b.Error() {
			return -1
		}
		return 1
	})
	return errors.Join(errs...)
}

// Catalog is the services by name, in the configured order.
type Catalog struct {
	Services []Service `json:"services"`
}

// Get returns the named service.
func (c Catalog) Get(name string) (Service, bool) {
	for _, s := range c.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Public returns the services shown on the status page, in order.
func (c Catalog) Public() []Service {
	var out []Service
	for _, s := range c.Services {
		if s.PublicName != "" {
			out = append(out, s)
		}
	}
	return out
}

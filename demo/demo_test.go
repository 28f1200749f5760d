package demo

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/slo"
)

func TestDemoFilesAreValid(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(dir, "http://127.0.0.1:9/metrics", filepath.Join(dir, "platform.log"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := alerts.LoadRuleFiles(cfg.Alerts.RuleFiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 3 {
		t.Fatalf("%d rules in the rule files, want 3", len(set.Rules))
	}
	// The catalogue's SLO and KPI generate the rest: the SLO's page and
	// ticket and the KPI's drop alert.
	var generated []string
	for _, svc := range cfg.Services {
		if len(svc.SLOs)+len(svc.KPIs) == 0 {
			continue
		}
		b, err := slo.Render(svc.RuleService(), svc.SLOs, svc.KPIs)
		if err != nil {
			t.Fatalf("service %s: %v", svc.Name, err)
		}
		gs, err := alerts.ParseRules("services."+svc.Name, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range gs.Rules {
			if !r.Record {
				generated = append(generated, r.Labels["severity"]+" "+r.Name)
			}
			set.Rules = append(set.Rules, r)
		}
	}
	slices.Sort(generated)
	if want := []string{"page AvailabilityBudgetBurn", "page MatchesPerActiveUserDropped", "ticket AvailabilityBudgetBurn"}; !slices.Equal(generated, want) {
		t.Fatalf("generated alerts %q, want %q", generated, want)
	}
	for _, r := range set.Rules {
		if r.Record {
			continue
		}
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[k] == "" {
				t.Errorf("%s: rule %s lacks %s", r.Where(), r.Name, k)
			}
		}
		if r.Labels["severity"] == "" {
			t.Errorf("%s: rule %s lacks severity", r.Where(), r.Name)
		}
	}
}

// The rule file is Prometheus's format unchanged: promtool accepts it.
func TestPromtoolAcceptsDemoRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		requireIntegration(t, "promtool not installed (apt-get install prometheus)")
	}
	dir := t.TempDir()
	Write(dir)
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules", "matchmaking.rules.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

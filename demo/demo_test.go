package demo

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oncallhq/oncall/alerts"
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
	if len(set.Rules) != 4 {
		t.Fatalf("%d rules", len(set.Rules))
	}
	for _, r := range set.Rules {
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

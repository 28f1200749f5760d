package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/slo"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/internal/testenv"
)

// rulesConfig is a configuration with one catalogue service with an SLO
// and a KPI, and a Sloth file (a copy the test may edit).
func rulesConfig(t *testing.T) (config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	sloth := filepath.Join(dir, "search.sloth.yml")
	b, err := os.ReadFile("testdata/search.sloth.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sloth, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg config.Config
	cfg.File = filepath.Join(dir, "oncall.yaml")
	cfg.Alerts.SLOFiles = []string{filepath.Join(dir, "*.sloth.yml")}
	cfg.Services = []catalog.Service{
		{Name: "plain"},
		{Name: "checkout", Runbook: "https://runbooks.example.com/checkout",
			SLOs: []slo.SLO{{Name: "availability", Objective: 99.9,
				ErrorRatio: `sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}])) / sum(rate(http_requests_total{job="checkout"}[{{.window}}]))`}},
			KPIs: []slo.KPI{{Name: "orders_per_visit", Numerator: `sum(rate(orders_total[5m]))`, Denominator: `sum(rate(visits_total[5m]))`,
				Baseline: slo.Baseline{Offset: model.Duration(7 * 24 * time.Hour)}, MaxDrop: 0.3}}},
	}
	return cfg, sloth
}

// alertsOf lists "file: alert severity" of the engine's alerting rules.
func alertsOf(rs []alerts.Rule) []string {
	var out []string
	for _, r := range rs {
		if !r.Record {
			out = append(out, r.File+": "+r.Name+" "+r.Labels["severity"])
		}
	}
	slices.Sort(out)
	return out
}

func noSeries(context.Context, string, time.Time) (promql.Vector, error) { return nil, nil }

// The engine runs the generated rules beside the rule files, names each
// by where it comes from, reloads a Sloth file that changed, and keeps
// the last good version of one that breaks.
func TestGeneratedRulesInTheEngine(t *testing.T) {
	cfg, sloth := rulesConfig(t)
	if !GeneratesRules(cfg) {
		t.Fatal("GeneratesRules: false")
	}
	eng, err := alerts.NewEngine(alerts.EngineOptions{Generate: RuleGenerator(cfg), Interval: 10 * time.Second, Query: noSeries, Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"oncall.yaml#services.checkout: AvailabilityBudgetBurn page",
		"oncall.yaml#services.checkout: AvailabilityBudgetBurn ticket",
		"oncall.yaml#services.checkout: OrdersPerVisitDropped ticket",
		sloth + ": SearchQueriesBudgetBurn critical",
		sloth + ": SearchQueriesBudgetBurn warning",
	}
	slices.Sort(want)
	if got := alertsOf(eng.Rules()); !slices.Equal(got, want) {
		t.Fatalf("alerting rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	now := time.Now()
	if changed, err := eng.Reload(now); changed || err != nil {
		t.Fatalf("reload of unchanged inputs: changed %v, err %v", changed, err)
	}

	// The Sloth file drops its ticket alert: reloaded.
	b, _ := os.ReadFile(sloth)
	edited := strings.Replace(string(b), "      ticket_alert:\n        labels: {severity: warning}\n", "      ticket_alert:\n        disable: true\n", 1)
	if edited == string(b) {
		t.Fatal("the edit did not apply")
	}
	if err := os.WriteFile(sloth, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, err := eng.Reload(now); !changed || err != nil {
		t.Fatalf("reload of an edited Sloth file: changed %v, err %v", changed, err)
	}
	want = slices.DeleteFunc(want, func(s string) bool { return strings.HasSuffix(s, "warning") })
	if got := alertsOf(eng.Rules()); !slices.Equal(got, want) {
		t.Fatalf("after the edit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Broken: the problem names the file and line; the last good rules run on.
	if err := os.WriteFile(sloth, []byte(edited+"    objective: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, _ := eng.Reload(now); !changed {
		t.Fatal("reload of a broken Sloth file: not seen")
	}
	ps := eng.Problems()
	if len(ps) != 1 || ps[0].File != sloth || !strings.Contains(ps[0].Error(), sloth+":") {
		t.Fatalf("problems %v, want one naming %s with its line", ps, sloth)
	}
	if got := alertsOf(eng.Rules()); !slices.Equal(got, want) {
		t.Fatalf("with the file broken, the rules in effect are\n%s\nwant the last good ones:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// render prints every generated rule, or one service's, as one rule
// file that both promtools accept; an unknown service names the valid ones.
func TestRenderRules(t *testing.T) {
	cfg, _ := rulesConfig(t)
	all, err := RenderRules(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	one, err := RenderRules(cfg, "search")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"all": all, "search": one} {
		set, err := alerts.ParseRules(name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var names []string
		for _, r := range set.Rules {
			if !r.Record {
				names = append(names, r.Name)
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		want := []string{"AvailabilityBudgetBurn", "OrdersPerVisitDropped", "SearchQueriesBudgetBurn"}
		if name == "search" {
			want = want[2:]
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: alerts %q, want %q", name, names, want)
		}
	}
	_, err = RenderRules(cfg, "nope")
	if err == nil || !strings.Contains(err.Error(), "checkout, search") {
		t.Errorf("unknown service: %v, want the list of services with SLOs", err)
	}

	path := filepath.Join(t.TempDir(), "all.rules.yml")
	if err := os.WriteFile(path, all, 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, tool string) {
		if out, err := exec.Command(tool, "check", "rules", path).CombinedOutput(); err != nil {
			t.Errorf("%s check rules: %v\n%s", tool, err, out)
		}
	}
	t.Run("same-version promtool", func(t *testing.T) { check(t, testenv.SamePromtool(t)) })
	t.Run("Debian promtool 2.42", func(t *testing.T) { check(t, testenv.RequireTool(t, "promtool", "prometheus")) })
}

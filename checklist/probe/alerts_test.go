package probe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// embedded is the real embedded TSDB and PromQL engine, holding the
// service's series as a scrape would have written them just before t0.
func embedded(t *testing.T, series ...labels.Labels) *metrics.Embedded {
	t.Helper()
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Dir: t.TempDir(), Retention: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for _, ls := range series {
		for i := range 5 {
			if err := e.Append(ls, t0.Add(-time.Duration(5-i)*15*time.Second), 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

const alertsRules = `groups:
  - name: services
    rules:
      - alert: MatchmakingDown
        expr: up{job="matchmaking"} == 0
        for: 2m
        labels: {severity: page}
      - alert: SearchMissing
        expr: absent(up{job="search"})
        labels: {severity: page, service: search}
      - alert: CheckoutBudgetBurn
        expr: slo:sli_error:ratio_rate5m{sloth_service="checkout"} > (14.4 * 0.001)
        labels: {severity: page, service: checkout, slo: availability}
      - alert: PaymentsDownWrongJob
        expr: up{job="payments-api"} == 0
        labels: {severity: page, service: payments}
      - alert: LedgerDown
        expr: up{service="ledger"} == 0
        labels: {severity: ticket}
      - alert: MatchmakingSlow
        expr: histogram_quantile(0.99, rate(latency_bucket{job="matchmaking"}[5m])) > 1
        labels: {severity: page, service: matchmaking}
`

const alertsConfig = `
alerts:
  rule_files: [rules.yml]
  routing:
    route:
      receiver: tickets
      group_by: [alertname, service]
      routes:
        - matchers: ['severity="page"']
          receiver: pager
    receivers: [{name: tickets}, {name: pager}]
receivers:
  - {name: pager, incident: {policy: services}}
  - {name: tickets, console: true}
users: [{name: ana}, {name: ben}, {name: cai}]
schedules:
  - {name: primary, users: [ana, ben], start: "2026-11-02T09:00", shift: weekly}
  - name: office
    time_zone: UTC
    rules:
      - {user: ana, days: [mon-fri], from: "09:00", to: "18:00"}
policies:
  - name: services
    steps:
      - {name: primary, targets: [{schedule: primary}], delay: 5m}
  - name: office-hours
    steps:
      - {name: office, targets: [{schedule: office}], delay: 5m}
  - name: office-and-cai
    steps:
      - {name: office or cai, targets: [{schedule: office}, {user: cai}], delay: 5m}
services:
  - {name: matchmaking, tier: 1}
  - {name: search}
  - {name: checkout}
  - {name: payments}
  - {name: ledger}
  - {name: billing}
`

// alertsProbe builds the probe from a real configuration, as the CLI does:
// its rule files, routing tree, receivers and schedules; policy, when set,
// replaces the pager receiver's policy.
func alertsProbe(t *testing.T, policy string, q Querier) Alerts {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(alertsRules), 0o644)
	src := alertsConfig
	if policy != "" {
		src = strings.Replace(src, "incident: {policy: services}", "incident: {policy: "+policy+"}", 1)
	}
	cfg, err := config.Parse(filepath.Join(dir, "oncall.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := alerts.LoadRuleFiles(cfg.Alerts.RuleFiles)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfg.Routing()
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]string{}
	for _, r := range cfg.OwnReceivers() {
		if r.Incident != nil {
			own[r.Name] = r.Incident.Policy
		}
	}
	return Alerts{Rules: set.Rules, Routing: rc, Incidents: own, People: cfg.People(), Query: q}
}

func alertsCheck() checklist.Check {
	c, _ := checklist.Builtin()[0].Check("alerts-a-human")
	return c
}

// The chain from "it is down" to "a person is paged", through the
// engine's own rules, routes and schedules: each link is reported, and
// the one that breaks says so.
func TestAlertsProbe(t *testing.T) {
	series := embedded(t,
		labels.FromStrings("__name__", "up", "job", "matchmaking", "instance", "mm-1:8080", "service", "matchmaking"),
		labels.FromStrings("__name__", "up", "job", "matchmaking", "instance", "mm-2:8080", "service", "matchmaking"),
		labels.FromStrings("__name__", "up", "job", "search", "instance", "search-1:9000"),
		labels.FromStrings("__name__", "up", "job", "payments", "instance", "pay-1:9000", "service", "payments"),
		labels.FromStrings("__name__", "up", "job", "ledger", "instance", "ledger-1:9000", "service", "ledger"),
		labels.FromStrings("__name__", "slo:sli_error:ratio_rate5m", "sloth_service", "checkout", "sloth_slo", "availability", "sloth_window", "5m"),
	)
	for _, tc := range []struct {
		name, service, policy string
		query                 Querier
		status                checklist.Status
		// links are the statuses of rule, series, route, on-call.
		links  [4]checklist.Status
		detail map[string]string
	}{
		{"the chain holds", "matchmaking", "", series, checklist.Pass,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Pass},
			map[string]string{"rule": "MatchmakingDown (", "series": `up{job="matchmaking"} matches 2 series of matchmaking`,
				"route": "routes to receiver pager", "on-call": "step 1 (primary: schedule primary) has someone on call every hour until 2026-12-07 10:00 UTC"}},
		{"an absent() rule", "search", "", series, checklist.Pass,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Pass},
			map[string]string{"rule": "SearchMissing", "series": `up{job="search"} matches 1 series of search`}},
		{"an SLO rule", "checkout", "", series, checklist.Pass,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Pass},
			map[string]string{"rule": "CheckoutBudgetBurn", "series": "matches 1 series of checkout"}},
		{"no rule", "billing", "", series, checklist.Fail,
			[4]checklist.Status{checklist.Fail, checklist.NotReported, checklist.NotReported, checklist.NotReported},
			map[string]string{"rule": "no alerting rule covers billing being down (6 alerting rules looked at)", "route": "not checked: no rule"}},
		{"the selector matches nothing", "payments", "", series, checklist.Fail,
			[4]checklist.Status{checklist.Pass, checklist.Fail, checklist.Pass, checklist.Pass},
			map[string]string{"series": `up{job="payments-api"} matches no series of payments at the source`}},
		{"routed to no incident", "ledger", "", series, checklist.Fail,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Fail, checklist.NotReported},
			map[string]string{"route": `routes to tickets, which opens no incident`, "on-call": "not checked: no receiver opens an incident"}},
		{"a gap in the schedule", "matchmaking", "office-hours", series, checklist.Fail,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Fail},
			map[string]string{"on-call": "step 1 (office: schedule office) of policy office-hours has nobody on call from 2026-11-23 18:00 to 2026-11-24 09:00 UTC and 9 more gaps"}},
		{"a person covers the gaps", "matchmaking", "office-and-cai", series, checklist.Pass,
			[4]checklist.Status{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Pass}, nil},
		{"no metrics source", "matchmaking", "", nil, checklist.Error,
			[4]checklist.Status{checklist.Pass, checklist.Error, checklist.Pass, checklist.Pass},
			map[string]string{"series": "no metrics source"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := alertsProbe(t, tc.policy, tc.query)
			if tc.query == nil {
				p.Query = nil
			}
			res := p.Probe(context.Background(), checklist.Target{Service: catalog.Service{Name: tc.service}, Check: alertsCheck(), Now: t0})
			if res.Status != tc.status {
				t.Errorf("status %s, want %s: %s", res.Status, tc.status, res.Summary)
			}
			if len(res.Links) != 4 {
				t.Fatalf("links: %+v", res.Links)
			}
			for i, name := range []string{"rule", "series", "route", "on-call"} {
				l := res.Links[i]
				if l.Name != name || l.Status != tc.links[i] {
					t.Errorf("link %d: %s %s (%s), want %s %s", i, l.Name, l.Status, l.Detail, name, tc.links[i])
				}
				if want, ok := tc.detail[name]; ok && !strings.Contains(l.Detail, want) {
					t.Errorf("%s: %q, want %q", name, l.Detail, want)
				}
			}
			if tc.status == checklist.Pass && !strings.Contains(res.Summary, "a person on call every hour of the next 14 days") {
				t.Errorf("summary %q", res.Summary)
			}
		})
	}
}

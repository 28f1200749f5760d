package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/internal/golden"
)

// peopleYAML is a team: a weekly rotation, a night and weekend schedule
// in Berlin, a policy that ends at the incident commander, a catalogue.
const peopleYAML = `
users:
  - {name: ana, time_zone: Europe/Berlin}
  - {name: ben, time_zone: Europe/Berlin}
  - {name: cai, time_zone: America/New_York}
  - {name: dee, time_zone: Europe/Berlin}
  - {name: ric, time_zone: Europe/London}
rotations:
  - {name: days, users: [ana, ben], shift: weekly, start: "2026-01-05T09:00", time_zone: Europe/Berlin}
schedules:
  - name: checkout
    time_zone: Europe/Berlin
    rules:
      - {rotation: days, days: [mon-fri], from: "09:00", to: "18:00"}
      - {user: cai, days: [mon-thu], from: "18:00", to: "09:00"}
      - {user: cai, days: [fri], from: "18:00", to: "00:00"}
      - {user: dee, days: [sat-sun]}
      - {user: dee, days: [mon], from: "00:00", to: "09:00"}
    overrides:
      - {replace: ben, with: ana, start: 2026-12-02T09:00:00+01:00, end: 2026-12-02T18:00:00+01:00}
  - {name: lonely, users: [ric], start: "2026-01-05T09:00", max_stretch: 3d}
policies:
  - name: checkout
    ack_timeout: 30m
    steps:
      - {name: primary on-call, targets: [{schedule: checkout}], delay: 5m}
      - {name: team manager, targets: [{user: dee}], delay: 10m}
incident_commander: {targets: [{user: ric}], delay: 15m}
oncall_policy: checkout
services:
  - {name: checkout, team: payments, tier: 1, policy: checkout, runbook: "https://runbooks.example.com/checkout", public_name: Checkout}
`

// who, schedule show, lint and ical answer from the configuration alone:
// no server runs in this test.
func TestWhoAndScheduleFromTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("server: {listen: \"127.0.0.1:1\"}\n"+peopleYAML), 0o600)
	env := []string{"TZ=UTC"}
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		// Wednesday 2 December 2026, 10:00 Berlin: ana covers ben's day.
		{"who_override.txt", []string{"who", "--at", "2026-12-02T10:00:00+01:00"}, 0},
		// Friday night: cai until midnight, then dee for the weekend.
		{"who_friday_night.txt", []string{"who", "--at", "2026-12-04T22:30:00+01:00", "--service", "checkout"}, 0},
		{"schedule_show.txt", []string{"schedule", "show", "checkout", "--from", "2026-11-30T00:00:00+01:00", "--to", "2026-12-08T00:00:00+01:00"}, 0},
		// ric alone on call for ever is a stretch; checkout is covered.
		{"schedule_lint.txt", []string{"schedule", "lint", "--from", "2026-11-30T00:00:00Z", "--to", "2026-12-14T00:00:00Z"}, 1},
	} {
		code, out, stderr := run(t, env, append(tc.args, "--config", cfg)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, stderr)
		}
		golden.File(t, tc.golden, out)
	}
	code, out, stderr := run(t, env, "who", "--at", "2026-12-02T10:00:00+01:00", "-o", "json", "--config", cfg)
	var who struct {
		Steps []struct {
			Users []string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &who) != nil || len(who.Steps) != 3 || who.Steps[0].Users[0] != "ana" || who.Steps[2].Users[0] != "ric" {
		t.Errorf("who -o json: %d %s %s", code, out, stderr)
	}
	ics := filepath.Join(dir, "ben.ics")
	if code, _, stderr := run(t, env, "schedule", "ical", "--user", "ben", "--from", "2026-11-30T00:00:00Z", "--to", "2026-12-14T00:00:00Z", "-f", ics, "--config", cfg); code != 0 {
		t.Fatalf("ical: %s", stderr)
	}
	b, _ := os.ReadFile(ics)
	if !strings.Contains(string(b), "BEGIN:VEVENT") || strings.Count(string(b), "BEGIN:VEVENT") != 4 {
		t.Errorf("ben's calendar: %d events\n%s", strings.Count(string(b), "BEGIN:VEVENT"), b)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule", "show", "nope"}, `unknown schedule "nope" (schedules: checkout, lonely)`},
		{[]string{"who", "--service", "nope"}, `unknown service "nope"`},
		{[]string{"who", "--at", "someday"}, "--at:"},
		{[]string{"schedule", "ical"}, "give a schedule, or --user"},
		{[]string{"schedule", "show", "checkout", "--from", "+2d", "--to", "2020-01-01"}, "is not after --from"},
	} {
		if code, out, stderr := run(t, env, append(tc.args, "--config", cfg)...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want an error with %q\n%s%s", tc.args, code, tc.want, out, stderr)
		}
	}
}

// An incident declared, run and resolved with the CLI against a running
// server, as an incident commander would.
func TestIncidentCommands(t *testing.T) {
	_, dir := startOncall(t, peopleYAML, nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	oc := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, []string{"USER=ana"}, append(args, "--config", cfg)...)
	}
	code, out, stderr := oc("incident", "declare", "Checkout fails for EU players", "--sev", "2", "--service", "checkout")
	if code != 0 || !strings.Contains(out, "INC-1 declared (incident SEV2)") || !strings.Contains(out, "needs an incident commander") || !strings.Contains(out, "paged") {
		t.Fatalf("declare: %d\n%s%s", code, out, stderr)
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"incident", "ack", "INC-1"}, "INC-1 acknowledged: acknowledged by ana"},
		{[]string{"incident", "assign", "1", "--role", "ic", "@ric"}, "ric is incident commander"},
		{[]string{"incident", "update", "1", "Payments", "fail;", "rolling", "back.", "--public", "--title", "Checkout errors"}, "Payments fail; rolling back."},
		{[]string{"incident", "note", "1", "db-7 p99 at 4s"}, "db-7 p99 at 4s"},
		{[]string{"incident", "task", "add", "1", "roll back 4.2", "--owner", "ben"}, "task 1: roll back 4.2 (owner ben)"},
		{[]string{"incident", "task", "done", "1", "1"}, "task 1 done"},
		{[]string{"incident", "severity", "1", "SEV1"}, "severity SEV2 → SEV1"},
		{[]string{"incident", "mitigate", "1", "--why", "rolled back"}, "INC-1 mitigated: mitigated by ana: rolled back"},
		{[]string{"incident", "resolve", "1"}, "INC-1 resolved"},
	} {
		if code, out, stderr := oc(step.args...); code != 0 || !strings.Contains(out, step.want) {
			t.Fatalf("%v: exit %d, want %q\n%s%s", step.args, code, step.want, out, stderr)
		}
	}
	// A forbidden transition or an unknown id is a clear error.
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"incident", "ack", "1"}, "acknowledge INC-1: it is resolved: transition not allowed"},
		{[]string{"incident", "escalate", "1"}, "escalate INC-1: it is resolved"},
		{[]string{"incident", "show", "42"}, "incident 42: no such incident"},
		{[]string{"incident", "ack", "INC-x"}, `incident "INC-x": want a number or INC-<number>`},
		{[]string{"incident", "assign", "1", "@ric", "--role", "boss"}, `unknown role "boss"`},
		{[]string{"incident", "declare", "x", "--sev", "9"}, `--sev: unknown severity "9"`},
	} {
		if code, out, stderr := oc(bad.args...); code == 0 || !strings.Contains(stderr, bad.want) {
			t.Errorf("%v: exit %d, want an error with %q\n%s%s", bad.args, code, bad.want, out, stderr)
		}
	}
	code, out, stderr = oc("incident", "show", "1")
	for _, want := range []string{"INC-1  Checkout fails for EU players", "status", "resolved", "incident commander   ric", "declared by", "public    Payments fail; rolling back. — ana",
		"[x] 1. roll back 4.2 (ben)", "note", "db-7 p99 at 4s", "ana via cli"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s%s", want, out, stderr)
		}
	}
	code, out, _ = oc("incident", "show", "1", "-o", "json")
	var inc incidents.Incident
	if code != 0 || json.Unmarshal([]byte(out), &inc) != nil || inc.Status != incidents.StatusResolved || inc.Role(incidents.RoleCommander) != "ric" || len(inc.Tasks) != 1 {
		t.Errorf("show -o json: %s", out)
	}
	if code, out, _ := oc("incident", "list"); code != 0 || !strings.Contains(out, "no incidents") {
		t.Errorf("list of open incidents: %s", out)
	}
	if code, out, _ := oc("incident", "list", "--all"); code != 0 || !strings.Contains(out, "INC-1") || !strings.Contains(out, "resolved") {
		t.Errorf("list --all: %s", out)
	}
	// A drill, reopened after it was resolved, pages again.
	if code, out, stderr := oc("incident", "declare", "Failover rehearsal", "--drill", "--service", "checkout", "-o", "json"); code != 0 || !strings.Contains(out, `"drill": true`) {
		t.Fatalf("drill: %s%s", out, stderr)
	}
	oc("incident", "resolve", "2")
	if code, out, stderr := oc("incident", "reopen", "2", "--why", "again"); code != 0 || !strings.Contains(out, "INC-2 triggered") {
		t.Errorf("reopen: %s%s", out, stderr)
	}
}

// With Prometheus down when it starts, oncall serves anyway: who is on
// call and incidents work, and readiness says it is blind.
func TestServesTheRosterWhilePrometheusIsDown(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+filepath.Join(dir, "state")+"\nserver: {listen: \""+addr+"\"}\nmetrics: {prometheus: {url: \"http://127.0.0.1:1\"}}\n"+peopleYAML), 0o600)
	startProcess(t, dir, binary(t), "serve", "--config", cfg)
	base := "http://" + addr
	eventually(t, 20*time.Second, "oncall serving", func() bool { return readiness(base).Role == "leader" })
	if r := readiness(base); r.Ready {
		t.Errorf("ready while Prometheus is down: %+v", r)
	}
	var who struct{ Steps []struct{ Users []string } }
	if err := json.Unmarshal([]byte(get(base+"/api/v1/who")), &who); err != nil || len(who.Steps) != 3 {
		t.Fatalf("who: %v %+v", err, who)
	}
	if code, out, stderr := run(t, nil, "incident", "declare", "Prometheus is down", "--sev", "2", "--config", cfg); code != 0 || !strings.Contains(out, "INC-1 declared") {
		t.Errorf("declare: %s%s", out, stderr)
	}
}

// An alert that fired and resolved shows in `oncall alerts history`, once
// each, with the time it began and ended; --alert keeps one alertname's.
func TestAlertHistoryCommand(t *testing.T) {
	base, dir := startOncall(t, "", nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	end := time.Now().Add(-time.Second).UTC().Truncate(time.Second)
	fire := []map[string]any{
		{"labels": map[string]string{"alertname": "CheckoutErrors", "service": "checkout"}, "annotations": map[string]string{"summary": "5xx at 12%"}, "startsAt": start},
		{"labels": map[string]string{"alertname": "DiskFull", "service": "db"}, "startsAt": start},
	}
	if code := post(t, base+"/api/v2/alerts", fire); code != 200 {
		t.Fatalf("post: %d", code)
	}
	// Prometheus resends it once it resolved, with its end.
	resolved := []map[string]any{{"labels": map[string]string{"alertname": "CheckoutErrors", "service": "checkout"}, "startsAt": start, "endsAt": end}}
	if code := post(t, base+"/api/v2/alerts", resolved); code != 200 {
		t.Fatalf("post: %d", code)
	}
	var ts []alerts.Transition
	eventually(t, 20*time.Second, "history written", func() bool {
		code, out, _ := run(t, nil, "alerts", "history", "--alert", "CheckoutErrors", "-o", "json", "--config", cfg)
		return code == 0 && json.Unmarshal([]byte(out), &ts) == nil && len(ts) >= 2
	})
	if len(ts) != 2 || ts[0].State != alerts.StateFiring || !ts[0].At.Equal(start) || ts[1].State != alerts.StateResolved || !ts[1].At.Equal(end) ||
		ts[0].Source != "received" || ts[0].Name() != "CheckoutErrors" {
		t.Fatalf("history of CheckoutErrors: %+v", ts)
	}
	code, out, stderr := run(t, nil, "alerts", "history", "--config", cfg)
	if code != 0 || strings.Count(out, "CheckoutErrors") != 2 || strings.Count(out, "DiskFull") != 1 || !strings.Contains(out, "5xx at 12%") {
		t.Errorf("alerts history: %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := run(t, nil, "alerts", "history", "--since", "someday", "--config", cfg); code == 0 || !strings.Contains(stderr, "--since:") {
		t.Errorf("bad --since: %d %s", code, stderr)
	}
}

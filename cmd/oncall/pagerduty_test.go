package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/notify/pagerduty/pagerdutytest"
)

// pagerDutyStatus lists "dedup-key-suffix status" of the fake's alerts.
func pagerDutyStatus(pd *pagerdutytest.Server) map[string]string {
	out := map[string]string{}
	for _, a := range pd.Alerts() {
		_, k, _ := strings.Cut(a.DedupKey, "/") // after the store's identity
		out[k] = a.Status
	}
	return out
}

// Through a real `oncall serve`: an alert pages ana on PagerDuty (once,
// though PagerDuty first answers 503), the escalation pages ben there,
// ben's acknowledgement in oncall acknowledges both PagerDuty alerts and
// the resolution resolves them; an incident its alerts resolve resolves
// its PagerDuty alert. The keys never reach the log.
func TestPagesThroughPagerDuty(t *testing.T) {
	const anaKey, benKey = "ANAana000000000000000000000000aa", "BENben000000000000000000000000bb"
	pd := pagerdutytest.New(t, anaKey, benKey)
	pd.FailNext(503)
	base, dir := startOncall(t, fmt.Sprintf(`alerts:
  routing:
    route: {receiver: pager, group_by: [alertname], group_wait: 0s, group_interval: 1s}
    receivers: [{name: pager}]
receivers: [{name: pager, incident: {policy: default}}]
users:
  - {name: ana, pagerduty_key: %s}
  - {name: ben, pagerduty_key: %s}
policies:
  - name: default
    steps:
      - {name: primary, targets: [{user: ana}], delay: 3s}
      - {name: secondary, targets: [{user: ben}], delay: 1h}
pagerduty: {events_url: %q}
`, anaKey, benKey, pd.URL), nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	now := time.Now().UTC()
	alert := func(name string, endsAt time.Time) []map[string]any {
		return []map[string]any{{"labels": map[string]string{"alertname": name, "severity": "critical"},
			"annotations": map[string]string{"summary": name + " for every shopper", "runbook_url": "https://runbooks.example.com/checkout"},
			"startsAt":    now, "endsAt": endsAt}}
	}
	if code := post(t, base+"/api/v2/alerts", alert("CheckoutDown", now.Add(time.Hour))); code != 200 {
		t.Fatalf("post: %d", code)
	}
	eventually(t, 20*time.Second, "ana's PagerDuty alert, then ben's", func() bool {
		st := pagerDutyStatus(pd)
		return st["INC-1/p1/ana"] == "triggered" && st["INC-1/p2/ben"] == "triggered"
	})
	if n := pd.Notified(); n != 2 {
		t.Errorf("PagerDuty notified %d times, want 2 (the 503 retried into one alert)", n)
	}
	ev := pd.Events()[0]
	if ev.RoutingKey != anaKey || ev.Payload.Summary != "[INC-1] CheckoutDown for every shopper" || ev.Payload.Severity != "critical" || ev.Payload.Details["runbook_url"] != "https://runbooks.example.com/checkout" {
		t.Errorf("ana's event: %+v %+v", ev, ev.Payload)
	}
	must := func(user string, args ...string) {
		t.Helper()
		if code, out, stderr := run(t, []string{"USER=" + user}, append(args, "--config", cfg)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	must("ben", "incident", "ack", "1")
	eventually(t, 10*time.Second, "both PagerDuty alerts acknowledged", func() bool {
		st := pagerDutyStatus(pd)
		return st["INC-1/p1/ana"] == "acknowledged" && st["INC-1/p2/ben"] == "acknowledged"
	})
	must("ben", "incident", "resolve", "1")
	eventually(t, 10*time.Second, "both PagerDuty alerts resolved", func() bool {
		st := pagerDutyStatus(pd)
		return st["INC-1/p1/ana"] == "resolved" && st["INC-1/p2/ben"] == "resolved"
	})

	post(t, base+"/api/v2/alerts", alert("CartSlow", now.Add(time.Hour)))
	eventually(t, 20*time.Second, "ana paged for INC-2", func() bool { return pagerDutyStatus(pd)["INC-2/p1/ana"] == "triggered" })
	post(t, base+"/api/v2/alerts", alert("CartSlow", time.Now().UTC()))
	eventually(t, 20*time.Second, "INC-2 resolved by its alert, and its PagerDuty alert with it", func() bool {
		return pagerDutyStatus(pd)["INC-2/p1/ana"] == "resolved"
	})
	if inv := pd.Invalid(); len(inv) != 0 {
		t.Errorf("PagerDuty refused events: %q", inv)
	}
	pages, _ := os.ReadFile(filepath.Join(dir, "state", "pages.log"))
	if strings.Count(string(pages), `"kind":"page"`) != 3 {
		t.Errorf("the console has not the three pages:\n%s", pages)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "oncall.log"))
	if strings.Contains(string(log), anaKey) || strings.Contains(string(log), benKey) {
		t.Errorf("a PagerDuty key was logged:\n%s", log)
	}
	if !strings.Contains(string(log), "HTTP 503") {
		t.Errorf("the 503 was not logged as a retry:\n%s", log)
	}
}

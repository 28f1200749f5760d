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
	ben := runAs(t, cfg, "ben")
	ben("incident", "ack", "1")
	eventually(t, 10*time.Second, "both PagerDuty alerts acknowledged", func() bool {
		st := pagerDutyStatus(pd)
		return st["INC-1/p1/ana"] == "acknowledged" && st["INC-1/p2/ben"] == "acknowledged"
	})
	ben("incident", "resolve", "1")
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

// An alertmanager.yml's pagerduty_configs, run by a real Alertmanager and
// by a real `oncall serve` on the same alert, send PagerDuty the same
// events: the same dedup key (the group key's hash), action, summary,
// severity and counts, when the group fires and when it resolves. The
// one difference is pinned: how the firing alerts are detailed.
func TestPagerDutyConfigsAsAlertmanagerSendsThem(t *testing.T) {
	const amKey, oncallKey = "AMam0000000000000000000000000000", "ONoncall000000000000000000000000"
	pd := pagerdutytest.New(t, amKey, oncallKey)
	routing := func(key string) string {
		return fmt.Sprintf(`route: {receiver: team, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: team
    pagerduty_configs: [{routing_key: %s, url: %q}]
`, key, pd.URL+"/v2/enqueue")
	}
	am := startAlertmanager(t, routing(amKey))
	indented := "    " + strings.ReplaceAll(strings.TrimSpace(routing(oncallKey)), "\n", "\n    ")
	base, _ := startOncall(t, "alerts:\n  routing:\n"+indented+"\n", nil)
	now := time.Now().UTC()
	alert := func(endsAt time.Time) []map[string]any {
		return []map[string]any{{"labels": map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
			"annotations": map[string]string{"summary": "checkout fails for every shopper", "runbook_url": "https://runbooks.example.com/checkout"},
			"startsAt":    now, "endsAt": endsAt}}
	}
	for _, url := range []string{am, base} {
		if code := post(t, url+"/api/v2/alerts", alert(now.Add(time.Hour))); code != 200 {
			t.Fatalf("post to %s: %d", url, code)
		}
	}
	byKey := func(key, action string) *pagerdutytest.Event {
		for _, ev := range pd.Events() {
			if ev.RoutingKey == key && ev.Action == action {
				return &ev
			}
		}
		return nil
	}
	eventually(t, 30*time.Second, "both triggers", func() bool { return byKey(amKey, "trigger") != nil && byKey(oncallKey, "trigger") != nil })
	same := func(action string) {
		t.Helper()
		a, o := byKey(amKey, action), byKey(oncallKey, action)
		if a.DedupKey != o.DedupKey {
			t.Errorf("%s: dedup key %q from Alertmanager, %q from oncall", action, a.DedupKey, o.DedupKey)
		}
		if action != "trigger" {
			return
		}
		if a.Payload.Summary != o.Payload.Summary || a.Payload.Severity != o.Payload.Severity || a.Payload.Source != o.Payload.Source || a.Client != o.Client {
			t.Errorf("%s: Alertmanager sent %+v (client %q), oncall %+v (client %q)", action, *a.Payload, a.Client, *o.Payload, o.Client)
		}
		for _, k := range []string{"num_firing", "num_resolved"} {
			if fmt.Sprint(a.Payload.Details[k]) != fmt.Sprint(o.Payload.Details[k]) {
				t.Errorf("%s: details[%s] %q from Alertmanager, %q from oncall", action, k, a.Payload.Details[k], o.Payload.Details[k])
			}
		}
		// Where Alertmanager 0.25 (Debian's) and the 0.34 oncall embeds
		// differ: 0.25 lists the firing alerts as text, 0.34 as objects.
		if f, ok := a.Payload.Details["firing"].(string); !ok || !strings.Contains(f, "Labels:\n - alertname = CheckoutDown") {
			t.Errorf("Alertmanager 0.25's firing details are no longer text: %#v", a.Payload.Details["firing"])
		}
		if f, ok := o.Payload.Details["firing"].([]any); !ok || len(f) != 1 || !strings.Contains(fmt.Sprint(f[0]), "alertname:CheckoutDown") {
			t.Errorf("oncall's firing details are not Alertmanager 0.34's objects: %#v", o.Payload.Details["firing"])
		}
	}
	same("trigger")
	for _, url := range []string{am, base} {
		post(t, url+"/api/v2/alerts", alert(time.Now().UTC()))
	}
	eventually(t, 30*time.Second, "both resolutions", func() bool { return byKey(amKey, "resolve") != nil && byKey(oncallKey, "resolve") != nil })
	same("resolve")
	if inv := pd.Invalid(); len(inv) != 0 {
		t.Errorf("refused: %q", inv)
	}
}

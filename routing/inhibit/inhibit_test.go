package inhibit

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func rules(t *testing.T, yml string) []Rule {
	t.Helper()
	c, err := routing.Parse("am.yml", []byte("route: {receiver: x}\nreceivers: [{name: x}]\n"+yml))
	if err != nil {
		t.Fatal(err)
	}
	return NewRules(c.AM.InhibitRules)
}

func TestInhibition(t *testing.T) {
	ih := New(rules(t, `
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity=~"warning|critical"]
    equal: [service, region]
  - source_match: {alertname: ClusterDown}
    target_match_re: {alertname: '.+'}
`))
	put := func(endsAt time.Time, kv ...string) (uint64, labels.Labels) {
		ls := labels.FromStrings(kv...)
		a := &alerts.Alert{Labels: ls, EndsAt: endsAt}
		fp := a.Fingerprint()
		ih.Set(fp, a)
		return fp, ls
	}
	critAPI, _ := put(time.Time{}, "alertname", "Down", "severity", "critical", "service", "api")
	warnAPI := labels.FromStrings("alertname", "Slow", "severity", "warning", "service", "api")
	warnAPIeu := labels.FromStrings("alertname", "Slow", "severity", "warning", "service", "api", "region", "eu")
	warnDB := labels.FromStrings("alertname", "Slow", "severity", "warning", "service", "db")

	if fp, ok := ih.Mutes(warnAPI, t0); !ok || fp != critAPI {
		t.Errorf("warning on api should be inhibited by the critical one: %x %v", fp, ok)
	}
	if _, ok := ih.Mutes(warnAPIeu, t0); ok {
		t.Error("a region the source lacks is not equal")
	}
	if _, ok := ih.Mutes(warnDB, t0); ok {
		t.Error("another service is not inhibited")
	}
	// An alert matching both sides is not inhibited by another that does too.
	critAPI2 := labels.FromStrings("alertname", "Errors", "severity", "critical", "service", "api")
	if _, ok := ih.Mutes(critAPI2, t0); ok {
		t.Error("two-sided alerts must not inhibit each other")
	}

	// Once the source resolves, nothing is inhibited.
	until := t0.Add(time.Minute)
	put(until, "alertname", "Down", "severity", "critical", "service", "api")
	if _, ok := ih.Mutes(warnAPI, until); ok {
		t.Error("a resolved source still inhibits")
	}
	if _, ok := ih.Mutes(warnAPI, until.Add(-time.Second)); !ok {
		t.Error("the source is active until its end")
	}

	// The second rule: ClusterDown inhibits everything, including warnDB.
	cd, _ := put(time.Time{}, "alertname", "ClusterDown")
	if fp, ok := ih.Mutes(warnDB, t0); !ok || fp != cd {
		t.Errorf("ClusterDown should inhibit everything: %v", ok)
	}
	if _, ok := ih.Mutes(labels.FromStrings("alertname", "ClusterDown"), t0); ok {
		t.Error("ClusterDown matches both sides and must not inhibit itself")
	}
	ih.Delete(cd, labels.FromStrings("alertname", "ClusterDown"))
	if _, ok := ih.Mutes(warnDB, t0); ok {
		t.Error("deleted source still inhibits")
	}
}

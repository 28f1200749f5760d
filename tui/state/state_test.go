package state

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/telemetry/logs"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func alert(name, svc, sev string, st alerts.State, age time.Duration, muted bool) alerts.Alert {
	a := alerts.Alert{Labels: labels.FromStrings("alertname", name, "service", svc, "severity", sev), StartsAt: t0.Add(-age)}
	a.Status.State = st
	if muted {
		a.Status.SilencedBy = []string{"s"}
	}
	return a
}

// Apply takes only the parts an update carries and says which changed.
func TestApply(t *testing.T) {
	var s State
	as := []alerts.Alert{
		alert("Old", "a", "page", alerts.StateFiring, time.Hour, false),
		alert("Pending", "a", "page", alerts.StatePending, time.Minute, false),
		alert("New", "b", "page", alerts.StateFiring, time.Second, false),
		alert("Muted", "b", "warning", alerts.StateFiring, time.Minute, true),
	}
	oldFP := as[0].Fingerprint()
	if k := s.Apply(Update{Alerts: &as, At: t0}); k != KindAlerts || !s.Known() {
		t.Fatalf("kinds %b", k)
	}
	// Firing first, newest first; then pending.
	var names []string
	for _, a := range s.Alerts {
		names = append(names, a.Name())
	}
	if got := names; got[0] != "New" || got[1] != "Muted" || got[2] != "Old" || got[3] != "Pending" {
		t.Errorf("order %v", got)
	}
	if f, m, p := s.Counts(); f != 2 || m != 1 || p != 1 {
		t.Errorf("counts %d %d %d", f, m, p)
	}
	if a, ok := s.Alert(oldFP); !ok || a.Name() != "Old" {
		t.Errorf("by fingerprint: %v %v", a, ok)
	}
	incs := []incidents.Incident{{ID: 3, Service: "a"}}
	if k := s.Apply(Update{Incidents: &incs, Logs: []logs.Entry{{Seq: 1}}}); k != KindIncidents|KindLogs || len(s.Alerts) != 4 {
		t.Errorf("incidents and logs: kinds %b, alerts kept %d", k, len(s.Alerts))
	}
	if _, ok := s.Incident(3); !ok {
		t.Error("incident 3")
	}
	if k := s.Apply(Update{At: t0.Add(time.Second)}); k != 0 {
		t.Errorf("only the time moved: kinds %b", k)
	}
}

// The connection: known, stale, and since when it broke (the first time).
func TestConnection(t *testing.T) {
	var s State
	if s.Known() || s.Stale() {
		t.Fatal("a new state knows nothing")
	}
	s.Disconnect(t0, errors.New("refused"))
	if s.Stale() || s.Known() || !s.Since.Equal(t0) {
		t.Errorf("never connected: stale %v known %v since %v", s.Stale(), s.Known(), s.Since)
	}
	s.Connect(t0.Add(time.Minute))
	s.Apply(Update{At: t0.Add(time.Minute)})
	if s.Connect(t0.Add(2*time.Minute)) != 0 || !s.Since.Equal(t0.Add(time.Minute)) {
		t.Error("connecting twice changes nothing")
	}
	s.Disconnect(t0.Add(3*time.Minute), errors.New("reset"))
	s.Disconnect(t0.Add(4*time.Minute), errors.New("refused again"))
	if !s.Stale() || !s.Since.Equal(t0.Add(3*time.Minute)) || s.Err.Error() != "refused again" {
		t.Errorf("stale %v since %v err %v: the outage started at the first failure", s.Stale(), s.Since, s.Err)
	}
}

// Services: those in trouble first; a rule names its service by label.
func TestServices(t *testing.T) {
	var s State
	as := []alerts.Alert{
		alert("A", "quiet", "info", alerts.StatePending, time.Minute, false),
		alert("B", "noisy", "warning", alerts.StateFiring, time.Minute, false),
		alert("C", "paging", "page", alerts.StateFiring, time.Minute, false),
		alert("D", "muted", "page", alerts.StateFiring, time.Minute, true),
	}
	incs := []incidents.Incident{{ID: 1, Service: "broken"}}
	rules := []alerts.Rule{{Name: "R", Labels: map[string]string{"service": "ruled"}}, {Name: "NoLabel"}}
	s.Apply(Update{Alerts: &as, Incidents: &incs, Rules: &rules, At: t0})
	var names []string
	for _, sv := range s.Services() {
		names = append(names, sv.Name)
	}
	want := []string{"broken", "paging", "noisy", "muted", "quiet", "ruled"}
	if len(names) != len(want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("services %v, want %v", names, want)
		}
	}
	if r, ok := s.RuleOf(&alerts.Alert{Labels: labels.FromStrings("alertname", "R", "service", "ruled")}); !ok || r.Name != "R" {
		t.Errorf("rule of: %v %v", r, ok)
	}
	if _, ok := s.RuleOf(&alerts.Alert{Labels: labels.FromStrings("alertname", "R", "service", "other")}); ok {
		t.Error("a rule whose labels the alert lacks is not its rule")
	}
}

func TestSeverityRank(t *testing.T) {
	if !(SeverityRank("critical") > SeverityRank("warning") && SeverityRank("PAGE") == 4 && SeverityRank("ticket") > SeverityRank("info") && SeverityRank("custom") == 0) {
		t.Error("ranks")
	}
}

package incidentspane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var now = tuitest.Now

func fixture() *state.Env {
	env := tuitest.Env()
	opened := now.Add(-2 * time.Minute)
	incs := []incidents.Incident{
		{ID: 7, Title: "Matches per active user down more than 50% on matchmaking", Service: "matchmaking", Severity: incidents.SEV2, AlertSeverity: "page",
			RunbookURL: "https://runbooks.example.com/matches", Status: incidents.StatusTriggered, OpenedAt: opened, AlertsFiring: 2,
			Escalation:      incidents.Escalation{Policy: "matchmaking", Step: 1, StepName: "secondary", Paged: []string{"bob"}, StepStartedAt: now.Add(-30 * time.Second), NextAt: now.Add(83 * time.Second)},
			CommanderNeeded: true, Assigned: map[incidents.Role]string{incidents.RoleScribe: "dana"},
			Updates: []incidents.Update{{At: now.Add(-time.Minute), Text: "Matching is slow for some players; we are on it.", Public: true, Actor: "dana"}},
			Tasks:   []incidents.Task{{ID: 1, Text: "check profile-db replication lag", Owner: "bob"}, {ID: 2, Text: "roll back matcher 4.2", Done: true}},
			Timeline: []incidents.Event{{At: opened, Kind: "opened", Text: "opened for pager/{service=\"matchmaking\"}", Source: "alerts"},
				{At: opened, Kind: "escalation", Text: "step 1/4 primary on-call: paged alice", Source: "escalation"},
				{At: now.Add(-time.Minute), Kind: "role", Text: "dana is scribe", Actor: "dana", Source: "cli"},
				{At: now.Add(-30 * time.Second), Kind: "escalation", Text: "step 2/4 secondary: paged bob", Source: "escalation"}}},
		{ID: 8, Title: "Error ratio above 5% on checkout", Service: "checkout", Severity: incidents.SEV2, AlertSeverity: "page", Status: incidents.StatusAcknowledged,
			OpenedAt: now.Add(-40 * time.Minute), AckedBy: "carol", AckedAt: now.Add(-35 * time.Minute),
			Escalation: incidents.Escalation{Policy: "checkout", StepName: "primary on-call", Paged: []string{"carol"}}},
		{ID: 9, Title: "Players report lost matches", Service: "matchmaking", Severity: incidents.SEV3, Status: incidents.StatusMitigated, DeclaredBy: "erin",
			OpenedAt: now.Add(-3 * time.Hour), MitigatedBy: "erin", MitigatedAt: now.Add(-time.Hour)},
	}
	pages := []incidents.Page{
		{IncidentID: 7, Kind: "escalate", Target: "bob", StepName: "secondary", CreatedAt: now.Add(-30 * time.Second), Attempts: 3, LastError: "connection refused"},
		{IncidentID: 7, Kind: "trigger", Target: "alice", StepName: "primary on-call", CreatedAt: opened, SentAt: opened.Add(time.Second)},
	}
	env.State.Apply(state.Update{Incidents: &incs, Pages: &pages, At: now})
	return env
}

func press(p *Pane, names ...string) []tea.Msg {
	var out []tea.Msg
	for _, n := range names {
		out = append(out, tuitest.Msgs(p.Update(tuitest.Key(n)))...)
	}
	return out
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		p := New(fixture())
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("list_%dx%d", size.w, size.h), v)
		press(p, "enter")
		v = p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("detail_%dx%d", size.w, size.h), v)
	}
}

// The list shows where each incident stands: the countdown to the next
// step, or who acknowledged it.
func TestEscalationShown(t *testing.T) {
	p := New(fixture())
	v := ansi.Strip(p.View(200, 10))
	for _, want := range []string{"INC-7", "TRIGGERED", "step 2 secondary: bob · escalates in 1m23s", "INC-8", "acknowledged", "acked by carol 35m00s ago", "3 open · 1 unacknowledged · 1 need an incident commander",
		"no IC! step 2", "INC-9", "mitigated", "declared by erin, nobody paged"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
}

// a asks to acknowledge the selected incident; r asks first; an
// acknowledged one says so; read-only refuses.
func TestActions(t *testing.T) {
	p := New(fixture())
	if out := press(p, "a"); len(out) != 1 || out[0] != (msg.Ack{Incident: 7}) {
		t.Fatalf("a: %v", out)
	}
	press(p, "j")
	if out := press(p, "a"); len(out) != 1 || !strings.Contains(out[0].(msg.Status).Text, "already acknowledged by carol") {
		t.Fatalf("a on an acknowledged one: %v", out)
	}
	if out := press(p, "r"); len(out) != 0 || !p.Capturing() || !strings.Contains(ansi.Strip(p.View(120, 10)), `resolve INC-8 "Error ratio above 5% on checkout"? y/n`) {
		t.Fatalf("r should ask: %v\n%s", out, ansi.Strip(p.View(120, 10)))
	}
	if out := press(p, "y"); len(out) != 1 || out[0] != (msg.Resolve{Incident: 8}) {
		t.Fatalf("y: %v", out)
	}
	if out := press(p, "r", "n"); len(out) != 1 || out[0].(msg.Status).Text != "resolve cancelled" {
		t.Fatalf("n: %v", out)
	}
	env := fixture()
	env.ReadOnly = true
	if out := press(New(env), "a"); len(out) != 1 || !out[0].(msg.Status).Err {
		t.Errorf("read-only: %v", out)
	}
}

// The detail shows the timeline, the pages with their delivery and the
// countdown; :incident 8 opens one directly.
func TestDetail(t *testing.T) {
	env := fixture()
	env.State.Incidents[0].Channel = "C0MATCH"
	p := New(env)
	press(p, "enter")
	v := ansi.Strip(p.View(160, 40))
	for _, want := range []string{"Matches per active user down more than 50% on matchmaking", "step 2/4 secondary: paged bob", "queued (3 tries) connection refused",
		"trigger   → alice (primary on-call) delivered", "unless acknowledged", "https://runbooks.example.com/matches", "chat          C0MATCH (kept for the timeline"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
	if out := press(p, "a"); len(out) != 1 || out[0] != (msg.Ack{Incident: 7}) {
		t.Errorf("a in the detail: %v", out)
	}
	p.Back()
	p.Update(msg.Open{Pane: "incidents", Arg: "8"})
	if c := p.Crumbs(); len(c) != 1 || c[0] != "INC-8" {
		t.Errorf("crumbs %v", c)
	}
	if out := tuitest.Msgs(p.Update(msg.Open{Pane: "incidents", Arg: "INC-42"})); len(out) != 1 || out[0].(msg.Status).Text != "no open incident INC-42" {
		t.Errorf(":incident 42: %v", out)
	}
}

func TestFilter(t *testing.T) {
	p := New(fixture())
	p.Update(msg.Open{Pane: "incidents", Arg: "status=acknowledged"})
	v := ansi.Strip(p.View(160, 10))
	if strings.Contains(v, "INC-7") || !strings.Contains(v, "INC-8") {
		t.Errorf("filtered:\n%s", v)
	}
}

func TestEmptyAndUnknown(t *testing.T) {
	env := tuitest.Env()
	if v := ansi.Strip(New(env).View(80, 5)); !strings.Contains(v, "No open incidents.") {
		t.Errorf("empty:\n%s", v)
	}
	env.State.At = time.Time{}
	if v := ansi.Strip(New(env).View(80, 5)); !strings.Contains(v, "Unknown: the server has not answered.") || strings.Contains(v, "No open") {
		t.Errorf("never answered:\n%s", v)
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	env := tuitest.Env()
	inc := incidents.Incident{ID: 1, Title: tuitest.Poison, Summary: tuitest.Poison, Service: tuitest.Poison, AlertSeverity: tuitest.Poison, DeclaredBy: tuitest.Poison, Assigned: map[incidents.Role]string{incidents.RoleCommander: tuitest.Poison}, RunbookURL: tuitest.Poison,
		Status: incidents.StatusAcknowledged, AckedBy: tuitest.Poison, OpenedAt: now,
		Escalation: incidents.Escalation{Policy: tuitest.Poison, StepName: tuitest.Poison, Paged: []string{tuitest.Poison}},
		Timeline:   []incidents.Event{{At: now, Kind: tuitest.Poison, Text: tuitest.Poison, Actor: tuitest.Poison, Source: tuitest.Poison}}, Updates: []incidents.Update{{At: now, Text: tuitest.Poison, Actor: tuitest.Poison}}, Tasks: []incidents.Task{{ID: 1, Text: tuitest.Poison, Owner: tuitest.Poison}}}
	incs := []incidents.Incident{inc}
	pages := []incidents.Page{{IncidentID: 1, Kind: tuitest.Poison, Target: tuitest.Poison, StepName: tuitest.Poison, LastError: tuitest.Poison}}
	env.State.Apply(state.Update{Incidents: &incs, Pages: &pages, At: now})
	p := New(env)
	screens := []string{p.View(200, 20)}
	press(p, "a", "enter")
	screens = append(screens, p.View(200, 40))
	for _, v := range screens {
		if !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
			t.Errorf("raw sequences on screen:\n%q", v)
		}
	}
}

package oncallpane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/state"
)

var now = tuitest.Now

func fixture() *state.Env {
	env := tuitest.Env()
	handoff := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	oc := []schedule.Assignment{
		{Policy: "matchmaking", Step: 0, StepName: "primary on-call", Users: []string{"alice"}, Until: handoff, Next: []string{"bob"}, Delay: 45 * time.Second},
		{Policy: "matchmaking", Step: 1, StepName: "secondary", Users: []string{"bob"}, Until: handoff, Next: []string{"carol"}, Delay: 45 * time.Second},
		{Policy: "matchmaking", Step: 2, StepName: "team manager", Users: []string{"mo"}, Delay: 5 * time.Minute},
		{Policy: "matchmaking", Step: 3, StepName: "incident commander", Delay: 15 * time.Minute},
	}
	pages := []incidents.Page{
		{IncidentID: 7, Kind: "escalate", Target: "bob", StepName: "secondary", CreatedAt: now.Add(-30 * time.Second), Attempts: 2, LastError: "timeout"},
		{IncidentID: 7, Kind: "trigger", Target: "alice", StepName: "primary on-call", CreatedAt: now.Add(-2 * time.Minute), SentAt: now.Add(-2 * time.Minute)},
	}
	env.State.Apply(state.Update{OnCall: &oc, Pages: &pages, At: now})
	return env
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		v := New(fixture()).View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("oncall_%dx%d", size.w, size.h), v)
	}
}

// Now and next per step; a step that resolves to nobody says so; the
// pages with their delivery.
func TestNowAndNext(t *testing.T) {
	v := ansi.Strip(New(fixture()).View(160, 20))
	for _, want := range []string{"policy matchmaking", "primary on-call", "alice", "Mon 09:00 (6d)", "bob", "carol", "nobody", "45s", "15m00s",
		"INC-7 escalate → bob secondary queued (2 tries) timeout", "INC-7 trigger  → alice primary on-call delivered"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
}

func TestEmptyAndUnknown(t *testing.T) {
	env := tuitest.Env()
	if v := ansi.Strip(New(env).View(100, 5)); !strings.Contains(v, "No escalation policy configured") {
		t.Errorf("empty:\n%s", v)
	}
	env.State.At = time.Time{}
	if v := ansi.Strip(New(env).View(100, 5)); !strings.Contains(v, "Unknown") || strings.Contains(v, "No escalation") {
		t.Errorf("never answered:\n%s", v)
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	env := tuitest.Env()
	oc := []schedule.Assignment{{Policy: tuitest.Poison, StepName: tuitest.Poison, Users: []string{tuitest.Poison}, Until: now.Add(time.Hour), Next: []string{tuitest.Poison}}}
	pages := []incidents.Page{{Kind: tuitest.Poison, Target: tuitest.Poison, StepName: tuitest.Poison, LastError: tuitest.Poison}}
	env.State.Apply(state.Update{OnCall: &oc, Pages: &pages, At: now})
	if v := New(env).View(200, 10); !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("raw sequences:\n%q", v)
	}
}

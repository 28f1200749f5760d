package incidents

import (
	"errors"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents/oncall"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday

func directory(repeat int) Directory {
	sched := oncall.Schedule{Name: "platform", Users: []string{"alice", "bob", "carol"}, Start: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	return Directory{
		Schedules: map[string]oncall.Schedule{"platform": sched},
		Policies: map[string]oncall.Policy{"default": {Name: "default", Repeat: repeat, Steps: []oncall.Step{
			{Name: "primary on-call", Targets: []oncall.Target{{Schedule: "platform"}}, AckTimeout: 2 * time.Minute},
			{Name: "secondary", Targets: []oncall.Target{{Schedule: "platform", Offset: 1}}, AckTimeout: 2 * time.Minute},
			{Name: "team manager", Targets: []oncall.Target{{User: "dana"}}, AckTimeout: 3 * time.Minute},
			{Name: "incident commander", Targets: []oncall.Target{{User: "riley"}}, AckTimeout: 5 * time.Minute},
		}}},
	}
}

func TestEscalationPath(t *testing.T) {
	d := directory(0)
	inc := &Incident{ID: 7, Title: "Matches per active user collapsed"}
	pages, err := inc.Start(d, "default", t0)
	if err != nil {
		t.Fatal(err)
	}
	// Week of Nov 23 is the fourth week since Nov 2: index 3 % 3 = 0 → alice.
	steps := []struct {
		at     time.Duration
		target string
		step   string
	}{
		{2 * time.Minute, "bob", "secondary"},
		{4 * time.Minute, "dana", "team manager"},
		{7 * time.Minute, "riley", "incident commander"},
		{12 * time.Minute, "riley", "incident commander"}, // stays on the last rung
	}
	if len(pages) != 1 || pages[0].Target != "alice" || pages[0].Key != "INC-7/p1/alice" {
		t.Fatalf("first page: %+v", pages)
	}
	if got := inc.Escalate(d, t0.Add(time.Minute)); got != nil {
		t.Fatalf("escalated before the ack timeout: %+v", got)
	}
	keys := map[string]bool{pages[0].Key: true}
	for _, st := range steps {
		got := inc.Escalate(d, t0.Add(st.at))
		if len(got) != 1 || got[0].Target != st.target || got[0].StepName != st.step {
			t.Fatalf("t+%v: got %+v, want %s (%s)", st.at, got, st.target, st.step)
		}
		// Every page has its own key, also when the last rung is paged again.
		if keys[got[0].Key] {
			t.Fatalf("t+%v: page key %s reused", st.at, got[0].Key)
		}
		keys[got[0].Key] = true
	}
	if err := inc.Acknowledge("riley", t0.Add(13*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := inc.Escalate(d, t0.Add(time.Hour)); got != nil {
		t.Fatalf("escalated after ack: %+v", got)
	}
	if err := inc.Acknowledge("bob", t0.Add(14*time.Minute)); !errors.Is(err, ErrAcked) {
		t.Fatalf("second ack: %v", err)
	}
	if err := inc.Resolve("riley", "fixed", t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := inc.Acknowledge("bob", t0.Add(21*time.Minute)); !errors.Is(err, ErrResolved) {
		t.Fatalf("ack after resolve: %v", err)
	}
}

func TestEscalationRepeatsPolicy(t *testing.T) {
	d := directory(1)
	inc := &Incident{ID: 1, Title: "x"}
	inc.Start(d, "default", t0)
	at := t0
	var targets []string
	for range 8 {
		at = at.Add(10 * time.Minute)
		for _, p := range inc.Escalate(d, at) {
			targets = append(targets, p.Target)
		}
	}
	want := []string{"bob", "dana", "riley", "alice", "bob", "dana", "riley"}
	if len(targets) != len(want) {
		t.Fatalf("targets %v, want %v", targets, want)
	}
	for i := range want {
		if targets[i] != want[i] {
			t.Fatalf("targets %v, want %v", targets, want)
		}
	}
	if !inc.Escalation.NextAt.IsZero() || inc.Escalation.Round != 1 {
		t.Fatalf("escalation should be exhausted: %+v", inc.Escalation)
	}
}

func TestStartUnknownPolicy(t *testing.T) {
	inc := &Incident{ID: 1}
	if _, err := inc.Start(directory(0), "nope", t0); err == nil {
		t.Fatal("want error")
	}
}

package incidents

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents/schedule"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday

var cli = Actor{Name: "alice", Source: "cli"}

func settings(repeat int, ackTimeout time.Duration) Settings {
	us := map[string]schedule.User{}
	for _, n := range []string{"alice", "bob", "carol", "dana", "riley"} {
		us[n] = schedule.User{Name: n}
	}
	sched := schedule.Schedule{Name: "platform", Users: []string{"alice", "bob", "carol"}, Start: schedule.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
	return Settings{People: schedule.Directory{
		Users:     us,
		Schedules: map[string]schedule.Schedule{"platform": sched},
		Policies: map[string]schedule.Policy{"default": {Name: "default", Repeat: repeat, AckTimeout: ackTimeout, Steps: []schedule.Step{
			{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "platform"}}, Delay: 2 * time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{Schedule: "platform", Offset: 1}}, Delay: 2 * time.Minute},
			{Name: "team manager", Targets: []schedule.Target{{User: "dana"}}, Delay: 3 * time.Minute},
		}}},
		Commander: &schedule.Step{Targets: []schedule.Target{{User: "riley"}}, Delay: 5 * time.Minute},
	}}
}

func targets(pages []Page) []string {
	var out []string
	for _, p := range pages {
		out = append(out, p.Target)
	}
	return out
}

func TestEscalationPath(t *testing.T) {
	s := settings(0, 0)
	inc := &Incident{ID: 7, Title: "Matches per active user collapsed", Status: StatusTriggered}
	pages, err := inc.Start(s, "default", t0)
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
	if got := inc.Escalate(s, t0.Add(time.Minute)); got != nil {
		t.Fatalf("escalated before the delay: %+v", got)
	}
	keys := map[string]bool{pages[0].Key: true}
	for _, st := range steps {
		got := inc.Escalate(s, t0.Add(st.at))
		if len(got) != 1 || got[0].Target != st.target || got[0].StepName != st.step {
			t.Fatalf("t+%v: got %+v, want %s (%s)", st.at, got, st.target, st.step)
		}
		// Every page has its own key, also when the last rung is paged again.
		if keys[got[0].Key] {
			t.Fatalf("t+%v: page key %s reused", st.at, got[0].Key)
		}
		keys[got[0].Key] = true
	}
	if err := inc.Acknowledge(s, Actor{Name: "riley"}, t0.Add(13*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := inc.Escalate(s, t0.Add(time.Hour)); got != nil {
		t.Fatalf("escalated after ack: %+v", got)
	}
	if err := inc.Acknowledge(s, Actor{Name: "bob"}, t0.Add(14*time.Minute)); !errors.Is(err, ErrAcked) || !errors.Is(err, ErrTransition) {
		t.Fatalf("second ack: %v", err)
	}
	if err := inc.Resolve(Actor{Name: "riley"}, "fixed", t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := inc.Acknowledge(s, Actor{Name: "bob"}, t0.Add(21*time.Minute)); !errors.Is(err, ErrResolved) {
		t.Fatalf("ack after resolve: %v", err)
	}
}

func TestEscalationRepeatsPolicy(t *testing.T) {
	s := settings(1, 0)
	inc := &Incident{ID: 1, Title: "x"}
	inc.Start(s, "default", t0)
	at := t0
	var got []string
	for range 10 {
		at = at.Add(10 * time.Minute)
		got = append(got, targets(inc.Escalate(s, at))...)
	}
	want := []string{"bob", "dana", "riley", "alice", "bob", "dana", "riley"}
	if !slices.Equal(got, want) {
		t.Fatalf("targets %v, want %v", got, want)
	}
	if !inc.Escalation.NextAt.IsZero() || inc.Escalation.Round != 1 {
		t.Fatalf("escalation should be exhausted: %+v", inc.Escalation)
	}
}

// The policy is frozen when the incident opens: editing it afterwards
// does not change a running escalation.
func TestFrozenPolicy(t *testing.T) {
	s := settings(0, 0)
	inc := &Incident{ID: 1, Title: "x"}
	inc.Start(s, "default", t0)
	p := s.People.Policies["default"]
	p.Steps[1].Targets = []schedule.Target{{User: "carol"}}
	p.Steps = p.Steps[:2]
	s.People.Policies["default"] = p
	if got := targets(inc.Escalate(s, t0.Add(2*time.Minute))); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("second step paged %v, want the frozen bob", got)
	}
	if got := targets(inc.Escalate(s, t0.Add(4*time.Minute))); !slices.Equal(got, []string{"dana"}) {
		t.Errorf("third step paged %v, want the frozen dana", got)
	}
	if inc.Escalation.Steps != 4 {
		t.Errorf("frozen steps %d, want 4", inc.Escalation.Steps)
	}
}

// An acknowledgement holds for the policy's ack_timeout: an incident
// still open after it triggers again from the first step.
func TestAckTimeoutPagesAgain(t *testing.T) {
	s := settings(0, 30*time.Minute)
	inc := &Incident{ID: 3, Title: "x"}
	inc.Start(s, "default", t0)
	inc.Escalate(s, t0.Add(2*time.Minute)) // bob
	if err := inc.Acknowledge(s, Actor{Name: "bob"}, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !inc.Escalation.NextAt.Equal(t0.Add(33 * time.Minute)) {
		t.Fatalf("ack expires at %v", inc.Escalation.NextAt)
	}
	if got := inc.Escalate(s, t0.Add(32*time.Minute)); got != nil {
		t.Fatalf("paged before the ack timeout: %+v", got)
	}
	got := inc.Escalate(s, t0.Add(33*time.Minute))
	if !slices.Equal(targets(got), []string{"alice"}) || inc.Status != StatusTriggered || inc.Escalation.Step != 0 {
		t.Fatalf("after the ack timeout: %v, %s step %d", targets(got), inc.Status, inc.Escalation.Step)
	}
	// Mitigated incidents are not paged again.
	inc.Acknowledge(s, Actor{Name: "alice"}, t0.Add(34*time.Minute))
	inc.Mitigate(Actor{Name: "alice"}, "rolled back", t0.Add(35*time.Minute))
	if got := inc.Escalate(s, t0.Add(5*time.Hour)); got != nil || !inc.Escalation.NextAt.IsZero() {
		t.Fatalf("a mitigated incident paged: %+v", got)
	}
}

// Every transition the lifecycle allows, and a clear error for every
// other: never a silent no-op.
func TestTransitions(t *testing.T) {
	s := settings(0, 0)
	at := func(st Status) *Incident {
		inc := &Incident{ID: 9, Title: "x", Status: StatusTriggered}
		inc.Start(s, "default", t0)
		switch st {
		case StatusAcknowledged:
			inc.Acknowledge(s, cli, t0)
		case StatusMitigated:
			inc.Mitigate(cli, "", t0)
		case StatusResolved:
			inc.Resolve(cli, "", t0)
		}
		if inc.Status != st {
			t.Fatalf("setup: %s, want %s", inc.Status, st)
		}
		return inc
	}
	type action func(inc *Incident) error
	actions := map[string]action{
		"ack":      func(i *Incident) error { return i.Acknowledge(s, cli, t0) },
		"mitigate": func(i *Incident) error { return i.Mitigate(cli, "", t0) },
		"resolve":  func(i *Incident) error { return i.Resolve(cli, "", t0) },
		"reopen":   func(i *Incident) error { _, err := i.Reopen(s, cli, "", t0); return err },
		"escalate": func(i *Incident) error { _, err := i.EscalateNow(s, cli, t0); return err },
		"assign":   func(i *Incident) error { return i.Assign(RoleCommander, "riley", cli, t0) },
	}
	// want: the status after the action, or "" when the action is refused.
	tests := []struct {
		from Status
		want map[string]string
	}{
		{StatusTriggered, map[string]string{"ack": "acknowledged", "mitigate": "mitigated", "resolve": "resolved", "reopen": "", "escalate": "triggered", "assign": "triggered"}},
		{StatusAcknowledged, map[string]string{"ack": "", "mitigate": "mitigated", "resolve": "resolved", "reopen": "", "escalate": "triggered", "assign": "acknowledged"}},
		{StatusMitigated, map[string]string{"ack": "", "mitigate": "", "resolve": "resolved", "reopen": "triggered", "escalate": "", "assign": "mitigated"}},
		{StatusResolved, map[string]string{"ack": "", "mitigate": "", "resolve": "", "reopen": "triggered", "escalate": "", "assign": ""}},
	}
	for _, tc := range tests {
		for name, act := range actions {
			inc := at(tc.from)
			before := len(inc.Timeline)
			err := act(inc)
			want := tc.want[name]
			switch {
			case want == "" && err == nil:
				t.Errorf("%s on %s: allowed", name, tc.from)
			case want == "" && !errors.Is(err, ErrTransition):
				t.Errorf("%s on %s: %v, want a refused transition", name, tc.from, err)
			case want == "" && !strings.Contains(err.Error(), "INC-9"):
				t.Errorf("%s on %s: error does not name the incident: %v", name, tc.from, err)
			case want == "" && len(inc.Timeline) != before:
				t.Errorf("%s on %s: refused yet recorded", name, tc.from)
			case want != "" && err != nil:
				t.Errorf("%s on %s: %v", name, tc.from, err)
			case want != "" && inc.Status.String() != want:
				t.Errorf("%s on %s: status %s, want %s", name, tc.from, inc.Status, want)
			case want != "" && len(inc.Timeline) == before:
				t.Errorf("%s on %s: not on the timeline", name, tc.from)
			}
		}
	}
}

func TestReopenPagesFromTheFirstStep(t *testing.T) {
	s := settings(0, 0)
	inc := &Incident{ID: 4, Title: "x"}
	inc.Start(s, "default", t0)
	inc.Escalate(s, t0.Add(2*time.Minute))
	inc.Resolve(cli, "", t0.Add(3*time.Minute))
	pages, err := inc.Reopen(s, Actor{Name: "bob"}, "it is back", t0.Add(time.Hour))
	if err != nil || !slices.Equal(targets(pages), []string{"alice"}) || !inc.ResolvedAt.IsZero() || inc.Escalation.NextAt.IsZero() {
		t.Fatalf("reopen: %v %v %+v", targets(pages), err, inc.Escalation)
	}
	if last := inc.Timeline[len(inc.Timeline)-2]; last.Kind != "reopened" || last.Actor != "bob" || !strings.Contains(last.Text, "it is back") {
		t.Errorf("timeline: %+v", last)
	}
}

func TestEscalateNowPagesTheNextStep(t *testing.T) {
	s := settings(0, 0)
	inc := &Incident{ID: 5, Title: "x"}
	inc.Start(s, "default", t0)
	inc.Acknowledge(s, Actor{Name: "alice"}, t0.Add(time.Minute))
	pages, err := inc.EscalateNow(s, Actor{Name: "alice", Source: "console"}, t0.Add(90*time.Second))
	if err != nil || !slices.Equal(targets(pages), []string{"bob"}) || inc.Status != StatusTriggered {
		t.Fatalf("escalate: %v %v %s", targets(pages), err, inc.Status)
	}
	ev := inc.Timeline[len(inc.Timeline)-2]
	if ev.Kind != "escalated" || ev.Source != "console" || ev.Actor != "alice" {
		t.Errorf("timeline: %+v", ev)
	}
}

// A step that reaches nobody (an empty schedule) hands on at once.
func TestStepWithNobodySkipsAhead(t *testing.T) {
	s := settings(0, 0)
	sch := s.People.Schedules["platform"]
	sch.Overrides = []schedule.Override{{Remove: "alice", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)}}
	s.People.Schedules["platform"] = sch
	inc := &Incident{ID: 6, Title: "x"}
	pages, _ := inc.Start(s, "default", t0)
	if !slices.Equal(targets(pages), []string{"bob"}) || inc.Escalation.Step != 1 {
		t.Fatalf("paged %v at step %d", targets(pages), inc.Escalation.Step)
	}
	if !strings.Contains(inc.Timeline[0].Text, "nobody on call") {
		t.Errorf("timeline: %+v", inc.Timeline)
	}
}

func TestRolesTasksUpdatesAndSeverity(t *testing.T) {
	sev := Severities{}
	inc := &Incident{ID: 8, Title: "x", Severity: SEV2}
	if !inc.NeedsCommander(sev) {
		t.Error("SEV2 without a commander")
	}
	if err := inc.Assign(RoleCommander, "@riley", cli, t0); err != nil || inc.Role(RoleCommander) != "riley" || inc.NeedsCommander(sev) {
		t.Fatalf("assign: %v %q", err, inc.Role(RoleCommander))
	}
	inc.Assign(RoleCommander, "dana", cli, t0)
	if ev := inc.Timeline[len(inc.Timeline)-1]; ev.Text != "dana is incident commander (was riley)" {
		t.Errorf("reassign: %q", ev.Text)
	}
	if err := inc.Assign(RoleScribe, "", cli, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("unassign nobody: %v", err)
	}
	if _, err := ParseRole("boss"); err == nil {
		t.Error("unknown role accepted")
	}
	id, err := inc.AddTask("roll back the deploy", "@bob", cli, t0)
	if err != nil || id != 1 || inc.Tasks[0].Owner != "bob" {
		t.Fatalf("task: %d %v %+v", id, err, inc.Tasks)
	}
	if err := inc.FinishTask(1, Actor{Name: "bob"}, t0); err != nil || !inc.Tasks[0].Done {
		t.Fatal(err)
	}
	if err := inc.FinishTask(1, cli, t0); !errors.Is(err, ErrTransition) {
		t.Errorf("finish twice: %v", err)
	}
	if err := inc.FinishTask(7, cli, t0); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no such task") {
		t.Errorf("unknown task: %v", err)
	}
	if err := inc.PostUpdate("We are investigating slow matches.", true, "Slow matchmaking", cli, t0); err != nil || inc.PublicTitle != "Slow matchmaking" {
		t.Fatal(err)
	}
	inc.PostUpdate("profile-db p99 at 4s", false, "", cli, t0)
	if len(inc.Updates) != 2 || !inc.Updates[0].Public || inc.Updates[1].Public {
		t.Errorf("updates %+v", inc.Updates)
	}
	if err := inc.PostUpdate("  ", false, "", cli, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty update: %v", err)
	}
	if err := inc.SetSeverity(SEV1, cli, t0); err != nil || inc.Severity != SEV1 {
		t.Fatal(err)
	}
	if err := inc.SetSeverity(Severity(9), cli, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("SEV9: %v", err)
	}
	if d := inc.Drill; d || !(Incident{Severity: SEV3}).Open() {
		t.Error("drill")
	}
	if (Incident{Severity: SEV3}).NeedsCommander(sev) || (Incident{Severity: SEV1, Drill: true}).NeedsCommander(sev) {
		t.Error("SEV3 or a drill needs no commander")
	}
}

func TestMerge(t *testing.T) {
	into := &Incident{ID: 1, Key: "pager {}:{service=\"a\"}", Severity: SEV3, Title: "a"}
	into.setFiring(into.Key, 2)
	src := &Incident{ID: 2, Key: "pager {}:{service=\"b\"}", Severity: SEV2, Title: "b", Tasks: []Task{{ID: 1, Text: "look"}}}
	src.setFiring(src.Key, 1)
	if err := into.MergeInto(src, cli, t0); err != nil {
		t.Fatal(err)
	}
	if src.Status != StatusResolved || src.MergedInto != 1 || into.Severity != SEV2 || into.AlertsFiring != 3 || !slices.Equal(into.Keys(), []string{into.Key, src.Key}) {
		t.Fatalf("merged: %+v / %+v", into, src)
	}
	if len(into.Tasks) != 1 || !strings.Contains(into.Tasks[0].Text, "(from INC-2)") {
		t.Errorf("tasks %+v", into.Tasks)
	}
	if _, err := src.Reopen(settings(0, 0), cli, "", t0); !errors.Is(err, ErrTransition) || !strings.Contains(err.Error(), "merged into INC-1") {
		t.Errorf("reopen a merged incident: %v", err)
	}
	if err := into.MergeInto(into, cli, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("merge into itself: %v", err)
	}
}

func TestDrillPagesSayDrill(t *testing.T) {
	inc := &Incident{ID: 2, Title: "failover rehearsal", Drill: true, Severity: SEV2}
	pages, _ := inc.Start(settings(0, 0), "default", t0)
	if len(pages) != 1 || !pages[0].Drill || !strings.HasPrefix(pages[0].Subject, "[DRILL] [INC-2]") || pages[0].Severity != SEV2 {
		t.Fatalf("drill page %+v", pages)
	}
}

func TestStartUnknownPolicy(t *testing.T) {
	inc := &Incident{ID: 1}
	if _, err := inc.Start(settings(0, 0), "nope", t0); err == nil {
		t.Fatal("want error")
	}
}

func TestSeverities(t *testing.T) {
	for in, want := range map[string]Severity{"1": SEV1, "sev2": SEV2, "SEV3": SEV3, " 4 ": SEV4} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"0", "5", "SEV", "high"} {
		if _, err := ParseSeverity(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	custom := Severities{SEV4: {Description: "x", AlertSeverities: []string{"warning"}}}
	if DefaultSeverities.ForAlert("critical") != SEV1 || DefaultSeverities.ForAlert("page") != SEV2 || DefaultSeverities.ForAlert("other") != SEV3 {
		t.Error("default mapping")
	}
	if custom.ForAlert("warning") != SEV3 {
		// SEV3's default still lists warning, and SEV3 is checked first.
		t.Errorf("custom mapping: %v", custom.ForAlert("warning"))
	}
	if !custom.Get(SEV1).RequiresCommander {
		t.Error("SEV1 falls back on the default")
	}
}

// A chat channel is linked with a timeline event, relinked saying what it
// was, refused when it is no channel ID or the incident was merged, and
// follows a merge into an incident that has none.
func TestLinkChannel(t *testing.T) {
	inc := &Incident{ID: 3, Status: StatusResolved}
	if err := inc.LinkChannel("C0INC3", cli, t0); err != nil {
		t.Fatalf("link a resolved incident: %v", err)
	}
	if err := inc.LinkChannel("C0INC3", cli, t0); err != nil || len(inc.Timeline) != 1 {
		t.Fatalf("linking the same channel again: %v, %d events", err, len(inc.Timeline))
	}
	if err := inc.LinkChannel("C0NEW", cli, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if inc.Channel != "C0NEW" || len(inc.Timeline) != 2 || inc.Timeline[1].Text != "chat channel C0NEW (was C0INC3)" || inc.Timeline[1].Actor != "alice" {
		t.Fatalf("relinked: %q %+v", inc.Channel, inc.Timeline)
	}
	for _, bad := range []string{"", "#inc 3", "C1\n"} {
		if err := inc.LinkChannel(bad, cli, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("LinkChannel(%q): %v, want ErrInvalid", bad, err)
		}
	}
	into := &Incident{ID: 1, Key: "a"}
	src := &Incident{ID: 2, Key: "b", Channel: "C0SRC"}
	if err := into.MergeInto(src, cli, t0); err != nil {
		t.Fatal(err)
	}
	if into.Channel != "C0SRC" {
		t.Errorf("the merged incident's channel did not follow: %q", into.Channel)
	}
	if err := src.LinkChannel("C0X", cli, t0); !errors.Is(err, ErrTransition) {
		t.Errorf("link a merged incident: %v", err)
	}
}

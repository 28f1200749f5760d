package oncall

import (
	"strings"
	"testing"
	"time"
)

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // Monday 09:00

func TestScheduleWeeklyRotation(t *testing.T) {
	s := Schedule{Name: "platform", Users: []string{"alice", "bob", "carol"}, Start: start,
		Overrides: []Override{{User: "erin", Start: start.Add(15 * 24 * time.Hour), End: start.Add(16 * 24 * time.Hour)}}}
	tests := []struct {
		at        time.Time
		offset    int
		want      string
		wantUntil time.Time
	}{
		{start, 0, "alice", start.Add(Week)},
		{start.Add(Week - time.Second), 0, "alice", start.Add(Week)},
		{start.Add(Week), 0, "bob", start.Add(2 * Week)},
		{start.Add(Week), 1, "carol", start.Add(2 * Week)},
		{start.Add(2 * Week), 1, "alice", start.Add(3 * Week)},
		{start.Add(3 * Week), 0, "alice", start.Add(4 * Week)},
		{start.Add(-time.Hour), 0, "carol", start},                                          // before the start, rotation runs backwards
		{start.Add(14 * 24 * time.Hour), 0, "carol", start.Add(15 * 24 * time.Hour)},        // shift ends early at the override
		{start.Add(15*24*time.Hour + time.Hour), 0, "erin", start.Add(16 * 24 * time.Hour)}, // override
		{start.Add(15*24*time.Hour + time.Hour), 1, "alice", start.Add(3 * Week)},           // overrides do not move the secondary
	}
	for _, tc := range tests {
		got, until := s.At(tc.at, tc.offset)
		if got != tc.want || !until.Equal(tc.wantUntil) {
			t.Errorf("At(%v, %d) = %s until %v, want %s until %v", tc.at, tc.offset, got, until, tc.want, tc.wantUntil)
		}
	}
}

func TestValidate(t *testing.T) {
	scheds := map[string]Schedule{"platform": {Name: "platform", Users: []string{"a"}, Start: start}}
	p := Policy{Name: "p", Steps: []Step{
		{Name: "x", Targets: []Target{{Schedule: "nope"}}, AckTimeout: time.Minute},
		{Name: "y", Targets: []Target{{User: "a", Schedule: "platform"}}},
		{Name: "z"},
	}}
	err := p.Validate(scheds)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`steps[0].targets[0].schedule: unknown schedule "nope"`, "steps[1].ack_timeout", "steps[1].targets[0]: set schedule or user, not both", "steps[2].targets"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Schedule{Name: "s"}).Validate(); err == nil || !strings.Contains(err.Error(), "users") || !strings.Contains(err.Error(), "start") {
		t.Errorf("schedule validate: %v", err)
	}
}

func TestChain(t *testing.T) {
	scheds := map[string]Schedule{"platform": {Name: "platform", Users: []string{"alice", "bob"}, Start: start}}
	p := Policy{Name: "default", Steps: []Step{
		{Name: "primary", Targets: []Target{{Schedule: "platform"}}, AckTimeout: time.Minute},
		{Name: "secondary", Targets: []Target{{Schedule: "platform", Offset: 1}, {User: "bob"}}, AckTimeout: time.Minute},
	}}
	c := p.Chain(start.Add(time.Hour), scheds)
	if c[0].Users[0] != "alice" || !c[0].Until.Equal(start.Add(Week)) {
		t.Errorf("step 0 = %+v", c[0])
	}
	if len(c[1].Users) != 1 || c[1].Users[0] != "bob" {
		t.Errorf("step 1 should dedupe bob: %+v", c[1])
	}
	// Who takes over at the hand-off.
	if len(c[0].Next) != 1 || c[0].Next[0] != "bob" || len(c[1].Next) != 2 || c[1].Next[0] != "alice" {
		t.Errorf("next: %v, %v", c[0].Next, c[1].Next)
	}
}

package schedule

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func platform() Directory {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday
	return Directory{
		Users: users("alice", "bob", "carol", "dana", "riley", "sam"),
		Schedules: map[string]Schedule{
			"platform": {Name: "platform", Users: []string{"alice", "bob", "carol"}, Start: At(start)},
			"ic":       {Name: "ic", Users: []string{"riley", "sam"}, Start: At(start), Shift: Days(14)},
		},
		Policies: map[string]Policy{
			"platform": {Name: "platform", Steps: []Step{
				{Name: "primary on-call", Targets: []Target{{Schedule: "platform"}}, Delay: 5 * time.Minute},
				{Name: "secondary", Targets: []Target{{Schedule: "platform", Offset: 1}}, Delay: 5 * time.Minute},
				{Name: "management", Targets: []Target{{Policy: "managers"}}, Delay: time.Minute},
			}},
			"managers": {Name: "managers", Steps: []Step{{Name: "team manager", Targets: []Target{{User: "dana"}}, Delay: 10 * time.Minute}}},
		},
		Commander: &Step{Targets: []Target{{Schedule: "ic"}}, Delay: 15 * time.Minute},
	}
}

func TestFreezeExpandsPoliciesAndEndsAtTheCommander(t *testing.T) {
	d := platform()
	p, err := d.Freeze("platform")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	if want := []string{"primary on-call", "secondary", "team manager", "incident commander"}; !slices.Equal(names, want) {
		t.Fatalf("frozen steps %q, want %q", names, want)
	}
	// Editing the directory afterwards does not change what was frozen.
	d.Policies["managers"].Steps[0].Targets[0] = Target{User: "sam"}
	if p.Steps[2].Targets[0].User != "dana" {
		t.Error("the frozen policy shares its targets with the directory")
	}
	// A policy that reaches the commander already, or opts out, does not get a second one.
	d.Policies["ic-last"] = Policy{Name: "ic-last", Steps: []Step{{Name: "ic", Targets: []Target{{Schedule: "ic"}}, Delay: time.Minute}}}
	d.Policies["quiet"] = Policy{Name: "quiet", NoIncidentCommander: true, Steps: []Step{{Name: "x", Targets: []Target{{User: "bob"}}, Delay: time.Minute}}}
	for _, n := range []string{"ic-last", "quiet"} {
		if p, _ := d.Freeze(n); len(p.Steps) != 1 {
			t.Errorf("%s: %d steps", n, len(p.Steps))
		}
	}
}

func TestChainSaysWhoIsOnCallNowAndNext(t *testing.T) {
	d := platform()
	at := time.Date(2026, 11, 4, 12, 0, 0, 0, time.UTC)
	chain, err := d.Chain("platform", at)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		step        string
		users, next []string
		until       time.Time
	}
	var got []row
	for _, a := range chain {
		got = append(got, row{a.StepName, a.Users, a.Next, a.Until})
	}
	handOff := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	want := []row{
		{"primary on-call", []string{"alice"}, []string{"bob"}, handOff},
		{"secondary", []string{"bob"}, []string{"carol"}, handOff},
		{"team manager", []string{"dana"}, nil, time.Time{}},
		{"incident commander", []string{"riley"}, []string{"sam"}, time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("chain %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.step != w.step || !slices.Equal(g.users, w.users) || !slices.Equal(g.next, w.next) || !g.until.Equal(w.until) {
			t.Errorf("step %d: %+v, want %+v", i, g, w)
		}
	}
	b, _ := json.Marshal(chain[0])
	if !strings.Contains(string(b), `"delay":"5m"`) {
		t.Errorf("JSON delay: %s", b)
	}
}

func TestPolicyValidation(t *testing.T) {
	d := platform()
	d.Policies["loop-a"] = Policy{Name: "loop-a", Steps: []Step{{Name: "a", Targets: []Target{{Policy: "loop-b"}}, Delay: time.Minute}}}
	d.Policies["loop-b"] = Policy{Name: "loop-b", Steps: []Step{{Name: "b", Targets: []Target{{Policy: "loop-a"}}, Delay: time.Minute}}}
	tests := []struct {
		p    Policy
		want []string
	}{
		{Policy{Name: "empty"}, []string{`steps: policy "empty" needs at least one step`}},
		{Policy{Name: "self", Steps: []Step{{Name: "me", Targets: []Target{{Policy: "self"}}, Delay: time.Minute}}}, nil},
		{d.Policies["loop-a"], []string{`steps: policy "loop-a" targets itself (loop-a → loop-b → loop-a)`}},
		{Policy{Name: "p", Repeat: -1, AckTimeout: -time.Second, Steps: []Step{
			{Name: "x", Targets: []Target{{Schedule: "nope"}}},
			{Name: "y", Targets: []Target{{User: "alice", Schedule: "platform"}}, Delay: time.Minute},
			{Name: "z", Delay: time.Minute},
			{Name: "w", Targets: []Target{{User: "zed"}, {User: "alice", Offset: 1}, {Policy: "managers"}}, Delay: time.Minute},
		}}, []string{
			"repeat: must not be negative", "ack_timeout: must not be negative",
			`steps[0].delay: must be positive`, `steps[0].targets[0].schedule: unknown schedule "nope"`,
			"steps[1].targets[0]: set exactly one of user, schedule or policy", "steps[2].targets: step needs at least one target",
			`steps[3].targets[0].user: unknown user "zed"`, "steps[3].targets[1].offset: only a schedule target has an offset",
			"steps[3].targets[2].policy: a step that hands on to a policy has no other target",
		}},
	}
	for _, tc := range tests {
		if tc.p.Name == "self" {
			d.Policies["self"] = tc.p
			tc.want = []string{`steps: policy "self" targets itself (self → self)`}
		}
		err := tc.p.Validate(d)
		if err == nil {
			t.Errorf("%s: no error", tc.p.Name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", tc.p.Name, w, err)
			}
		}
	}
	if _, err := d.Freeze("loop-a"); err == nil {
		t.Error("a cycle froze")
	}
	if err := d.Policies["platform"].Validate(d); err != nil {
		t.Errorf("a good policy: %v", err)
	}
}

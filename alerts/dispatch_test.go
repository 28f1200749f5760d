package alerts

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func alert(state State, kv ...string) RuleAlert {
	ls := labels.FromStrings(kv...)
	return RuleAlert{Rule: ls.Get("alertname"), Labels: ls, State: state}
}

func TestDispatcherOneNotificationPerGroup(t *testing.T) {
	pageMatch, err := ParseMatchers([]string{`severity=~"page|critical"`})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher([]Route{{Name: "page", Matchers: pageMatch, GroupBy: []string{"service"}, GroupWait: 10 * time.Second, Policy: "default"}})
	errs := alert(StateFiring, "alertname", "HighErrors", "service", "mm", "severity", "page")
	matches := alert(StateFiring, "alertname", "MatchesDown", "service", "mm", "severity", "page")
	ticket := alert(StateFiring, "alertname", "DiskFilling", "service", "mm", "severity", "ticket")
	steps := []struct {
		at     time.Duration
		alerts []RuleAlert
		want   []string // "key" or "key resolved"
	}{
		{0, []RuleAlert{alert(StatePending, "alertname", "HighErrors", "service", "mm", "severity", "page")}, nil},
		{5 * time.Second, []RuleAlert{errs}, nil},           // group wait starts
		{10 * time.Second, []RuleAlert{errs, matches}, nil}, // second alert joins the same group
		{15 * time.Second, []RuleAlert{errs, matches, ticket}, []string{`default:{alertname="DiskFilling"}`, `page:{service="mm"}`}},
		{20 * time.Second, []RuleAlert{errs, matches, ticket}, nil}, // no repeat per evaluation
		{25 * time.Second, []RuleAlert{errs, ticket}, nil},          // partial resolution is not news
		{30 * time.Second, []RuleAlert{alert(StateResolved, "alertname", "HighErrors", "service", "mm", "severity", "page")}, []string{`default:{alertname="DiskFilling"} resolved`, `page:{service="mm"} resolved`}},
		{35 * time.Second, nil, nil},
	}
	for _, st := range steps {
		got := d.Update(st.alerts, t0.Add(st.at))
		var keys []string
		for _, n := range got {
			k := n.Group.Key
			if n.Resolved {
				k += " resolved"
			}
			keys = append(keys, k)
		}
		if len(keys) != len(st.want) {
			t.Fatalf("t+%v: got %v, want %v", st.at, keys, st.want)
		}
		for i := range keys {
			if keys[i] != st.want[i] {
				t.Errorf("t+%v: got %v, want %v", st.at, keys, st.want)
			}
		}
	}
}

func TestDispatcherRestoreDoesNotRenotify(t *testing.T) {
	r := Route{Name: "page", GroupBy: []string{"service"}, Policy: "default"}
	a := alert(StateFiring, "alertname", "X", "service", "mm")
	d := NewDispatcher([]Route{r})
	if n := d.Update([]RuleAlert{a}, t0); len(n) != 1 {
		t.Fatalf("first: %d notifications", len(n))
	}
	restarted := NewDispatcher([]Route{r})
	restarted.Restore(d.Groups())
	if n := restarted.Update([]RuleAlert{a}, t0.Add(time.Minute)); len(n) != 0 {
		t.Fatalf("after restore: %d notifications, want 0", len(n))
	}
}

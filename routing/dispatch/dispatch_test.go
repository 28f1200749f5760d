package dispatch

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func tree(t *testing.T) *routing.Config {
	t.Helper()
	c, err := routing.Parse("am.yml", []byte(`
route:
  receiver: default
  group_by: [service]
  group_wait: 30s
  group_interval: 5m
  routes:
    - matchers: [severity="page"]
      receiver: pager
      continue: true
    - matchers: [team="db"]
      receiver: db
      group_by: ['...']
      group_wait: 10s
receivers: [{name: default}, {name: pager}, {name: db}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type harness struct {
	t *testing.T
	d *Dispatcher
}

func (h harness) put(at time.Duration, startedAgo time.Duration, kv ...string) *alerts.Alert {
	now := t0.Add(at)
	a := &alerts.Alert{Labels: labels.FromStrings(kv...), StartsAt: now.Add(-startedAgo), UpdatedAt: now}
	h.d.Insert(a.Fingerprint(), a, h.d.Match(a.Labels), now)
	return a
}

// due flushes at t0+at and renders "receiver key: alertnames".
func (h harness) due(at time.Duration) []string {
	var out []string
	for _, f := range h.d.Due(t0.Add(at), 0) {
		s := f.Group.Receiver + " " + f.Group.Key + ":"
		for _, a := range f.Alerts {
			s += " " + a.Name()
			if a.ResolvedAt(f.At) {
				s += "(resolved)"
			}
		}
		out = append(out, s)
		h.d.Done(f)
	}
	return out
}

func TestGroupTimers(t *testing.T) {
	h := harness{t, New(tree(t).Root)}
	check := func(at time.Duration, want ...string) {
		t.Helper()
		if got := h.due(at); !slices.Equal(got, want) {
			t.Errorf("t+%v: flushed\n  %q\nwant\n  %q", at, got, want)
		}
	}
	// A pages (it stops at the pager route); B only matches the root.
	h.put(0, 0, "alertname", "A", "service", "api", "severity", "page")
	h.put(20*time.Second, 0, "alertname", "B", "service", "api")
	check(29 * time.Second) // group_wait
	check(30*time.Second, `pager {}/{severity="page"}:{service="api"}: A`)
	h.put(40*time.Second, 0, "alertname", "B2", "service", "api")
	check(50*time.Second, `default {}:{service="api"}: B B2`)
	check(5*time.Minute + 29*time.Second)
	check(5*time.Minute+30*time.Second, `pager {}/{severity="page"}:{service="api"}: A`)
	// A late join waits for the next group_interval.
	h.put(5*time.Minute+40*time.Second, 0, "alertname", "C", "service", "api")
	check(5*time.Minute + 45*time.Second)
	check(5*time.Minute+50*time.Second, `default {}:{service="api"}: B B2 C`)

	// An alert that started long ago flushes a new group at once.
	h.put(6*time.Minute, time.Hour, "alertname", "D", "service", "web")
	check(6*time.Minute, `default {}:{service="web"}: D`)

	// group_by ['...']: every alert its own group, with the route's wait.
	h.put(6*time.Minute, 0, "alertname", "E", "team", "db", "instance", "a")
	h.put(6*time.Minute, 0, "alertname", "E", "team", "db", "instance", "b")
	check(6*time.Minute+10*time.Second,
		`db {}/{team="db"}:{alertname="E", instance="a", team="db"}: E`,
		`db {}/{team="db"}:{alertname="E", instance="b", team="db"}: E`)
}

func TestResolvedAlertsLeaveAfterTheirFlush(t *testing.T) {
	h := harness{t, New(tree(t).Root)}
	a := h.put(0, 0, "alertname", "A", "service", "api")
	h.put(0, 0, "alertname", "B", "service", "api")
	h.due(30 * time.Second)
	// A resolves; it is notified once as resolved, then leaves the group.
	a.EndsAt, a.UpdatedAt = t0.Add(time.Minute), t0.Add(time.Minute)
	if got := h.due(5*time.Minute + 30*time.Second); len(got) != 1 || got[0] != `default {}:{service="api"}: A(resolved) B` {
		t.Fatalf("flush after resolution: %q", got)
	}
	if got := h.due(10*time.Minute + 30*time.Second); len(got) != 1 || got[0] != `default {}:{service="api"}: B` {
		t.Fatalf("the resolved alert should have left: %q", got)
	}
	// An alert whose end is still ahead is sent as firing (end cleared).
	b := h.d.groups[`{}:{service="api"}`]
	for _, al := range b.alerts {
		al.EndsAt = t0.Add(time.Hour)
	}
	fs := h.d.Due(t0.Add(15*time.Minute+30*time.Second), 0)
	if len(fs) != 1 || !fs[0].Alerts[0].EndsAt.IsZero() {
		t.Fatalf("firing alert's end not cleared: %+v", fs)
	}
	// An alert received again after the flush that saw it resolved stays.
	a2 := h.put(16*time.Minute, 0, "alertname", "A", "service", "api")
	a2.EndsAt = t0.Add(16 * time.Minute)
	f := h.d.Due(t0.Add(20*time.Minute+30*time.Second), 0)[0]
	a2.UpdatedAt = t0.Add(21 * time.Minute) // received again while notifying
	h.d.Done(f)
	if h.d.groups[`{}:{service="api"}`].Len() != 2 {
		t.Error("an alert updated during the flush must stay")
	}
}

func TestMaintainAndRestore(t *testing.T) {
	c := tree(t)
	h := harness{t, New(c.Root)}
	a := h.put(0, 0, "alertname", "A", "service", "api")
	h.due(30 * time.Second)
	a.EndsAt, a.UpdatedAt = t0.Add(time.Minute), t0.Add(time.Minute)
	h.due(5*time.Minute + 30*time.Second)
	// Empty but not yet maintained: a new alert waits for group_interval.
	h.put(6*time.Minute, time.Hour, "alertname", "B", "service", "api")
	if got := h.due(6 * time.Minute); len(got) != 0 {
		t.Errorf("a flushed group must not flush at once: %q", got)
	}
	changed, _ := h.d.TakeChanges()
	if len(changed) != 1 || !changed[0].Flushed || !changed[0].Next.Equal(t0.Add(10*time.Minute+30*time.Second)) {
		t.Fatalf("changes: %+v", changed)
	}

	// Restart: the group's schedule is restored.
	d2 := New(c.Root)
	d2.Restore(changed)
	h2 := harness{t, d2}
	h2.put(7*time.Minute, time.Hour, "alertname", "B", "service", "api")
	if got := h2.due(7 * time.Minute); len(got) != 0 {
		t.Errorf("restored group flushed early: %q", got)
	}
	if got := h2.due(10*time.Minute + 30*time.Second); len(got) != 1 {
		t.Errorf("restored group should flush on its schedule: %q", got)
	}

	// Maintenance drops empty groups only.
	h.d.Maintain()
	if h.d.Len() != 1 {
		t.Errorf("groups after maintenance: %d", h.d.Len())
	}
	for _, al := range h.d.groups[`{}:{service="api"}`].alerts {
		h.d.Remove(al.Fingerprint(), h.d.Match(al.Labels), al.Labels)
	}
	h.d.Maintain()
	if _, removed := h.d.TakeChanges(); h.d.Len() != 0 || len(removed) != 1 {
		t.Errorf("after removing every alert: %d groups, removed %v", h.d.Len(), removed)
	}

	// A group whose route changed is dropped at restore.
	d3 := New(tree(t).Root)
	d3.Restore([]GroupState{{ID: "gone", RouteID: "{}/{x=\"y\"}/9", Receiver: "x"}})
	if _, removed := d3.TakeChanges(); len(removed) != 1 || d3.Len() != 0 {
		t.Errorf("stale group kept: %v", removed)
	}
}

// Alerts in a notification are ordered exactly as Alertmanager orders them.
func TestNotificationOrderMatchesAlertmanager(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ours []*alerts.Alert
	var theirs types.AlertSlice
	for i := 0; i < 300; i++ {
		kv := []string{"alertname", fmt.Sprint("A", r.IntN(3))}
		if r.IntN(2) == 0 {
			kv = append(kv, "job", fmt.Sprint("j", r.IntN(3)))
		}
		if r.IntN(2) == 0 {
			kv = append(kv, "instance", fmt.Sprint("i", r.IntN(3)))
		}
		for _, n := range []string{"a", "b", "c"} {
			if r.IntN(2) == 0 {
				kv = append(kv, n, fmt.Sprint(r.IntN(3)))
			}
		}
		ls := labels.FromStrings(kv...)
		ours = append(ours, &alerts.Alert{Labels: ls})
		m := model.LabelSet{}
		ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		theirs = append(theirs, &types.Alert{Alert: model.Alert{Labels: m}})
	}
	slices.SortStableFunc(ours, compareAlerts)
	sort.Stable(theirs)
	for i := range ours {
		if got, want := routing.LabelSetString(ours[i].Labels), theirs[i].Labels.String(); got != want {
			t.Fatalf("position %d: %s, Alertmanager has %s", i, got, want)
		}
	}
}

// Due takes groups up to a bound on their alerts; the rest stay due.
func TestDueInParts(t *testing.T) {
	h := harness{t, New(tree(t).Root)}
	for i := range 5 {
		for j := range 3 {
			h.put(0, 0, "alertname", "A", "service", fmt.Sprint("s", i), "instance", fmt.Sprint(j))
		}
	}
	at := t0.Add(30 * time.Second)
	var sizes []int
	for {
		fs := h.d.Due(at, 7)
		if len(fs) == 0 {
			break
		}
		n := 0
		for _, f := range fs {
			n += len(f.Alerts)
		}
		sizes = append(sizes, n)
	}
	if fmt.Sprint(sizes) != "[6 6 3]" {
		t.Errorf("rounds of %v alerts, want groups of 3 taken up to 7 alerts: [6 6 3]", sizes)
	}
	if fs := h.d.Due(t0.Add(40*time.Second), 1); len(fs) != 0 {
		t.Errorf("flushed groups due again: %d", len(fs))
	}
	if fs := h.d.Due(t0.Add(5*time.Minute+30*time.Second), 1); len(fs) != 1 || len(fs[0].Alerts) != 3 {
		t.Errorf("a group larger than the bound is still taken whole: %+v", fs)
	}
}

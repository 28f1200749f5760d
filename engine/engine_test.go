package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// source answers every query with the current vector.
type source struct{ vec metrics.Vector }

func (s *source) Instant(context.Context, string, time.Time) (metrics.Vector, error) {
	return s.vec, nil
}

// recorder is a Notifier that records deliveries and can be made to fail.
type recorder struct {
	got  []incidents.Page
	fail error
}

func (r *recorder) Notify(_ context.Context, p incidents.Page) error {
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, p)
	return nil
}

func (r *recorder) targets() []string {
	var out []string
	for _, p := range r.got {
		out = append(out, p.Target)
	}
	return out
}

var firingVec = metrics.Vector{{Labels: labels.FromStrings("__name__", "ratio", "service", "matchmaking"), Value: 0.2}}

func options(t *testing.T, path string, src *source, n *recorder) Options {
	t.Helper()
	st, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sched := oncall.Schedule{Name: "platform", Users: []string{"alice", "bob"}, Start: time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)}
	match, _ := alerts.ParseMatchers([]string{`severity="page"`})
	return Options{
		Rules: []alerts.Rule{
			{Name: "MatchesDown", Expr: "ratio < 0.5", For: 20 * time.Second, Labels: map[string]string{"severity": "page"},
				Annotations: map[string]string{"summary": "matches per active user down", "runbook_url": "https://runbooks/matches"}},
			{Name: "ErrorsUp", Expr: "ratio > 0.1", For: 20 * time.Second, Labels: map[string]string{"severity": "page"}},
		},
		Source: src,
		Routes: []alerts.Route{{Name: "page", Matchers: match, GroupBy: []string{"service"}, Policy: "default"}},
		Directory: incidents.Directory{
			Schedules: map[string]oncall.Schedule{"platform": sched},
			Policies: map[string]oncall.Policy{"default": {Name: "default", Steps: []oncall.Step{
				{Name: "primary on-call", Targets: []oncall.Target{{Schedule: "platform"}}, AckTimeout: time.Minute},
				{Name: "secondary", Targets: []oncall.Target{{Schedule: "platform", Offset: 1}}, AckTimeout: time.Minute},
				{Name: "incident commander", Targets: []oncall.Target{{User: "riley"}}, AckTimeout: time.Minute},
			}}},
		},
		Policy:   "default",
		Store:    st,
		Notifier: n,
	}
}

func step(t *testing.T, e *Engine, at time.Duration) {
	t.Helper()
	if err := e.Step(context.Background(), t0.Add(at)); err != nil {
		t.Fatalf("t+%v: %v", at, err)
	}
}

func TestPagesOncePerGroupAndEscalates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	src, n := &source{}, &recorder{}
	e, err := New(context.Background(), options(t, path, src, n))
	if err != nil {
		t.Fatal(err)
	}
	step(t, e, 0)
	src.vec = firingVec // both rules match: one problem, one group
	for at := 10 * time.Second; at <= 50*time.Second; at += 10 * time.Second {
		step(t, e, at)
	}
	if got := n.targets(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("after firing: pages to %v, want [alice]", got)
	}
	if n.got[0].RunbookURL != "https://runbooks/matches" {
		t.Errorf("page lacks the runbook: %+v", n.got[0])
	}
	open := e.OpenIncidents()
	if len(open) != 1 || open[0].AlertsFiring != 2 {
		t.Fatalf("open incidents: %+v", open)
	}
	// Alice fired at t+30s; her ack timeout is a minute.
	step(t, e, 80*time.Second)
	if got := n.targets(); len(got) != 1 {
		t.Fatalf("escalated early: %v", got)
	}
	step(t, e, 90*time.Second)
	if got := n.targets(); len(got) != 2 || got[1] != "bob" {
		t.Fatalf("pages %v, want alice then bob", got)
	}
	if _, err := e.Acknowledge(context.Background(), open[0].ID, "bob", t0.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	step(t, e, 5*time.Minute)
	if got := n.targets(); len(got) != 2 {
		t.Fatalf("paged after ack: %v", got)
	}
}

func TestRestartRestoresStateWithoutRepaging(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	src, n := &source{vec: firingVec}, &recorder{}
	e, err := New(context.Background(), options(t, path, src, n))
	if err != nil {
		t.Fatal(err)
	}
	step(t, e, 0)
	step(t, e, 30*time.Second) // firing, alice paged
	step(t, e, 95*time.Second) // bob paged
	// The process dies here: no Close, no flush. A new one opens the same file.
	n2 := &recorder{}
	e2, err := New(context.Background(), options(t, path, src, n2))
	if err != nil {
		t.Fatal(err)
	}
	open := e2.OpenIncidents()
	if len(open) != 1 || open[0].Escalation.StepName != "secondary" || open[0].Escalation.Paged[0] != "bob" {
		t.Fatalf("incident after restart: %+v", open)
	}
	if as := e2.Alerts(); len(as) != 2 || as[0].State != alerts.StateFiring {
		t.Fatalf("alerts after restart: %+v", as)
	}
	step(t, e2, 100*time.Second)
	if len(n2.got) != 0 {
		t.Fatalf("restart re-paged: %v", n2.targets())
	}
	step(t, e2, 155*time.Second) // bob's minute is up: escalation carries on
	if got := n2.targets(); len(got) != 1 || got[0] != "riley" {
		t.Fatalf("after restart escalation: %v", got)
	}
}

func TestFailedDeliveryIsRetriedNotLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	src, n := &source{vec: firingVec}, &recorder{fail: errors.New("pager down")}
	e, _ := New(context.Background(), options(t, path, src, n))
	e.Step(context.Background(), t0)
	if err := e.Step(context.Background(), t0.Add(30*time.Second)); err == nil {
		t.Fatal("want delivery error")
	}
	n.fail = nil
	step(t, e, 40*time.Second)
	step(t, e, 50*time.Second)
	if got := n.targets(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("pages %v, want exactly one to alice", got)
	}
	if n.got[0].Attempts != 2 {
		t.Errorf("attempts = %d, want 2", n.got[0].Attempts)
	}
}

func TestResolvedGroupResolvesTriggeredIncident(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	src, n := &source{vec: firingVec}, &recorder{}
	e, _ := New(context.Background(), options(t, path, src, n))
	step(t, e, 0)
	step(t, e, 30*time.Second)
	src.vec = nil
	step(t, e, 40*time.Second)
	if open := e.OpenIncidents(); len(open) != 0 {
		t.Fatalf("incident still open: %+v", open)
	}
	if _, err := e.Acknowledge(context.Background(), 1, "alice", t0.Add(time.Minute)); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("ack of resolved incident: %v", err)
	}
}

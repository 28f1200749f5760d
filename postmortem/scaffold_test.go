package postmortem_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/internal/golden"
	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// scripted runs the checkout incident: at t0+2m a third of checkout's
// requests start failing and orders drop to 2 a second; the rules fire,
// ana is paged and does not answer, the policy escalates to ben, who
// acknowledges, makes ric incident commander and rolls back; the errors
// stop at t0+20m, ben mitigates, the alerts resolve, ric resolves.
func scripted(t *testing.T) (*world, int64) {
	t.Helper()
	w := newWorld(t)
	bad := func(at time.Time) bool { return !at.Before(t0.Add(2*time.Minute)) && at.Before(t0.Add(20*time.Minute)) }
	w.traffic(t0.Add(-time.Hour), t0.Add(40*time.Minute),
		func(at time.Time) float64 {
			if bad(at) {
				return 33
			}
			return 0.5
		},
		func(at time.Time) float64 {
			if bad(at) {
				return 2
			}
			return 10
		})
	for i := range 36 {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		e := logs.Entry{Time: at, Level: logs.LevelInfo, Service: "checkout", Message: "order placed", Fields: map[string]string{"txn": fmt.Sprintf("tx-%d", 1000+i)}}
		if bad(at) && i%2 == 0 {
			e.Level, e.Message = logs.LevelError, "payment authorization failed: provider answered 500"
		}
		w.ring.Add(e, logs.Entry{Time: at, Level: logs.LevelError, Service: "search", Message: "index lagging"})
	}
	w.now = t0.Add(-5 * time.Minute)
	if err := w.eng.Start(w.now, nil); err != nil {
		t.Fatal(err)
	}
	w.run(t0.Add(11 * time.Minute))
	open, err := w.st.Incidents(context.Background(), storeOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open incidents after the alerts fired: %v %v", open, err)
	}
	id := open[0].ID
	s := settings()
	ben := incidents.Actor{Name: "ben", Source: "cli"}
	ric := incidents.Actor{Name: "ric", Source: "console"}
	w.act(id, func(i *incidents.Incident, now time.Time) error { return i.Acknowledge(s, ben, now) })
	w.run(t0.Add(12 * time.Minute))
	w.act(id, func(i *incidents.Incident, now time.Time) error {
		return i.Assign(incidents.RoleCommander, "ric", ben, now)
	})
	w.act(id, func(i *incidents.Incident, now time.Time) error {
		return i.PostUpdate("Payments fail for a third of checkouts; rolling back checkout 4.2.", true, "Checkout errors", ric, now)
	})
	w.run(t0.Add(13 * time.Minute))
	w.act(id, func(i *incidents.Incident, now time.Time) error {
		_, err := i.AddTask("roll back checkout 4.2", "ben", ric, now)
		return err
	})
	w.act(id, func(i *incidents.Incident, now time.Time) error {
		_, err := i.AddTask("ask the payment provider why it answered 500", "ric", ric, now)
		return err
	})
	w.run(t0.Add(18 * time.Minute))
	w.act(id, func(i *incidents.Incident, now time.Time) error { return i.AddNote("rollback of 4.2 is out", ben, now) })
	w.run(t0.Add(21 * time.Minute))
	w.act(id, func(i *incidents.Incident, now time.Time) error { return i.FinishTask(1, ben, now) })
	w.act(id, func(i *incidents.Incident, now time.Time) error { return i.Mitigate(ben, "rolled back 4.2", now) })
	w.run(t0.Add(30 * time.Minute))
	w.act(id, func(i *incidents.Incident, now time.Time) error {
		return i.Resolve(ric, "the provider confirmed its fix", now)
	})
	w.run(t0.Add(31 * time.Minute))
	return w, id
}

func TestScaffoldFromAScriptedIncident(t *testing.T) {
	w, id := scripted(t)
	now := t0.Add(26 * time.Hour)
	s, err := postmortem.Build(context.Background(), w.sources(), id, postmortem.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := s.Document(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := doc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	golden.File(t, "INC-1.md", string(b))

	// The figures follow from the script, not from the template.
	fm := s.FrontMatter
	inc, _ := w.st.Incident(context.Background(), id)
	if !fm.Detected.Equal(inc.OpenedAt) || !fm.Resolved.Equal(inc.ResolvedAt) || fm.Owner != "ric" || fm.Severity != incidents.SEV2 {
		t.Errorf("front matter: %+v", fm)
	}
	if !fm.Started.Before(fm.Detected) || fm.Detected.Sub(fm.Started) < 2*time.Minute {
		t.Errorf("started %v, detected %v: the condition held for the rule's 2m before it fired", fm.Started, fm.Detected)
	}
	tta := s.Figures[1]
	if !tta.Known || tta.Value != fm.Acknowledged.Sub(fm.Detected) || tta.Value < 5*time.Minute {
		t.Errorf("time to acknowledge %+v: ana never answered, ben did after the escalation", tta)
	}
	if len(s.Escalation) < 2 || s.Escalation[0].Target != "ana" || s.Escalation[0].AckedBy != "" || s.Escalation[1].Target != "ben" || s.Escalation[1].AckedBy != "ben" || s.Escalation[1].DeliveredAt.IsZero() {
		t.Errorf("escalation: %+v", s.Escalation)
	}
	var lost float64
	for _, si := range s.Impact.Series {
		if si.Rule == "CheckoutOrdersLow" && si.EventsKind == "lost" {
			lost = si.Events
		}
	}
	// Eight orders a second short for about 18 minutes.
	if lost < 6000 || lost > 10000 {
		t.Errorf("orders lost %.0f, want about 8640", lost)
	}
	// The SLO and KPI rules' recorded series: 28 days of 99.9% read from
	// slo:objective:ratio and slo:time_period:days; a third of requests
	// failing for about 19 minutes is 0.33 × 1140 s of a 2419 s budget;
	// orders per request fell from 0.1 to 0.02 of 100 requests a second.
	im := s.Impact
	if im.Basis != "slo" || len(im.Objectives) != 1 || len(im.KPIs) != 1 {
		t.Fatalf("impact from the recorded series: %+v", im)
	}
	if o := im.Objectives[0]; o.Name != "availability" || o.Objective != 99.9 || o.Window != 28*24*time.Hour || o.BudgetBurned < 0.11 || o.BudgetBurned > 0.17 || len(o.Chart) == 0 {
		t.Errorf("SLO impact %+v", o)
	}
	if k := im.KPIs[0]; k.Name != "orders_per_request" || k.Drop < 0.79 || k.Drop > 0.81 || !k.HasLost || k.Lost < 7000 || k.Lost > 10000 || k.Below < 15*time.Minute {
		t.Errorf("KPI impact %+v", k)
	}
	if len(fm.Actions) != 1 || fm.Actions[0].Owner != "ric" || fm.Actions[0].Due != postmortem.DateOf(fm.Resolved).AddDays(30) {
		t.Errorf("actions: %+v (the undone task, due in 30 days for SEV2)", fm.Actions)
	}
	for _, l := range s.Logs {
		if l.Service != "checkout" || l.Level != logs.LevelError || l.Transaction == "" {
			t.Errorf("log line %+v: want checkout's errors with their transaction", l)
		}
	}
	if len(s.Logs) == 0 {
		t.Error("no log lines at the peak")
	}
	// What is written reads back the same.
	back, err := postmortem.Parse("INC-1.md", b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Title != fm.Title || !back.Started.Equal(fm.Started) || len(back.Actions) != 1 || back.Status != postmortem.StatusDraft {
		t.Errorf("read back %+v", back.FrontMatter)
	}
}

// A custom template gets the same scaffold.
func TestScaffoldWithAUserTemplate(t *testing.T) {
	w, id := scripted(t)
	tmpl, err := postmortem.ParseTemplate("mine.md", "# {{.Ref}} {{.Title}}\n{{range .Figures}}{{.Name}}: {{if .Known}}{{dur .Value}}{{end}}\n{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	s, err := postmortem.Build(context.Background(), w.sources(), id, postmortem.Options{Now: t0.Add(26 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	body, err := s.Render(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	golden.File(t, "custom.md", string(body))
	if _, err := postmortem.ParseTemplate("bad.md", "{{.Ref"); err == nil || !strings.Contains(err.Error(), "bad.md:1") {
		t.Errorf("a broken template: %v, want its name and line", err)
	}
	if _, err := (postmortem.Scaffold{}).Render(mustTemplate(t, "{{.Nope}}")); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("a template naming an unknown field: %v", err)
	}
}

func mustTemplate(t *testing.T, text string) *postmortemTemplate {
	t.Helper()
	tmpl, err := postmortem.ParseTemplate("t", text)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestUnknownIncident(t *testing.T) {
	w := newWorld(t)
	_, err := postmortem.Build(context.Background(), w.sources(), 99, postmortem.Options{Now: t0})
	if !errors.Is(err, incidents.ErrNotFound) || !strings.Contains(err.Error(), "unknown incident INC-99") {
		t.Errorf("Build(99) = %v, want unknown incident INC-99", err)
	}
}

// With an SLO for the service, the impact is the error budget it burned
// and the requests that failed; chat messages (the hook a chat
// integration fills) join the timeline.
func TestScaffoldAgainstAnSLOWithChat(t *testing.T) {
	w, id := scripted(t)
	src := w.sources()
	src.Chat = chat{{At: t0.Add(5 * time.Minute), Channel: "#inc-1", Author: "ana", Text: "looking"}}
	obj := postmortem.Objective{Service: "checkout", Name: "availability", Objective: 99.9,
		ErrorRatio: `sum(rate(http_requests_total{service="checkout",code=~"5.."}[2m])) / sum(rate(http_requests_total{service="checkout"}[2m]))`,
		Total:      `sum(rate(http_requests_total{service="checkout"}[2m]))`}
	s, err := postmortem.Build(context.Background(), src, id, postmortem.Options{Now: t0.Add(26 * time.Hour), Objectives: []postmortem.Objective{obj}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Impact.Basis != "slo" || len(s.Impact.Objectives) != 1 {
		t.Fatalf("impact %+v", s.Impact)
	}
	o := s.Impact.Objectives[0]
	// A third of the requests failed for about 19 minutes: 0.33 × 1140 s
	// of a 30-day budget of 0.1% (2592 s) is about 15%; 100 requests a
	// second, 33 of them failing, is about 37,000 failed requests.
	if o.BudgetBurned < 0.12 || o.BudgetBurned > 0.17 || !o.HasLost || o.Lost < 33000 || o.Lost > 42000 {
		t.Errorf("budget burned %.3f, lost %.0f", o.BudgetBurned, o.Lost)
	}
	body, err := s.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**checkout / availability** (99.9% over 30d): 1", "of the error budget burned, about 3", "| chat #inc-1 | looking | ana |"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q", want)
		}
	}
}

type chat []postmortem.ChatMessage

func (c chat) ChatMessages(context.Context, int64, time.Time, time.Time) ([]postmortem.ChatMessage, error) {
	return c, nil
}

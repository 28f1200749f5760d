package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
	"github.com/oncallhq/oncall/tui/theme"
)

var now = tuitest.Now

func TestMain(m *testing.M) {
	time.Local = time.UTC // screens show local times
	os.Exit(m.Run())
}

// server is an in-memory oncall server: a stream the test feeds and can
// break, and the actions it records.
type server struct {
	mu       sync.Mutex
	updates  chan state.Update
	breaks   chan error
	streams  []string // "after=N backlog=M" per connection
	acks     []string
	resolves []string
	acts     []string
	silences []silence.Silence
	queries  []string
}

func newServer() *server {
	return &server{updates: make(chan state.Update, 16), breaks: make(chan error, 1)}
}

func (s *server) Stream(ctx context.Context, after uint64, backlog int, emit func(state.Update) error) error {
	s.mu.Lock()
	s.streams = append(s.streams, fmt.Sprintf("after=%d backlog=%d", after, backlog))
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-s.breaks:
			return err
		case u := <-s.updates:
			if err := emit(u); err != nil {
				return err
			}
		}
	}
}

func (s *server) Ack(_ context.Context, id int64, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks = append(s.acks, fmt.Sprintf("INC-%d by %s", id, by))
	return nil
}

func (s *server) Resolve(_ context.Context, id int64, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resolves = append(s.resolves, fmt.Sprintf("INC-%d by %s", id, by))
	return nil
}

func (s *server) Act(_ context.Context, by string, a msg.Act) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acts = append(s.acts, fmt.Sprintf("INC-%d %s %q by %s", a.Incident, a.Action, a.Text+a.Role, by))
	return nil
}

func (s *server) AddSilence(_ context.Context, sl silence.Silence) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silences = append(s.silences, sl)
	return "s-1", nil
}

func (s *server) Query(_ context.Context, expr string, at time.Time) (metrics.Result, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "instant "+expr)
	s.mu.Unlock()
	return metrics.Result{Type: metrics.TypeVector, Vector: metrics.Vector{{Labels: labels.FromStrings("job", "api"), Value: 0.42, T: at}}}, nil
}

func (s *server) History(_ context.Context, since time.Time, name string, _ int) ([]alerts.Transition, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "history "+name)
	s.mu.Unlock()
	return nil, nil
}

func (s *server) Review(_ context.Context, w review.Week) (review.Review, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "review "+w.String())
	s.mu.Unlock()
	return review.Review{Week: w.String(), From: w.Start(), To: w.End(), Incidents: []review.IncidentRow{{Ref: "INC-7", Title: "Matches down", Severity: "SEV2", Opened: w.Start()}}}, nil
}

func (s *server) ReadinessRuns(_ context.Context, service string, _ int) ([]checklist.Run, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "readiness runs "+service)
	s.mu.Unlock()
	return []checklist.Run{{Checklist: "prod", Service: "matchmaking", Level: "gold", LevelReason: "tier 1", Outcome: checklist.OutcomeFail, At: now.Add(-time.Hour),
		Results: []checklist.Result{{Check: "alerts-a-human", Level: "bronze", Required: true, Status: checklist.Fail, Summary: "on-call: nobody on call"}}}}, nil
}

func (s *server) ReadinessRecords(_ context.Context, service string) ([]checklist.Record, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "readiness records "+service)
	s.mu.Unlock()
	return nil, nil
}

func (s *server) Range(_ context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	s.mu.Lock()
	s.queries = append(s.queries, "range "+expr)
	s.mu.Unlock()
	ser := metrics.Series{Labels: labels.FromStrings("job", "api")}
	for t := start; !t.After(end); t = t.Add(step) {
		ser.Points = append(ser.Points, metrics.Point{T: t, V: 0.42})
	}
	return []metrics.Series{ser}, nil
}

func (s *server) calls() (streams, acks, resolves []string, silences []silence.Silence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.streams...), append([]string(nil), s.acks...), append([]string(nil), s.resolves...), append([]silence.Silence(nil), s.silences...)
}

// platform is the state of a platform in trouble.
func platform() state.Update {
	opened := now.Add(-2 * time.Minute)
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "MatchesPerActiveUserDown", "service", "matchmaking", "severity", "page"),
		Annotations: labels.FromStrings("summary", "Matches per active user down more than 50% on matchmaking"), StartsAt: now.Add(-3 * time.Minute)}
	a.Status.State, a.Status.Receivers = alerts.StateFiring, []string{"pager"}
	as := []alerts.Alert{a}
	groups := []state.Group{{Receiver: "pager", Key: "k", Labels: labels.FromStrings("service", "matchmaking"), Fingerprints: []uint64{a.Fingerprint()}}}
	incs := []incidents.Incident{{ID: 7, Title: "Matches per active user down more than 50% on matchmaking", Service: "matchmaking", Severity: incidents.SEV2, AlertSeverity: "page",
		Status: incidents.StatusTriggered, OpenedAt: opened,
		Escalation: incidents.Escalation{Policy: "matchmaking", Step: 1, StepName: "secondary", Paged: []string{"bob"}, StepStartedAt: now.Add(-30 * time.Second), NextAt: now.Add(83 * time.Second)},
		Timeline:   []incidents.Event{{At: opened, Kind: "opened", Text: "opened"}}}}
	oc := []schedule.Assignment{{Policy: "matchmaking", StepName: "primary on-call", Users: []string{"alice"}, Delay: 45 * time.Second},
		{Policy: "matchmaking", Step: 1, StepName: "secondary", Users: []string{"bob"}, Delay: 45 * time.Second}}
	rules := []alerts.Rule{{Name: "MatchesPerActiveUserDown", Expr: "matches_per_user < 0.5", Labels: map[string]string{"severity": "page", "service": "matchmaking"}}}
	ready := health.Report{Ready: true, Role: "leader"}
	pages := []incidents.Page{}
	return state.Update{Alerts: &as, Groups: &groups, Incidents: &incs, OnCall: &oc, Rules: &rules, Ready: &ready, Pages: &pages, At: now,
		Logs: []logs.Entry{
			{Seq: 1, Time: now.Add(-3 * time.Second), Level: logs.LevelInfo, Service: "matchmaking", Message: "request served"},
			{Seq: 2, Time: now.Add(-2 * time.Second), Level: logs.LevelError, Service: "profile-db", Message: "match candidates query timed out"},
		}}
}

// start runs the console in a real program at w×h against srv.
func start(t *testing.T, srv *server, w, h int, opts ...func(*Options)) (*teatest.TestModel, *Model) {
	t.Helper()
	o := Options{Backend: srv, User: "tester", Title: "oncall · test", Now: func() time.Time { return now }, Theme: theme.Dark,
		Retry: func(int) time.Duration { return time.Hour }}
	for _, f := range opts {
		f(&o)
	}
	m := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m.ctx = ctx
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { tm.Quit() })
	return tm, m
}

// screen waits until the console draws a screen containing every want,
// and returns it (without colours).
func screen(t *testing.T, tm *teatest.TestModel, m *Model, want ...string) string {
	t.Helper()
	var last string
	deadline := time.Now().Add(5 * time.Second)
	for {
		reply := make(chan string, 1)
		tm.Send(screenRequest{reply: reply})
		select {
		case last = <-reply:
		case <-time.After(time.Second):
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(ansi.Strip(last), w)
		}
		if ok {
			return ansi.Strip(last)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %q; the screen is:\n%s", want, ansi.Strip(last))
		}
		time.Sleep(20 * time.Millisecond) // polling a real program, not a timer of ours
	}
}

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		tm.Send(tuitest.Key(k))
	}
}

// The console at 80×24 and 160×45 on every pane, as a new user walks it.
func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		srv := newServer()
		srv.updates <- platform()
		tm, m := start(t, srv, size.w, size.h)
		for i, name := range []string{"overview", "alerts", "incidents", "oncall", "metrics", "logs"} {
			press(tm, fmt.Sprint(i+1))
			want := map[string]string{"overview": "0.42    INC-7 TRIGGERED", "alerts": "MatchesPerActiveUserDown", "incidents": "step 2 secondary",
				"oncall": "primary on-call", "metrics": "PromQL", "logs": "match candidates query timed out"}[name]
			v := screen(t, tm, m, want)
			tuitest.Size(t, v, size.w, size.h)
			tuitest.Golden(t, fmt.Sprintf("%s_%dx%d", name, size.w, size.h), v)
		}
	}
}

// When the server goes away the console says so at the top, since when,
// keeps showing the last state marked stale, and reconnects resuming the
// logs after the last line it has.
func TestServerGoneAndBack(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	var mu sync.Mutex
	clock := now
	tm, m := start(t, srv, 120, 30, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		o.Retry = func(int) time.Duration { return 0 }
	})
	screen(t, tm, m, "1 firing", "INC-7 triggered")
	mu.Lock()
	clock = now.Add(10 * time.Second)
	mu.Unlock()
	srv.breaks <- errors.New("oncall server 127.0.0.1:7767: connection refused")
	v := screen(t, tm, m, "STALE · server unreachable since 10:05:10")
	for _, want := range []string{"showing its state of 10:05:00", "why: oncall server 127.0.0.1:7767: connection refused", "INC-7", "matchmaking"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
	srv.updates <- state.Update{Logs: []logs.Entry{{Seq: 3, Time: now, Message: "back again"}}}
	press(tm, "6")
	screen(t, tm, m, "back again", "1 firing")
	streams, _, _, _ := srv.calls()
	if len(streams) < 2 || streams[0] != "after=0 backlog=10000" || streams[len(streams)-1] != "after=2 backlog=0" {
		t.Errorf("streams %v: the second should resume after line 2", streams)
	}
}

// Before the server ever answers, nothing claims calm.
func TestNeverConnected(t *testing.T) {
	srv := newServer()
	srv.breaks <- errors.New("dial tcp 127.0.0.1:7767: connection refused")
	tm, m := start(t, srv, 100, 20)
	v := screen(t, tm, m, "SERVER UNREACHABLE since", "connection refused")
	if strings.Contains(v, "Nothing firing") || strings.Contains(v, "No open incidents") || !strings.Contains(v, "Unknown: the server has not answered") {
		t.Errorf("calm claimed:\n%s", v)
	}
}

// a acknowledges, r asks then resolves, s silences: each reaches the
// server as the user; read-only does none of them.
func TestActionsReachTheServer(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm, m := start(t, srv, 140, 30)
	screen(t, tm, m, "INC-7")
	press(tm, "3", "a")
	screen(t, tm, m, "INC-7 acknowledged")
	press(tm, "e", "y")
	screen(t, tm, m, "INC-7 escalated")
	press(tm, "i")
	screen(t, tm, m, "INC-7 has you as incident commander")
	press(tm, "n")
	screen(t, tm, m, "note on INC-7:")
	tm.Type("rolled back 4.2")
	press(tm, "enter")
	screen(t, tm, m, "INC-7 noted")
	press(tm, "m")
	screen(t, tm, m, "INC-7 mitigated")
	press(tm, "e", "n")
	screen(t, tm, m, "escalate cancelled")
	press(tm, "r", "y")
	screen(t, tm, m, "INC-7 resolved")
	srv.mu.Lock()
	acts := slices.Clone(srv.acts)
	srv.mu.Unlock()
	if want := []string{`INC-7 escalate "" by tester`, `INC-7 assign "commander" by tester`, `INC-7 note "rolled back 4.2" by tester`, `INC-7 mitigate "" by tester`}; !slices.Equal(acts, want) {
		t.Errorf("acts %q, want %q", acts, want)
	}
	press(tm, "2", "j", "s", "enter")
	screen(t, tm, m, "MatchesPerActiveUserDown silenced for 2h00m")
	_, acks, resolves, silences := srv.calls()
	if len(acks) != 1 || acks[0] != "INC-7 by tester" || len(resolves) != 1 || len(silences) != 1 || silences[0].EndsAt.Sub(silences[0].StartsAt) != 2*time.Hour ||
		silences[0].CreatedBy != "tester" || len(silences[0].Matchers) != 3 {
		t.Errorf("acks %v resolves %v silences %+v", acks, resolves, silences)
	}

	ro := newServer()
	ro.updates <- platform()
	tm, m = start(t, ro, 140, 30, func(o *Options) { o.ReadOnly = true })
	screen(t, tm, m, "INC-7", "read-only")
	press(tm, "3", "a")
	screen(t, tm, m, "read-only console")
	if _, acks, _, _ := ro.calls(); len(acks) != 0 {
		t.Errorf("read-only acknowledged: %v", acks)
	}
}

// The palette opens panes with their argument; esc goes back where the
// user came from; the help lists every pane's keys, filtered.
func TestPaletteHelpAndBack(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm, m := start(t, srv, 140, 35)
	screen(t, tm, m, "INC-7")
	press(tm, ":")
	tm.Type("incident 7")
	press(tm, "enter")
	screen(t, tm, m, "Incidents › INC-7", "Timeline")
	press(tm, "esc")
	screen(t, tm, m, "Incidents · 1 open")
	press(tm, "esc")
	screen(t, tm, m, "Overview ·")
	press(tm, ":")
	tm.Type("query up")
	press(tm, "enter")
	screen(t, tm, m, "Metrics › up", "0.42")
	press(tm, ":")
	tm.Type("logs level>=error")
	press(tm, "enter")
	v := screen(t, tm, m, "1 of 2 match")
	if strings.Contains(v, "request served") {
		t.Errorf(":logs filter:\n%s", v)
	}
	press(tm, "?")
	screen(t, tm, m, "Help", "Everywhere", "Logs", "Alerts", "Incidents")
	tm.Type("silence")
	v = screen(t, tm, m, "silence the alert")
	if strings.Contains(v, "previous error") {
		t.Errorf("help filter:\n%s", v)
	}
	press(tm, "esc", "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// :checklist SERVICE asks the Backend for the service's runs and records
// and shows its newest run; esc returns to the list of every service's.
func TestChecklistPaneReadsTheBackend(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm, m := start(t, srv, 140, 35)
	screen(t, tm, m, "INC-7")
	press(tm, ":")
	tm.Type("checklist matchmaking")
	press(tm, "enter")
	screen(t, tm, m, "Checklist › matchmaking › prod", "gold required (tier 1): FAIL", "on-call: nobody on call")
	press(tm, "esc")
	screen(t, tm, m, "Readiness · 1 run, 1 not at the level required", "alerts-a-human (fail)")
	srv.mu.Lock()
	qs := slices.Clone(srv.queries)
	srv.mu.Unlock()
	for _, want := range []string{"readiness runs ", "readiness runs matchmaking", "readiness records matchmaking"} {
		if !slices.Contains(qs, want) {
			t.Errorf("the backend was not asked %q: %q", want, qs)
		}
	}
}

// Outside text reaches the screen with its control characters visible,
// whatever pane shows it.
func TestOutsideTextIsCleanEverywhere(t *testing.T) {
	u := platform()
	a := (*u.Alerts)[0]
	a.Labels = labels.FromStrings("alertname", tuitest.Poison, "service", tuitest.Poison, "severity", "page")
	a.Annotations = labels.FromStrings("summary", tuitest.Poison)
	*u.Alerts = []alerts.Alert{a}
	(*u.Incidents)[0].Title, (*u.Incidents)[0].AckedBy, (*u.Incidents)[0].Service = tuitest.Poison, tuitest.Poison, tuitest.Poison
	(*u.OnCall)[0].Users = []string{tuitest.Poison}
	u.Logs[0].Message = tuitest.Poison
	srv := newServer()
	srv.updates <- u
	tm, m := start(t, srv, 160, 40)
	for _, k := range []string{"1", "2", "3", "4", "6"} {
		press(tm, k)
		v := screen(t, tm, m, "PWNED")
		if !tuitest.Clean(v) {
			t.Errorf("pane %s draws raw sequences:\n%q", k, v)
		}
	}
}

// The busiest screen: 10,000 alerts grouped, a full 100,000-line log
// buffer, an incident; drawn after every change.
func BenchmarkBusiestView(b *testing.B) {
	m := busy(b)
	for i, name := range []string{"overview", "alerts", "logs"} {
		m.focus = []int{0, 1, 5}[i]
		m.render()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				m.render()
			}
		})
	}
}

// busy is a console holding 10,000 alerts and 100,000 log lines.
func busy(b *testing.B) *Model {
	m := New(Options{Backend: newServer(), User: "tester", Now: func() time.Time { return now }, Theme: theme.Dark})
	m.w, m.h = 160, 45
	u := platform()
	as := make([]alerts.Alert, 10_000)
	var fps []uint64
	for i := range as {
		as[i] = alerts.Alert{Labels: labels.FromStrings("alertname", fmt.Sprintf("Alert%d", i%50), "instance", fmt.Sprintf("host-%d", i), "service", fmt.Sprintf("svc-%d", i%40), "severity", "page"),
			Annotations: labels.FromStrings("summary", "something is wrong"), StartsAt: now.Add(-time.Duration(i) * time.Second)}
		as[i].Status.State = alerts.StateFiring
		fps = append(fps, as[i].Fingerprint())
	}
	groups := []state.Group{{Receiver: "pager", Key: "all", Labels: labels.EmptyLabels(), Fingerprints: fps}}
	u.Alerts, u.Groups = &as, &groups
	u.Logs = nil
	m.apply(eventsMsg{{connected: true}, {update: &u}})
	for s := uint64(1); s <= 100_000; s += 5000 {
		var es []logs.Entry
		for i := range uint64(5000) {
			es = append(es, logs.Entry{Seq: s + i, Time: now.Add(-time.Duration(100_000-s-i) * 10 * time.Millisecond), Level: logs.Level(int(s+i) % 5), Service: "matchmaking", Message: "request served"})
		}
		m.apply(eventsMsg{{update: &state.Update{Logs: es}}})
	}
	return m
}

// A key press reaches a new frame within a frame's time: the key, the
// pane's update and the redraw. Reports the 99th percentile too.
func BenchmarkKeyToFrame(b *testing.B) {
	m := busy(b)
	for _, pane := range []int{1, 5} {
		m.focus = pane
		b.Run(m.panes[pane].Name(), func(b *testing.B) {
			keys := []tea.KeyPressMsg{tuitest.Key("j"), tuitest.Key("k"), tuitest.Key("E"), tuitest.Key("f")}
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				m.Update(keys[i%len(keys)])
				m.render()
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// :review WEEK asks the Backend for that week's postmortem review and the
// review pane draws the answer.
func TestReviewThroughTheBackend(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm, m := start(t, srv, 140, 30)
	screen(t, tm, m, "INC-7")
	press(tm, ":")
	tm.Type("review 2026-W53")
	press(tm, "enter")
	screen(t, tm, m, "Review › 2026-W53", "Postmortem review · 2026-W53 · Mon 28 Dec – Sun 3 Jan 2027", "Matches down")
	srv.mu.Lock()
	qs := slices.Clone(srv.queries)
	srv.mu.Unlock()
	if !slices.Contains(qs, "review 2026-W53") {
		t.Errorf("queries %q: the review was not asked of the backend", qs)
	}
}

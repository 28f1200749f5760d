package tui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
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

// asked are the queries the server answered, in order.
func (s *server) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
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
func start(t *testing.T, srv *server, w, h int, opts ...func(*Options)) *teatest.TestModel {
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
	return tm
}

// screen waits (teatest.WaitFor, up to 5s) until the console draws a
// screen containing every want, and returns it without colours. The
// screen is asked of the program itself, so reading it races nothing.
func screen(t *testing.T, tm *teatest.TestModel, want ...string) string {
	t.Helper()
	return screenUntil(t, tm, nil, want...)
}

// done waits for an action's finished status: the text without the
// trailing "…" the console shows while the server call is in flight.
func done(t *testing.T, tm *teatest.TestModel, status string) {
	t.Helper()
	screenUntil(t, tm, func(s string) bool { return !strings.Contains(s, status+"…") }, status)
}

// screenUntil waits until the screen holds every want and ok (when
// given) accepts it.
func screenUntil(t *testing.T, tm *teatest.TestModel, ok func(string) bool, want ...string) string {
	t.Helper()
	var last string
	drawn := func([]byte) bool {
		reply := make(chan string, 1)
		tm.Send(screenRequest{reply: reply})
		select {
		case s := <-reply:
			last = ansi.Strip(s)
		case <-time.After(time.Second):
		}
		for _, w := range want {
			if !strings.Contains(last, w) {
				return false
			}
		}
		return ok == nil || ok(last)
	}
	timedOut := func() string { return fmt.Sprintf("waited 5s for %q; the screen is:\n%s", want, last) }
	teatest.WaitFor(screenTB{t, timedOut}, tm.Output(), drawn, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	return last
}

// screenTB reports a WaitFor that timed out with the screen as drawn,
// not the renderer's raw bytes.
type screenTB struct {
	testing.TB
	why func() string
}

func (s screenTB) Fatal(...any) {
	s.TB.Helper()
	s.TB.Fatal(s.why())
}

// final quits with q and returns the model as the program left it (safe
// to read: the program has stopped).
func final(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	press(tm, "q")
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		tm.Send(tuitest.Key(k))
	}
}

// sizes are the terminals the goldens are drawn at.
var sizes = []struct{ w, h int }{{80, 24}, {160, 45}}

// The console at 80×24 and 160×45 as a new user walks it: every pane,
// the palette completing commands then an incident's id from the state,
// the help, then the help filtered. Each step presses keys, types text,
// and waits for want before comparing the screen with its golden.
func TestGoldenScreens(t *testing.T) {
	steps := []struct {
		name  string
		keys  []string
		typed string
		want  []string
	}{
		{name: "overview", keys: []string{"1"}, want: []string{"0.42    INC-7 TRIGGERED"}},
		{name: "alerts", keys: []string{"2"}, want: []string{"MatchesPerActiveUserDown"}},
		{name: "incidents", keys: []string{"3"}, want: []string{"step 2 secondary"}},
		{name: "oncall", keys: []string{"4"}, want: []string{"primary on-call"}},
		{name: "metrics", keys: []string{"5"}, want: []string{"PromQL"}},
		{name: "logs", keys: []string{"6"}, want: []string{"match candidates query timed out"}},
		{name: "palette", keys: []string{"1", ":"}, want: []string{"ID  one incident's detail", "tab complete"}},
		{name: "palette_incident", typed: "incident ", want: []string{"incident 7", "triggered · Matches per active user"}},
		{name: "help", keys: []string{"esc", "?"}, want: []string{"Help · ? or esc closes", "Everywhere", "Overview"}},
		{name: "help_filtered", typed: "silence", want: []string{"filter: silence", "silence the alert"}},
	}
	for _, size := range sizes {
		srv := newServer()
		srv.updates <- platform()
		tm := start(t, srv, size.w, size.h)
		for _, st := range steps {
			press(tm, st.keys...)
			tm.Type(st.typed)
			v := screen(t, tm, st.want...)
			tuitest.Size(t, v, size.w, size.h)
			tuitest.Golden(t, fmt.Sprintf("%s_%dx%d", st.name, size.w, size.h), v)
		}
	}
}

// When the server cannot be reached, the header says so in the alarm
// colour, since when and for how long, and every pane keeps the last state
// it had (the header dates it); before the server ever answered, nothing
// claims calm.
func TestGoldenUnreachable(t *testing.T) {
	for _, size := range sizes {
		srv := newServer()
		srv.updates <- platform()
		c := &clock{t: now}
		tm := start(t, srv, size.w, size.h, func(o *Options) { o.Now = c.Now })
		screen(t, tm, "1 firing", "0.42    INC-7 TRIGGERED")
		c.Set(now.Add(10 * time.Second))
		srv.breaks <- errors.New("dial tcp 127.0.0.1:7767: connect: connection refused")
		screen(t, tm, "STALE")
		c.Set(now.Add(2 * time.Minute))
		// The header dates the state kept, at every width: the short
		// wording where the long one would be cut.
		head := []string{"STALE · server unreachable since 10:05:10 (1m50s)", "showing its state of 10:05:00"}
		if size.w < 120 {
			head = []string{"STALE since 10:05:10 (1m50s) · state of 10:05:00"}
		}
		for i, want := range []string{"0.42    INC-7 TRIGGERED", "MatchesPerActiveUserDown", "step 2 secondary", "primary on-call"} {
			press(tm, fmt.Sprint(i+1))
			v := screen(t, tm, append(head, "why: dial tcp 127.0.0.1:7767", want)...)
			tuitest.Size(t, v, size.w, size.h)
			tuitest.Golden(t, fmt.Sprintf("stale_%s_%dx%d", []string{"overview", "alerts", "incidents", "oncall"}[i], size.w, size.h), v)
		}

		never := newServer()
		never.breaks <- errors.New("dial tcp 127.0.0.1:7767: connect: connection refused")
		tm = start(t, never, size.w, size.h)
		v := screen(t, tm, "SERVER UNREACHABLE since 10:05:00", "why: dial tcp 127.0.0.1:7767")
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("unreachable_%dx%d", size.w, size.h), v)
	}
}

// When the server goes away the console says so at the top, since when,
// keeps showing the last state marked stale, and reconnects resuming the
// logs after the last line it has.
func TestServerGoneAndBack(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	c := &clock{t: now}
	tm := start(t, srv, 120, 30, func(o *Options) {
		o.Now = c.Now
		o.Retry = func(int) time.Duration { return 0 }
	})
	screen(t, tm, "1 firing", "INC-7 triggered")
	c.Set(now.Add(10 * time.Second))
	srv.breaks <- errors.New("oncall server 127.0.0.1:7767: connection refused")
	v := screen(t, tm, "STALE · server unreachable since 10:05:10")
	for _, want := range []string{"showing its state of 10:05:00", "why: oncall server 127.0.0.1:7767: connection refused", "INC-7", "matchmaking"} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
	srv.updates <- state.Update{Logs: []logs.Entry{{Seq: 3, Time: now, Message: "back again"}}}
	press(tm, "6")
	screen(t, tm, "back again", "1 firing")
	streams, _, _, _ := srv.calls()
	if len(streams) < 2 || streams[0] != "after=0 backlog=10000" || streams[len(streams)-1] != "after=2 backlog=0" {
		t.Errorf("streams %v: the second should resume after line 2", streams)
	}
}

// Before the server ever answers, nothing claims calm.
func TestNeverConnected(t *testing.T) {
	srv := newServer()
	srv.breaks <- errors.New("dial tcp 127.0.0.1:7767: connection refused")
	tm := start(t, srv, 100, 20)
	v := screen(t, tm, "SERVER UNREACHABLE since", "connection refused")
	if strings.Contains(v, "Nothing firing") || strings.Contains(v, "No open incidents") || !strings.Contains(v, "Unknown: the server has not answered") {
		t.Errorf("calm claimed:\n%s", v)
	}
}

// a acknowledges, r asks then resolves, s silences: each reaches the
// server as the user; read-only does none of them.
func TestActionsReachTheServer(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm := start(t, srv, 140, 30)
	screen(t, tm, "INC-7")
	press(tm, "3", "a")
	done(t, tm, "INC-7 acknowledged")
	press(tm, "e", "y")
	done(t, tm, "INC-7 escalated")
	press(tm, "i")
	done(t, tm, "INC-7 has you as incident commander")
	press(tm, "n")
	screen(t, tm, "note on INC-7:")
	tm.Type("rolled back 4.2")
	press(tm, "enter")
	done(t, tm, "INC-7 noted")
	press(tm, "m")
	done(t, tm, "INC-7 mitigated")
	press(tm, "e", "n")
	screen(t, tm, "escalate cancelled")
	press(tm, "r", "y")
	done(t, tm, "INC-7 resolved")
	srv.mu.Lock()
	acts := slices.Clone(srv.acts)
	srv.mu.Unlock()
	if want := []string{`INC-7 escalate "" by tester`, `INC-7 assign "commander" by tester`, `INC-7 note "rolled back 4.2" by tester`, `INC-7 mitigate "" by tester`}; !slices.Equal(acts, want) {
		t.Errorf("acts %q, want %q", acts, want)
	}
	press(tm, "2", "j", "s", "enter")
	done(t, tm, "MatchesPerActiveUserDown silenced for 2h00m")
	_, acks, resolves, silences := srv.calls()
	if len(acks) != 1 || acks[0] != "INC-7 by tester" || len(resolves) != 1 || len(silences) != 1 || silences[0].EndsAt.Sub(silences[0].StartsAt) != 2*time.Hour ||
		silences[0].CreatedBy != "tester" || len(silences[0].Matchers) != 3 {
		t.Errorf("acks %v resolves %v silences %+v", acks, resolves, silences)
	}

	ro := newServer()
	ro.updates <- platform()
	tm = start(t, ro, 140, 30, func(o *Options) { o.ReadOnly = true })
	screen(t, tm, "INC-7", "read-only")
	press(tm, "3", "a")
	screen(t, tm, "read-only console")
	if _, acks, _, _ := ro.calls(); len(acks) != 0 {
		t.Errorf("read-only acknowledged: %v", acks)
	}
}

// The palette opens panes with their argument; esc goes back where the
// user came from; the help lists every pane's keys, filtered.
func TestPaletteHelpAndBack(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm := start(t, srv, 140, 35)
	screen(t, tm, "INC-7")
	press(tm, ":")
	tm.Type("incident 7")
	press(tm, "enter")
	screen(t, tm, "Incidents › INC-7", "Timeline")
	press(tm, "esc")
	screen(t, tm, "Incidents · 1 open")
	press(tm, "esc")
	screen(t, tm, "Overview ·")
	press(tm, ":")
	tm.Type("query up")
	press(tm, "enter")
	screen(t, tm, "Metrics › up", "0.42")
	press(tm, ":")
	tm.Type("logs level>=error")
	press(tm, "enter")
	v := screen(t, tm, "1 of 2 match")
	if strings.Contains(v, "request served") {
		t.Errorf(":logs filter:\n%s", v)
	}
	press(tm, "?")
	screen(t, tm, "Help", "Everywhere", "Logs", "Alerts", "Incidents")
	tm.Type("silence")
	v = screen(t, tm, "silence the alert")
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
	tm := start(t, srv, 140, 35)
	screen(t, tm, "INC-7")
	press(tm, ":")
	tm.Type("checklist matchmaking")
	press(tm, "enter")
	screen(t, tm, "Checklist › matchmaking › prod", "gold required (tier 1): FAIL", "on-call: nobody on call")
	press(tm, "esc")
	screen(t, tm, "Readiness · 1 run, 1 not at the level required", "alerts-a-human (fail)")
	qs := srv.asked()
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
	tm := start(t, srv, 160, 40)
	for _, k := range []string{"1", "2", "3", "4", "6"} {
		press(tm, k)
		v := screen(t, tm, "PWNED")
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
	var out countingWriter
	od := &onDemand{m: m, f: newFrames(&out, []string{"TERM=xterm-256color", "COLORTERM=truecolor"}, 160, 45)}
	od.Update(tea.WindowSizeMsg{Width: 160, Height: 45})
	for _, pane := range []int{1, 5} {
		m.focus = pane
		b.Run(m.panes[pane].Name(), func(b *testing.B) {
			keys := []tea.KeyPressMsg{tuitest.Key("j"), tuitest.Key("k"), tuitest.Key("E"), tuitest.Key("f")}
			var took []time.Duration
			i, before := 0, out.n
			for b.Loop() {
				// The key, the model, the view and the bytes on their way
				// to the terminal: nothing waits for a tick.
				start := time.Now()
				od.Update(keys[i%len(keys)])
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(out.n-before)/float64(i), "bytes/frame")
		})
	}
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// :review WEEK asks the Backend for that week's postmortem review and the
// review pane draws the answer.
func TestReviewThroughTheBackend(t *testing.T) {
	srv := newServer()
	srv.updates <- platform()
	tm := start(t, srv, 140, 30)
	screen(t, tm, "INC-7")
	press(tm, ":")
	tm.Type("review 2026-W53")
	press(tm, "enter")
	screen(t, tm, "Review › 2026-W53", "Postmortem review · 2026-W53 · Mon 28 Dec – Sun 3 Jan 2027", "Matches down")
	qs := srv.asked()
	if !slices.Contains(qs, "review 2026-W53") {
		t.Errorf("queries %q: the review was not asked of the backend", qs)
	}
}

// A walk through the console, run by teatest and judged on the model the
// program ends with: 2 j enter opens the alert's detail (the Backend is
// asked for its chart, value and history), esc closes it, :incident 7
// drills into INC-7 although INC-9 is the row selected, a acknowledges,
// q quits. The acknowledgement reaches the Backend for INC-7 as the user;
// read-only, it never does and the footer says why.
func TestWalkToAnAcknowledgement(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly bool
		status   string
		isErr    bool
		acks     []string
	}{
		{name: "read-write", status: "INC-7 acknowledged", acks: []string{"INC-7 by tester"}},
		{name: "read-only", readOnly: true, status: "read-only console: acting on incidents is off", isErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := platform()
			inc9 := incidents.Incident{ID: 9, Title: "Checkout slow", Service: "checkout", Severity: incidents.SEV3, Status: incidents.StatusTriggered, OpenedAt: now.Add(-time.Minute)}
			*u.Incidents = append([]incidents.Incident{inc9}, *u.Incidents...)
			srv := newServer()
			srv.updates <- u
			tm := start(t, srv, 160, 40, func(o *Options) { o.ReadOnly = tc.readOnly })
			screen(t, tm, "INC-9 triggered", "INC-7 triggered")
			press(tm, "2", "j", "enter")
			screen(t, tm, "Alerts › MatchesPerActiveUserDown")
			press(tm, "esc")
			screen(t, tm, "grouped as they notify")
			press(tm, ":")
			tm.Type("incident 7")
			press(tm, "enter")
			screen(t, tm, "Incidents › INC-7", "Timeline")
			press(tm, "a")
			screen(t, tm, " "+tc.status+" ") // not "…": the Backend has answered
			m := final(t, tm)

			if got := m.panes[m.focus].Name(); got != "incidents" {
				t.Errorf("focused pane %s, want incidents", got)
			}
			if got := m.panes[m.focus].Crumbs(); !slices.Equal(got, []string{"INC-7"}) {
				t.Errorf("crumbs %q, want [INC-7]", got)
			}
			if got := m.panes[1].Crumbs(); len(got) != 0 {
				t.Errorf("esc left the alert's detail open: %q", got)
			}
			if want := []int{1}; !slices.Equal(m.history, want) {
				t.Errorf("history %v, want %v: esc should return to the alerts", m.history, want)
			}
			if m.status != tc.status || m.statusErr != tc.isErr {
				t.Errorf("status %q (error %v), want %q (%v)", m.status, m.statusErr, tc.status, tc.isErr)
			}
			v := m.View()
			if content := ansi.Strip(v.Content); !strings.Contains(content, "Incidents › INC-7") || !strings.Contains(content, tc.status) {
				t.Errorf("final view:\n%s", content)
			}
			if v.WindowTitle != "oncall: 1 firing" {
				t.Errorf("title %q", v.WindowTitle)
			}
			if _, acks, _, _ := srv.calls(); !slices.Equal(acks, tc.acks) {
				t.Errorf("acks %q, want %q", acks, tc.acks)
			}
			qs := srv.asked()
			for _, want := range []string{"range matches_per_user", "instant matches_per_user < 0.5", "history MatchesPerActiveUserDown"} {
				if !slices.Contains(qs, want) {
					t.Errorf("the alert's detail did not ask %q: %q", want, qs)
				}
			}
		})
	}
}

// The terminal title counts what fires (not what is muted or pending),
// says when that count is the last known one, and never shows a count of
// a server that has not answered.
func TestWindowTitle(t *testing.T) {
	u := platform()
	muted := (*u.Alerts)[0]
	muted.Labels = labels.FromStrings("alertname", "Silenced", "service", "matchmaking")
	muted.Status.SilencedBy = []string{"s-1"}
	pending := (*u.Alerts)[0]
	pending.Labels = labels.FromStrings("alertname", "Soon", "service", "matchmaking")
	pending.Status.State = alerts.StatePending
	*u.Alerts = append(*u.Alerts, muted, pending)
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name   string
		events eventsMsg
		want   string
	}{
		{"connecting", nil, "oncall: connecting…"},
		{"connected", eventsMsg{{connected: true}, {update: &u}}, "oncall: 1 firing"},
		{"stale", eventsMsg{{connected: true}, {update: &u}, {err: down}}, "oncall: 1 firing (stale)"},
		{"never connected", eventsMsg{{err: down}}, "oncall: server unreachable"},
	} {
		m := New(Options{Backend: newServer(), Now: func() time.Time { return now }, Theme: theme.Dark})
		if tc.events != nil {
			m.Update(tc.events)
		}
		if got := m.View().WindowTitle; got != tc.want {
			t.Errorf("%s: title %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The light theme draws the same text as the dark one in its own colours
// (the firing red of each palette), on every pane; auto mode takes the
// terminal's answer about its background.
func TestThemes(t *testing.T) {
	u := platform()
	draw := func(mode theme.Mode, bg tea.Msg) []string {
		m := New(Options{Backend: newServer(), User: "tester", Now: func() time.Time { return now }, Theme: mode})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		if bg != nil {
			m.Update(bg)
		}
		m.Update(eventsMsg{{connected: true}, {update: &u}})
		var out []string
		for i := range m.panes {
			m.focus = i
			out = append(out, m.render())
		}
		return out
	}
	// The foreground of Firing in each palette (theme.New), as lipgloss
	// writes it.
	darkRed, lightRed := "38;2;255;95;95", "38;2;196;0;43"
	dark, light := draw(theme.Dark, nil), draw(theme.Light, nil)
	autoLight := draw(theme.Auto, tea.BackgroundColorMsg{Color: color.White})
	for i := range dark {
		if ansi.Strip(dark[i]) != ansi.Strip(light[i]) {
			t.Errorf("pane %d: the text differs between themes:\n%s\n---\n%s", i+1, ansi.Strip(dark[i]), ansi.Strip(light[i]))
		}
		if dark[i] == light[i] {
			t.Errorf("pane %d: light draws the dark colours", i+1)
		}
		if autoLight[i] != light[i] {
			t.Errorf("pane %d: auto on a white background is not the light theme", i+1)
		}
	}
	if !strings.Contains(dark[1], darkRed) || strings.Contains(dark[1], lightRed) || !strings.Contains(light[1], lightRed) || strings.Contains(light[1], darkRed) {
		t.Errorf("the alerts pane's firing red: dark %q, light %q", dark[1], light[1])
	}
}

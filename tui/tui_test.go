package tui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// updateGolden reports whether -update (defined by x/exp/golden, which
// teatest imports) asks to rewrite the golden files.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var now = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files show local times
	os.Exit(m.Run())
}

// fakeBackend is an in-memory server: it records acknowledgements and
// resolutions and applies them to its incidents.
type fakeBackend struct {
	mu        sync.Mutex
	incidents []incidents.Incident
	acks      []string
	logs      []logs.Entry
	silences  []silence.Silence
	ready     health.Report
	err       error
}

func newFake() *fakeBackend {
	opened := now.Add(-2 * time.Minute)
	return &fakeBackend{
		ready: health.Report{Ready: true, Role: "leader"},
		incidents: []incidents.Incident{{
			ID: 7, Title: "Matches per active user down more than 50% on matchmaking", Service: "matchmaking", Severity: "page",
			RunbookURL: "https://runbooks.example.com/matches", Status: incidents.StatusTriggered, OpenedAt: opened,
			Escalation: incidents.Escalation{Policy: "matchmaking", Step: 1, StepName: "secondary", Paged: []string{"bob"}, StepStartedAt: now.Add(-30 * time.Second), NextAt: now.Add(83 * time.Second)},
			Timeline:   []incidents.Event{{At: opened, Kind: "opened", Text: "opened"}, {At: opened, Kind: "escalation", Text: "step 1/4 primary on-call: paged alice"}, {At: now.Add(-30 * time.Second), Kind: "escalation", Text: "step 2/4 secondary: paged bob"}},
		}},
		logs: []logs.Entry{
			{Seq: 1, Time: now.Add(-3 * time.Second), Level: logs.LevelInfo, Service: "matchmaking", Message: "request served", TraceID: "aa11"},
			{Seq: 2, Time: now.Add(-2 * time.Second), Level: logs.LevelError, Service: "profile-db", Message: "match candidates query timed out", TraceID: "bb22"},
		},
	}
}

func (f *fakeBackend) Ready(context.Context) (health.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return health.Report{}, f.err
	}
	return f.ready, nil
}

func (f *fakeBackend) AddSilence(_ context.Context, sil silence.Silence) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sil.ID = fmt.Sprintf("s%d", len(f.silences)+1)
	f.silences = append(f.silences, sil)
	return sil.ID, nil
}

func (f *fakeBackend) Alerts(context.Context) ([]alerts.Alert, error) {
	as := f.alerts()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range as {
		for _, sil := range f.silences {
			if sil.Matches(as[i].Labels) {
				as[i].Status.SilencedBy = append(as[i].Status.SilencedBy, sil.ID)
			}
		}
	}
	return as, f.err
}

func (f *fakeBackend) alerts() []alerts.Alert {
	return []alerts.Alert{
		{Labels: labels.FromStrings("alertname", "HighErrorRatio", "service", "matchmaking", "severity", "page"), Status: alerts.Status{State: alerts.StateFiring},
			Annotations: labels.FromStrings("summary", "5xx ratio 12% on matchmaking"), StartsAt: now.Add(-150 * time.Second)},
		{Labels: labels.FromStrings("alertname", "SlowRequests", "service", "matchmaking", "severity", "ticket"), Status: alerts.Status{State: alerts.StatePending},
			Annotations: labels.FromStrings("summary", "p99 latency 1.4s on matchmaking"), StartsAt: now.Add(-10 * time.Second)},
	}
}

func (f *fakeBackend) Incidents(context.Context) ([]incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]incidents.Incident(nil), f.incidents...), f.err
}

func (f *fakeBackend) OnCall(context.Context) ([]oncall.Assignment, error) {
	until := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	return []oncall.Assignment{
		{Policy: "matchmaking", Step: 0, StepName: "primary on-call", Users: []string{"alice"}, AckTimeout: 45 * time.Second, Until: until},
		{Policy: "matchmaking", Step: 1, StepName: "secondary", Users: []string{"bob"}, AckTimeout: 45 * time.Second, Until: until},
		{Policy: "matchmaking", Step: 2, StepName: "team manager", Users: []string{"dana"}, AckTimeout: time.Minute},
		{Policy: "matchmaking", Step: 3, StepName: "incident commander", Users: []string{"riley"}, AckTimeout: 90 * time.Second},
	}, nil
}

func (f *fakeBackend) Pages(context.Context, int) ([]incidents.Page, error) {
	return []incidents.Page{
		{Target: "bob", StepName: "secondary", CreatedAt: now.Add(-30 * time.Second), SentAt: now.Add(-30 * time.Second)},
		{Target: "alice", StepName: "primary on-call", CreatedAt: now.Add(-2 * time.Minute), SentAt: now.Add(-2 * time.Minute)},
	}, nil
}

func (f *fakeBackend) TailLogs(_ context.Context, after uint64, limit int) ([]logs.Entry, error) {
	var out []logs.Entry
	for _, e := range f.logs {
		if e.Seq > after {
			out = append(out, e)
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

func (f *fakeBackend) Ack(_ context.Context, id int64, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, "ack "+by)
	for i := range f.incidents {
		if f.incidents[i].ID == id {
			f.incidents[i].Status, f.incidents[i].AckedBy, f.incidents[i].AckedAt = incidents.StatusAcknowledged, by, now
			return nil
		}
	}
	return errors.New("no such incident")
}

func (f *fakeBackend) Resolve(_ context.Context, id int64, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, "resolve "+by)
	f.incidents = nil
	return nil
}

func (f *fakeBackend) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

// loaded returns a model that has received one snapshot at size w×h.
func loaded(t testing.TB, b Backend, w, h int) *Model {
	t.Helper()
	m := New(Options{Backend: b, User: "carol", Now: func() time.Time { return now }, Title: "oncall test"})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(m.refresh()())
	m.Update(m.fetchLogs()())
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "space":
			msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
		default:
			msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
		}
		_, cmd := m.Update(msg)
		// Run the commands the key caused (an action, then its refresh),
		// stopping at the snapshot: its follow-up is a timer tick.
		for cmd != nil {
			out := cmd()
			if _, quit := out.(tea.QuitMsg); quit || out == nil {
				break
			}
			_, cmd = m.Update(out)
			switch out.(type) {
			case snapshotMsg, logsMsg:
				cmd = nil // what follows is a timer tick
			}
		}
	}
}

func screen(m *Model) string { return ansi.Strip(m.View().Content) }

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		name := filepath.Join("testdata", "screen_"+strconv.Itoa(size.w)+"x"+strconv.Itoa(size.h)+".golden")
		got := screen(loaded(t, newFake(), size.w, size.h))
		for i, line := range strings.Split(got, "\n") {
			if w := ansi.StringWidth(line); w > size.w {
				t.Errorf("%s: line %d is %d wide: %q", name, i, w, line)
			}
		}
		if n := strings.Count(got, "\n") + 1; n != size.h {
			t.Errorf("%s: %d lines, want %d", name, n, size.h)
		}
		if updateGolden() {
			os.WriteFile(name, []byte(got), 0o644)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs (run with -update to accept):\n%s", name, got)
		}
	}
}

func TestScreenShowsEscalationAndCountdown(t *testing.T) {
	s := screen(loaded(t, newFake(), 140, 40))
	for _, want := range []string{
		"INC-7", "TRIGGERED", "step 2 secondary: bob", "escalates in 1m23s",
		"https://runbooks.example.com/matches", "1 primary on-call", "alice", "4 incident commander",
		"FIRING", "pending", "match candidates query timed out", "1 firing · 1 pending",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

func TestAcknowledgeSelectedIncident(t *testing.T) {
	b := newFake()
	m := loaded(t, b, 120, 40)
	press(m, "a")
	if got := b.calls(); len(got) != 1 || got[0] != "ack carol" {
		t.Fatalf("backend calls = %v", got)
	}
	if s := screen(m); !strings.Contains(s, "acked by carol") || !strings.Contains(s, "INC-7 acknowledged") {
		t.Errorf("screen after ack:\n%s", s)
	}
}

func TestResolveAsksFirst(t *testing.T) {
	b := newFake()
	m := loaded(t, b, 120, 40)
	press(m, "r")
	if len(b.calls()) != 0 || !strings.Contains(screen(m), "resolve INC-7") {
		t.Fatalf("resolve did not ask: %v", b.calls())
	}
	press(m, "n")
	if len(b.calls()) != 0 || !strings.Contains(screen(m), "resolve cancelled") {
		t.Fatalf("n did not cancel: %v", b.calls())
	}
	press(m, "r", "y")
	if got := b.calls(); len(got) != 1 || got[0] != "resolve carol" {
		t.Fatalf("calls = %v", got)
	}
	if !strings.Contains(screen(m), "No open incidents") {
		t.Errorf("screen after resolve:\n%s", screen(m))
	}
}

func TestSilenceSelectedAlert(t *testing.T) {
	b := newFake()
	m := loaded(t, b, 120, 40)
	press(m, "tab", "s")
	if !strings.Contains(screen(m), "silence HighErrorRatio") || !strings.Contains(screen(m), "for: 2h") {
		t.Fatalf("no prompt:\n%s", screen(m))
	}
	press(m, "esc")
	if len(b.silences) != 0 || !strings.Contains(screen(m), "silence cancelled") {
		t.Fatalf("esc did not cancel: %+v", b.silences)
	}
	press(m, "s", "backspace", "backspace", "9", "x", "enter")
	if len(b.silences) != 0 || !strings.Contains(screen(m), "not a duration") {
		t.Fatalf("a bad duration was accepted: %+v\n%s", b.silences, screen(m))
	}
	press(m, "0", "m", "enter")
	if len(b.silences) != 1 {
		t.Fatalf("silences %+v", b.silences)
	}
	sil := b.silences[0]
	if sil.EndsAt.Sub(sil.StartsAt) != 90*time.Minute || sil.CreatedBy != "carol" || len(sil.Matchers) != 3 ||
		sil.Matchers.String() != `{alertname="HighErrorRatio",service="matchmaking",severity="page"}` {
		t.Errorf("silence %+v", sil)
	}
	s := screen(m)
	if !strings.Contains(s, "HighErrorRatio silenced for 1h30m") || !strings.Contains(s, "silenced  page") ||
		!strings.Contains(s, "0 firing · 1 muted · 1 pending") || !strings.Contains(s, "Alerts (0 firing, 1 muted, 1 pending)") {
		t.Errorf("screen after silencing:\n%s", s)
	}
}

func TestHelpAndFocus(t *testing.T) {
	m := loaded(t, newFake(), 120, 40)
	press(m, "?")
	s := screen(m)
	for _, want := range []string{"Help", "acknowledge the selected incident", "scroll up (pauses follow)"} {
		if !strings.Contains(s, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	press(m, "?", "tab", "tab", "tab", "tab", "k")
	if !strings.Contains(screen(m), "Logs (paused at 1/2)") {
		t.Errorf("k in the focused log pane should pause follow:\n%s", screen(m))
	}
}

func TestBackendErrorIsShownNotFatal(t *testing.T) {
	b := newFake()
	b.err = errors.New("connection refused")
	s := screen(loaded(t, b, 120, 40))
	if !strings.Contains(s, "backend: connection refused") {
		t.Errorf("error not shown:\n%s", s)
	}
}

func TestLogsPaneIsBounded(t *testing.T) {
	p := newLogsPane(defaultTheme())
	for i := range 3 {
		batch := make([]logs.Entry, maxLogLines)
		for j := range batch {
			batch[j] = logs.Entry{Seq: uint64(i*maxLogLines + j + 1)}
		}
		p.add(batch)
	}
	if len(p.lines) != maxLogLines || p.lastSeq != 3*maxLogLines || p.lines[0].Seq != 2*maxLogLines+1 {
		t.Fatalf("len %d last %d first %d", len(p.lines), p.lastSeq, p.lines[0].Seq)
	}
}

// The whole program, as teatest runs it: wait for the incident, press a,
// see it acknowledged, quit.
func TestProgramFlow(t *testing.T) {
	b := newFake()
	m := New(Options{Backend: b, User: "carol", Now: func() time.Time { return now }, Refresh: 20 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "INC-7") }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyPressMsg{Code: 'a', Text: "a"})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "acked by carol") }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if got := b.calls(); len(got) != 1 || got[0] != "ack carol" {
		t.Fatalf("backend calls = %v", got)
	}
	if s := ansi.Strip(final.View().Content); !strings.Contains(s, "acknowledged") {
		t.Errorf("final view:\n%s", s)
	}
}

func TestLogFilterAsYouType(t *testing.T) {
	b := newFake()
	b.logs = append(b.logs,
		logs.Entry{Seq: 3, Time: now.Add(-time.Second), Level: logs.LevelWarn, Service: "matchmaking", Message: "slow request", Fields: map[string]string{"status": "200"}},
		logs.Entry{Seq: 7, Time: now, Level: logs.LevelError, Service: "matchmaking", Message: "request failed", Fields: map[string]string{"status": "503"}})
	m := loaded(t, b, 140, 40)
	if s := screen(m); !strings.Contains(s, "3 dropped") {
		t.Errorf("sequence gap 4..6 should show as 3 dropped:\n%s", s)
	}
	press(m, "/", "l", "e", "v", "e", "l", ">", "=", "w")
	if s := screen(m); !strings.Contains(s, `filter "level>=w": 3 of 4`) {
		t.Errorf("a half-typed level is an error, the last good filter stays:\n%s", s)
	}
	press(m, "a", "r", "n")
	if s := screen(m); !strings.Contains(s, `filter "level>=warn": 3 of 4`) || strings.Contains(s, "request served") {
		t.Errorf("filter not applied while typing:\n%s", s)
	}
	if len(b.calls()) != 0 {
		t.Fatalf("keys typed into the filter reached the backend: %v", b.calls())
	}
	press(m, "enter", "E")
	if s := screen(m); !strings.Contains(s, "paused at 3/3") {
		t.Errorf("E should select the last error:\n%s", s)
	}
	press(m, "E")
	if s := screen(m); !strings.Contains(s, "paused at 1/3") {
		t.Errorf("E again should select the previous error:\n%s", s)
	}
	press(m, "w")
	if s := screen(m); !strings.Contains(s, "paused at 2/3") {
		t.Errorf("w should select the next warning:\n%s", s)
	}
	press(m, "/", "esc")
	if s := screen(m); strings.Contains(s, `filter "`) || !strings.Contains(s, "request served") {
		t.Errorf("esc should clear the filter:\n%s", s)
	}
}

// BenchmarkLogPaneFollow feeds the log pane 5,000 lines per batch — a
// writer at 50,000 lines/s polled every 100ms — and renders a frame each
// time: one batch must take well under 33ms for 30 frames/s.
func BenchmarkLogPaneFollow(b *testing.B) {
	m := loaded(b, newFake(), 160, 48)
	batch := make([]logs.Entry, 5000)
	seq := uint64(100)
	for b.Loop() {
		for i := range batch {
			seq++
			batch[i] = logs.Entry{Seq: seq, Time: now, Level: logs.Level(1 + seq%6), Service: "matchmaking", Message: "request served path=/v1/matches", Fields: map[string]string{"status": "200"}}
		}
		m.Update(logsMsg{entries: batch})
		_ = m.View()
	}
}

// An outage of the monitoring must not look like a quiet night: before
// the server ever answered the panes claim nothing, after it stopped
// answering the last answer stays with its age, and a server that cannot
// see says so.
func TestConsoleIsHonestUnderFailure(t *testing.T) {
	b := newFake()
	b.err = errors.New("dial tcp 127.0.0.1:7767: connection refused")
	s := screen(loaded(t, b, 120, 40))
	for _, want := range []string{"SERVER UNREACHABLE:", "dial tcp 127.0.0.1:7767: connection refused", "Unknown: the server has not answered."} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "No open incidents") || strings.Contains(s, "Nothing firing") {
		t.Errorf("claims calm while blind:\n%s", s)
	}

	b.err = nil
	m := loaded(t, b, 120, 40)
	b.err = errors.New("connection refused")
	m.Update(m.refresh()())
	s = screen(m)
	if !strings.Contains(s, "STALE since 10:05:00") || !strings.Contains(s, "INC-7") {
		t.Errorf("after the server went away the last answer should stay, marked stale:\n%s", s)
	}

	b.err = nil
	b.ready = health.Report{Role: "leader", Checks: []health.Check{{Name: "rules", Reason: "connection refused"}, {Name: "store", OK: true}}}
	m.Update(m.refresh()())
	if s := screen(m); !strings.Contains(s, "BLIND: rules: connection refused") {
		t.Errorf("a server that cannot see should say so:\n%s", s)
	}
}

package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const amYAML = `
route:
  receiver: default
  group_by: [service]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: [severity="page"]
      receiver: pager
    - matchers: [severity="hook"]
      receiver: hook
inhibit_rules:
  - source_matchers: [severity="page"]
    target_matchers: [severity="hook"]
    equal: [service]
receivers:
  - name: default
  - name: pager
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:1/hook", send_resolved: true}]
`

// outbox records what the relay delivered.
type outbox struct {
	mu  sync.Mutex
	got []notify.Message
	err error
}

func (o *outbox) Deliver(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.got = append(o.got, m)
	return nil
}

func (o *outbox) route(m notify.Message) (notify.Deliverer, string, error) { return o, "test", nil }

// pages lists "target" of delivered pages, in order.
func (o *outbox) pages() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.got {
		if m.Kind == notify.KindPage {
			out = append(out, m.Page.Target)
		}
	}
	return out
}

// notes lists "receiver status alertnames" of delivered notifications.
func (o *outbox) notes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.got {
		if n := m.Notification; n != nil {
			var names []string
			for _, a := range n.Alerts {
				s := a.Name()
				if a.ResolvedAt(n.At) {
					s += "(resolved)"
				}
				names = append(names, s)
			}
			out = append(out, n.Receiver+" "+n.Status()+" "+strings.Join(names, ","))
		}
	}
	return out
}

// source answers every query with the current vector.
type source struct {
	mu  sync.Mutex
	vec metrics.Vector
}

func (s *source) set(v metrics.Vector) { s.mu.Lock(); s.vec = v; s.mu.Unlock() }
func (s *source) Instant(context.Context, string, time.Time) (metrics.Vector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vec, nil
}

func directory() incidents.Settings {
	sched := schedule.Schedule{Name: "platform", Users: []string{"alice", "bob"}, Start: schedule.At(time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC))}
	return incidents.Settings{People: schedule.Directory{
		Users:     map[string]schedule.User{"alice": {Name: "alice"}, "bob": {Name: "bob"}, "riley": {Name: "riley"}},
		Schedules: map[string]schedule.Schedule{"platform": sched},
		Policies: map[string]schedule.Policy{"default": {Name: "default", Steps: []schedule.Step{
			{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "platform"}}, Delay: time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{Schedule: "platform", Offset: 1}}, Delay: time.Minute},
			{Name: "incident commander", Targets: []schedule.Target{{User: "riley"}}, Delay: time.Minute},
		}}},
	}}
}

type harness struct {
	t     *testing.T
	st    store.Store
	p     *Pipeline
	out   *outbox
	src   *source
	relay *notify.Relay
	path  string
}

func newHarness(t *testing.T, path string, mod func(*Options)) *harness {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "oncall.db")
	}
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := routing.Parse("am.yml", []byte(amYAML))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, out: &outbox{}, src: &source{}, path: path}
	rulesFile := filepath.Join(t.TempDir(), "rules.yml")
	os.WriteFile(rulesFile, []byte(`groups:
  - name: matchmaking
    rules:
      - alert: MatchesDown
        expr: ratio < 0.5
        for: 20s
        labels: {severity: page}
        annotations: {summary: matches per active user down, runbook_url: "https://runbooks/matches"}
      - alert: ErrorsUp
        expr: ratio > 0.1
        for: 20s
        labels: {severity: page}
`), 0o600)
	eng, err := alerts.NewEngine(alerts.EngineOptions{Files: []string{rulesFile}, Interval: 10 * time.Second, Query: alerts.SourceQuery(h.src)})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Routing: cfg, Store: st, Incidents: directory(), Route: h.out.route,
		Receivers: []Receiver{{Name: "pager", Policy: "default"}, {Name: "default", Console: true}},
		Rules:     eng, EvaluationInterval: 10 * time.Second,
	}
	if mod != nil {
		mod(&opts)
		if opts.Rules == Evaluator(eng) && opts.EvaluationInterval != 10*time.Second {
			// The rules' interval follows the one the test set.
			if eng, err = alerts.NewEngine(alerts.EngineOptions{Files: []string{rulesFile}, Interval: opts.EvaluationInterval, Query: alerts.SourceQuery(h.src)}); err != nil {
				t.Fatal(err)
			}
			opts.Rules = eng
		}
	}
	if h.p, err = New(opts); err != nil {
		t.Fatal(err)
	}
	h.relay = notify.NewRelay(st, h.out.route, nil)
	return h
}

// at runs one cycle at t0+d: rules (when eval), the pipeline, the relay.
func (h *harness) at(d time.Duration, eval bool) {
	h.t.Helper()
	now := t0.Add(d)
	ctx := context.Background()
	if err := h.p.Step(ctx, now); err != nil {
		h.t.Fatalf("t+%v: %v", d, err)
	}
	if eval {
		h.p.evaluate(ctx, now)
		if err := h.p.Step(ctx, now); err != nil {
			h.t.Fatalf("t+%v: %v", d, err)
		}
	}
	if _, err := h.relay.Pass(ctx, now); err != nil {
		h.t.Fatalf("t+%v: relay: %v", d, err)
	}
}

var firingVec = metrics.Vector{{Labels: labels.FromStrings("__name__", "ratio", "service", "matchmaking"), Value: 0.2}}

func TestPagesOncePerGroupAndEscalates(t *testing.T) {
	h := newHarness(t, "", nil)
	h.at(0, true)
	h.src.set(firingVec) // both rules match: one problem, one group
	for d := 10 * time.Second; d <= 50*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.out.pages(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("after firing: pages to %v, want [alice]", got)
	}
	open, _ := h.st.Incidents(context.Background(), store.IncidentFilter{OpenOnly: true})
	if len(open) != 1 || open[0].AlertsFiring != 2 || open[0].RunbookURL != "https://runbooks/matches" {
		t.Fatalf("open incidents: %+v", open)
	}
	// Alice was paged at t+30s; her ack timeout is a minute.
	h.at(80*time.Second, false)
	if got := h.out.pages(); len(got) != 1 {
		t.Fatalf("escalated early: %v", got)
	}
	h.at(90*time.Second, false)
	if got := h.out.pages(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("pages %v, want alice then bob", got)
	}
	// Acknowledged through the store (as the API does): no more pages.
	if _, err := incidents.Acknowledge(context.Background(), store.Incidents(h.st), directory(), open[0].ID, incidents.Actor{Name: "bob"}, t0.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	for d := 110 * time.Second; d < 5*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.out.pages(); len(got) != 2 {
		t.Fatalf("paged after the acknowledgement: %v", got)
	}
	// The rules resolve: the incident, acknowledged, stays open with a note.
	h.src.set(nil)
	for d := 5 * time.Minute; d < 7*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	inc, _ := h.st.Incident(context.Background(), open[0].ID)
	if inc.Status != incidents.StatusAcknowledged || !strings.Contains(inc.Timeline[len(inc.Timeline)-1].Text, "every alert of the group resolved") {
		t.Errorf("incident after resolution: %+v", inc)
	}
}

// With repeat: 0 the last step pages again every ack timeout, and every
// one of those pages is delivered.
func TestLastStepRepagesAreAllDelivered(t *testing.T) {
	h := newHarness(t, "", nil)
	h.src.set(firingVec)
	for d := time.Duration(0); d <= 6*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	got := h.out.pages()
	want := []string{"alice", "bob", "riley", "riley", "riley"}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("pages %v, want %v…", got, want)
	}
	keys := map[string]bool{}
	for _, m := range h.out.got {
		if keys[m.Key] {
			t.Fatalf("page key %s delivered twice", m.Key)
		}
		keys[m.Key] = true
		if !strings.HasPrefix(m.Key, h.st.Identity()+"/") {
			t.Errorf("key %s lacks the store identity", m.Key)
		}
	}
}

func alert(now time.Time, kv ...string) alerts.Alert {
	return alerts.Alert{Labels: labels.FromStrings(kv...), StartsAt: now, EndsAt: now.Add(5 * time.Minute), UpdatedAt: now}
}

func TestSilencesAndInhibition(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil })
	ctx := context.Background()
	h.at(0, false)
	m, _ := amlabels.NewMatcher(amlabels.MatchEqual, "service", "quiet")
	ss := silence.New(h.st, func() time.Time { return t0 })
	if _, err := ss.Set(ctx, silence.Silence{Matchers: amlabels.Matchers{m}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ana", Comment: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	h.p.SilencesChanged()
	now := t0.Add(time.Second)
	// The hook alert on api is inhibited by a paging alert on api; the one
	// on quiet is silenced; the one on db goes out.
	h.p.Put(now, []alerts.Alert{
		alert(now, "alertname", "Slow", "severity", "hook", "service", "api"),
		alert(now, "alertname", "Slow", "severity", "hook", "service", "quiet"),
		alert(now, "alertname", "Slow", "severity", "hook", "service", "db"),
		alert(now, "alertname", "Down", "severity", "page", "service", "api"),
	})
	h.at(2*time.Second, false)
	if got := h.out.notes(); !slices.Equal(got, []string{"hook firing Slow"}) {
		t.Fatalf("notifications %v, want only the db one", got)
	}
	as, err := h.p.Alerts(ctx, t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]alerts.Status{}
	for _, a := range as {
		status[a.Labels.Get("service")+"/"+a.Name()] = a.Status
	}
	if s := status["quiet/Slow"]; len(s.SilencedBy) != 1 || !s.Suppressed() {
		t.Errorf("quiet/Slow should be silenced: %+v", s)
	}
	if s := status["api/Slow"]; len(s.InhibitedBy) != 1 {
		t.Errorf("api/Slow should be inhibited: %+v", s)
	}
	if s := status["db/Slow"]; s.Suppressed() || s.State != alerts.StateFiring || !slices.Equal(s.Receivers, []string{"hook"}) {
		t.Errorf("db/Slow: %+v", s)
	}
	// The page resolves: the inhibited alert on api is news at the next flush.
	later := t0.Add(30 * time.Second)
	down := alert(t0, "alertname", "Down", "severity", "page", "service", "api")
	down.EndsAt, down.UpdatedAt = later, later
	h.p.Put(later, []alerts.Alert{down})
	h.at(62*time.Second, false)
	if got := h.out.notes(); !slices.Equal(got, []string{"hook firing Slow", "hook firing Slow"}) {
		t.Errorf("after the inhibition ends: %v", got)
	}
}

func TestAlertLimitRaisesOneSummaryAlert(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil; o.MaxAlerts = 10 })
	h.at(0, false)
	now := t0.Add(time.Second)
	var storm []alerts.Alert
	for i := range 1000 {
		storm = append(storm, alert(now, "alertname", fmt.Sprint("Storm", i%3), "instance", fmt.Sprint(i), "service", "db"))
	}
	if refused := h.p.Put(now, storm); refused != 990 {
		t.Fatalf("refused %d, want 990", refused)
	}
	h.at(2*time.Second, false)
	as, _ := h.p.Alerts(context.Background(), t0.Add(2*time.Second))
	var limit *alerts.Alert
	for i := range as {
		if as[i].Name() == LimitAlertName {
			limit = &as[i]
		}
	}
	if len(as) != 11 || limit == nil || !strings.Contains(limit.Annotations.Get("summary"), "refused 990 alerts") {
		t.Fatalf("%d alerts held, limit alert %+v", len(as), limit)
	}
	// One notification for the storm's group (its ten alerts), one for the
	// summary.
	if got := h.out.notes(); len(got) != 2 || strings.Count(got[0], ",") != 9 || got[1] != "default firing "+LimitAlertName {
		t.Errorf("notifications %v", got)
	}
}

// Two processes on one store: one leads, the other stands by and takes over
// when the leader goes away, with the alerts and the incident intact.
func TestLeaseFailover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	a := newHarness(t, path, func(o *Options) { o.Rules = nil })
	b := newHarness(t, path, func(o *Options) { o.Rules = nil })
	ctx := context.Background()
	a.at(0, false)
	b.at(time.Second, false)
	if !a.p.Leader() || b.p.Leader() {
		t.Fatalf("leaders: a %v, b %v", a.p.Leader(), b.p.Leader())
	}
	// Alerts posted to the standby only reach the store, and the leader
	// takes them from there and pages for them.
	now := t0.Add(2 * time.Second)
	b.p.Put(now, []alerts.Alert{alert(now, "alertname", "Down", "severity", "page", "service", "api")})
	b.at(3*time.Second, false)
	if as, _ := b.p.Alerts(ctx, now); len(as) != 1 {
		t.Fatalf("standby lists %d alerts from the store", len(as))
	}
	a.at(4*time.Second, false)
	if as, _ := a.p.Alerts(ctx, t0.Add(4*time.Second)); len(as) != 0 {
		t.Fatalf("the leader has the alert before its pull is due: %d", len(as))
	}
	a.at(5*time.Second, false)
	if as, _ := a.p.Alerts(ctx, t0.Add(5*time.Second)); len(as) != 1 {
		t.Fatalf("the leader lists %d of the standby's alerts", len(as))
	}
	a.at(5*time.Second, false)
	if got := a.out.pages(); len(got) != 1 {
		t.Fatalf("leader pages %v", got)
	}
	// The leader dies without releasing its lease; the standby waits it out.
	b.at(10*time.Second, false)
	if b.p.Leader() {
		t.Fatal("the standby took a running lease")
	}
	b.at(25*time.Second, false)
	if !b.p.Leader() {
		t.Fatal("the standby did not take the expired lease")
	}
	// It carries on the escalation without paging alice again.
	b.at(70*time.Second, false)
	if got := b.out.pages(); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("new leader paged %v, want only the escalation to bob", got)
	}
}

// A lease left by a process of this machine that died is taken at once.
func TestTakesOverTheLeaseOfADeadProcess(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil })
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	dead := fmt.Sprintf("%s/%d/x", host, cmd.Process.Pid)
	ctx := context.Background()
	if ok, err := h.st.AcquireLease(ctx, "pipeline", dead, time.Hour, t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	alive := fmt.Sprintf("%s/%d/y", host, os.Getppid())
	h.at(0, false)
	if !h.p.Leader() {
		t.Fatal("the lease of a dead process was not taken")
	}
	h.p.stepDown(ctx)
	if ok, err := h.st.AcquireLease(ctx, "pipeline", alive, time.Hour, t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	h.at(time.Second, false)
	if h.p.Leader() {
		t.Fatal("the lease of a live process was taken")
	}
}

// Receiving an alert again merges it with the one held when their active
// ranges overlap, as Alertmanager does, and replaces it otherwise.
func TestReceivedAgain(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil })
	h.at(0, false)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	put := func(start, end, received time.Time, timeout bool) alerts.Alert {
		h.p.Put(received, []alerts.Alert{{Labels: labels.FromStrings("alertname", "A"), StartsAt: start, EndsAt: end, UpdatedAt: received, Timeout: timeout}})
		as, _ := h.p.Alerts(context.Background(), received)
		return as[0]
	}
	put(at(0), at(10), at(0), false)
	// An end inside the held range: merged, the earliest start and the
	// later explicit end kept.
	if a := put(at(-5), at(8), at(1), false); !a.StartsAt.Equal(at(-5)) || !a.EndsAt.Equal(at(10)) {
		t.Errorf("overlapping: %v…%v", a.StartsAt, a.EndsAt)
	}
	// A start inside the range: merged too.
	if a := put(at(2), at(6), at(2), true); !a.StartsAt.Equal(at(-5)) || !a.EndsAt.Equal(at(10)) {
		t.Errorf("start inside: %v…%v", a.StartsAt, a.EndsAt)
	}
	// The same start, a later end (every resend of a Prometheus): replaced.
	if a := put(at(-5), at(14), at(4), false); !a.StartsAt.Equal(at(-5)) || !a.EndsAt.Equal(at(14)) {
		t.Errorf("resend: %v…%v", a.StartsAt, a.EndsAt)
	}
	// Fired again after it resolved: a new alert, new start.
	if a := put(at(20), at(30), at(20), false); !a.StartsAt.Equal(at(20)) || !a.EndsAt.Equal(at(30)) {
		t.Errorf("fired again: %v…%v", a.StartsAt, a.EndsAt)
	}
}

// The notification log and the group schedules survive a restart: the new
// process neither repeats a notification nor loses the next one.
func TestRestartNeitherRepeatsNorLoses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	first := newHarness(t, path, func(o *Options) { o.Rules = nil })
	first.at(0, false)
	now := t0.Add(time.Second)
	slow := alert(now, "alertname", "Slow", "severity", "hook", "service", "db")
	slow.EndsAt = now.Add(time.Hour)
	first.p.Put(now, []alerts.Alert{slow})
	first.at(2*time.Second, false)
	if got := first.out.notes(); len(got) != 1 {
		t.Fatalf("before the restart: %v", got)
	}
	first.p.stepDown(context.Background())

	second := newHarness(t, path, func(o *Options) { o.Rules = nil })
	for d := 3 * time.Second; d < 3*time.Minute; d += 10 * time.Second {
		second.at(d, false)
	}
	if got := second.out.notes(); len(got) != 0 {
		t.Fatalf("repeated after the restart: %v", got)
	}
	resolved := slow
	resolved.EndsAt, resolved.UpdatedAt = t0.Add(3*time.Minute), t0.Add(3*time.Minute)
	second.p.Put(t0.Add(3*time.Minute), []alerts.Alert{resolved})
	second.at(4*time.Minute, false)
	if got := second.out.notes(); !slices.Equal(got, []string{"hook resolved Slow(resolved)"}) {
		t.Fatalf("the resolution after the restart: %v", got)
	}
}

// An HA pair of Prometheus servers sends every alert twice, once per
// replica label value: with the label configured, it is one alert.
func TestReplicaLabelsMakeOneAlert(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil; o.ReplicaLabels = []string{"replica"} })
	h.at(0, false)
	now := t0.Add(time.Second)
	h.p.Put(now, []alerts.Alert{
		alert(now, "alertname", "Down", "severity", "page", "service", "api", "replica", "a"),
		alert(now, "alertname", "Down", "severity", "page", "service", "api", "replica", "b"),
	})
	h.at(2*time.Second, false)
	as, _ := h.p.Alerts(context.Background(), now)
	if len(as) != 1 || as[0].Labels.Has("replica") {
		t.Fatalf("alerts %v", as)
	}
	if got := h.out.pages(); len(got) != 1 {
		t.Errorf("pages %v, want one", got)
	}
}

// A route inside its mute_time_intervals, or outside its
// active_time_intervals, notifies nobody; outside, it does.
func TestTimeIntervals(t *testing.T) {
	cfg, err := routing.Parse("am.yml", []byte(`
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
  routes:
    - matchers: [team=ops]
      receiver: hook
      mute_time_intervals: [monday-morning]
    - matchers: [team=dev]
      receiver: hook
      active_time_intervals: [monday-morning]
time_intervals:
  - name: monday-morning
    time_intervals: [{weekdays: [monday], times: [{start_time: "09:00", end_time: "12:00"}]}]
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:1/hook"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "", func(o *Options) { o.Rules = nil; o.Routing = cfg; o.Receivers = nil })
	h.at(0, false) // t0 is a Monday, 10:00
	now := t0.Add(time.Second)
	h.p.Put(now, []alerts.Alert{alert(now, "alertname", "Ops", "team", "ops"), alert(now, "alertname", "Dev", "team", "dev")})
	h.at(2*time.Second, false)
	if got := h.out.notes(); !slices.Equal(got, []string{"hook firing Dev"}) {
		t.Fatalf("on Monday morning: %v, want only the active-time route", got)
	}
	// At noon the mute ends for ops; the active time ends for dev.
	later := t0.Add(2 * time.Hour)
	h.p.Put(later, []alerts.Alert{alert(later, "alertname", "Ops", "team", "ops"), alert(later, "alertname", "Dev", "team", "dev")})
	h.at(2*time.Hour+time.Minute, false)
	if got := h.out.notes(); !slices.Equal(got, []string{"hook firing Dev", "hook firing Ops"}) {
		t.Fatalf("at noon: %v", got)
	}
}

// While a readiness check fails for more than a minute, oncall raises an
// alert about itself through its own routing; it resolves when the check
// passes again.
func TestWatchdogAlertsWhenBlind(t *testing.T) {
	var metricsOK atomic.Bool
	h := newHarness(t, "", func(o *Options) {
		o.Rules = nil
		o.Checks = func(context.Context, time.Time) []health.Check {
			if metricsOK.Load() {
				return []health.Check{{Name: "metrics", OK: true, Reason: "ok"}}
			}
			return []health.Check{{Name: "metrics", Reason: `prometheus "http://admin:pw@prom:9090" unreachable`}}
		}
	})
	h.at(0, false)
	h.at(30*time.Second, false)
	if len(h.out.notes()) != 0 {
		t.Fatalf("one failed check is not news: %v", h.out.notes())
	}
	h.at(61*time.Second, false)
	as, _ := h.p.Alerts(context.Background(), t0.Add(61*time.Second))
	if len(as) != 1 || as[0].Name() != NotReadyAlertName || as[0].Labels.Get("check") != "metrics" ||
		strings.Contains(as[0].Annotations.Get("description"), ":pw@") {
		t.Fatalf("alerts %+v", as)
	}
	if got := h.out.notes(); !slices.Equal(got, []string{"default firing " + NotReadyAlertName}) {
		t.Errorf("notifications %v", got)
	}
	metricsOK.Store(true)
	h.at(2*time.Minute, false)
	h.at(3*time.Minute, false)
	if got := h.out.notes(); len(got) != 2 || got[1] != "default resolved "+NotReadyAlertName+"(resolved)" {
		t.Errorf("after recovery: %v", got)
	}
}

// A group and the alerts it notified about are in the store before its
// notification can be sent: the flush writes them with the notification
// log, not a write-behind later.
func TestGroupsAreDurableBeforeSending(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.Rules = nil })
	ctx := context.Background()
	h.at(0, false) // leader; the next write-behind is a second away
	now := t0.Add(300 * time.Millisecond)
	h.p.Put(now, []alerts.Alert{alert(now, "alertname", "Down", "severity", "page", "service", "api")})
	if err := h.p.Step(ctx, now); err != nil {
		t.Fatal(err)
	}
	queued, _ := h.st.PendingMessages(ctx, now, 10)
	groups, _ := h.st.Groups(ctx)
	stored, _ := h.st.Alerts(ctx)
	if len(queued) == 0 {
		t.Fatal("nothing queued: the group did not flush")
	}
	if len(groups) == 0 || len(stored) != 1 {
		t.Fatalf("%d messages queued while the store holds %d groups and %d alerts", len(queued), len(groups), len(stored))
	}
	// The alert as held, with its end: not the notification's copy, whose
	// end is cleared (a restart would take it for another alert).
	if !stored[0].EndsAt.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("stored alert ends %v, want %v", stored[0].EndsAt, now.Add(5*time.Minute))
	}
}

// Every transition of every alert is recorded once: a rule's alert pending,
// firing, resolved; a received alert firing and resolved; a restart
// records nothing again.
func TestHistoryRecordsEveryTransitionOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	h := newHarness(t, path, nil)
	ctx := context.Background()
	h.at(0, true)
	h.src.set(firingVec)
	for d := 10 * time.Second; d <= 60*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	now := t0.Add(65 * time.Second)
	got := alert(now, "alertname", "Posted", "service", "checkout")
	got.EndsAt = now.Add(2 * time.Minute)
	h.p.Put(now, []alerts.Alert{got})
	h.src.set(nil)
	for d := 70 * time.Second; d <= 6*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	// A restart on the same store.
	h2 := newHarness(t, path, nil)
	for d := 6*time.Minute + 10*time.Second; d <= 7*time.Minute; d += 10 * time.Second {
		h2.at(d+20*time.Second, true)
	}
	hist, err := h.st.History(ctx, store.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, tr := range hist {
		lines = append(lines, tr.Name()+" "+tr.State.String()+" "+tr.Source)
	}
	want := []string{
		"ErrorsUp pending rule", "MatchesDown pending rule", "ErrorsUp firing rule", "MatchesDown firing rule",
		"Posted firing received", "ErrorsUp resolved rule", "MatchesDown resolved rule", "Posted resolved received",
	}
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("history:\n  %s\nwant:\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
	for _, tr := range hist {
		if tr.Name() == "Posted" && tr.State == alerts.StateResolved && !tr.At.Equal(got.EndsAt) {
			t.Errorf("resolved at %v, want its end %v", tr.At, got.EndsAt)
		}
	}
}

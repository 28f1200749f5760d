package alerts

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// t0 is on a whole hour, so that group slots fall on whole intervals.
var e0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func writeRules(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type engineHarness struct {
	t   *testing.T
	db  *metrics.Embedded
	e   *Engine
	now time.Time
}

func newEngineHarness(t *testing.T, rules string, mod func(*EngineOptions)) *engineHarness {
	t.Helper()
	db, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o := EngineOptions{Files: []string{writeRules(t, rules)}, Interval: time.Minute, Query: SourceQuery(db), Appendable: db,
		ExternalURL: "https://oncall.example.com", ExternalLabels: labels.FromStrings("cluster", "eu-1")}
	if mod != nil {
		mod(&o)
	}
	e, err := NewEngine(o)
	if err != nil {
		t.Fatal(err)
	}
	return &engineHarness{t: t, db: db, e: e}
}

// set writes value for ls at every minute of [from, to].
func (h *engineHarness) set(ls labels.Labels, from, to time.Duration, value float64) {
	for d := from; d <= to; d += 15 * time.Second {
		if err := h.db.Append(ls, e0.Add(d), value); err != nil {
			h.t.Fatal(err)
		}
	}
}

// run evaluates every due group at each of the instants, returning what
// was sent at the last one.
func (h *engineHarness) run(at ...time.Duration) []Alert {
	h.t.Helper()
	var sent []Alert
	for _, d := range at {
		var err error
		if sent, err = h.e.Eval(context.Background(), e0.Add(d)); err != nil {
			h.t.Fatalf("+%v: %v", d, err)
		}
	}
	return sent
}

func states(as []RuleAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Rule+" "+a.State.String())
	}
	return out
}

// A recording rule writes its series, and an alerting rule built on it
// fires: before, recording rules were skipped and such an alert never
// fired.
func TestRecordingRulesFeedAlerts(t *testing.T) {
	h := newEngineHarness(t, `groups:
  - name: slo
    rules:
      - record: job:errors:ratio
        expr: sum(errors) / sum(requests)
      - alert: ErrorBudgetBurn
        expr: job:errors:ratio > 0.1
        labels: {severity: page}
        annotations: {summary: "{{ $value | humanizePercentage }} of requests fail in {{ $externalLabels.cluster }}", link: "{{ $externalURL }}/x"}
`, nil)
	h.set(labels.FromStrings("__name__", "errors"), 0, 10*time.Minute, 30)
	h.set(labels.FromStrings("__name__", "requests"), 0, 10*time.Minute, 100)
	// The group's slots are spread over the minute by its name: its
	// first evaluation is within a minute of the start.
	h.e.Start(e0, nil)
	sent := h.run(time.Minute, 2*time.Minute)
	// ALERTS is written once the group's state is restored, after its
	// second evaluation, as in Prometheus.
	if v, _ := h.db.Instant(context.Background(), `ALERTS`, e0.Add(2*time.Minute)); len(v) != 0 {
		t.Errorf("ALERTS before the state was restored: %v", v)
	}
	sent = h.run(3 * time.Minute)
	if got := states(h.e.Alerts()); !slices.Equal(got, []string{"ErrorBudgetBurn firing"}) {
		t.Fatalf("alerts %v", got)
	}
	if len(sent) != 1 || sent[0].Annotations.Get("summary") != "30% of requests fail in eu-1" || sent[0].Annotations.Get("link") != "https://oncall.example.com/x" {
		t.Fatalf("sent %+v", sent)
	}
	if !strings.HasPrefix(sent[0].GeneratorURL, "https://oncall.example.com/graph?g0.expr=job%3Aerrors%3Aratio") {
		t.Errorf("generator URL %q", sent[0].GeneratorURL)
	}
	// The recorded series and ALERTS are in the TSDB, as Prometheus writes them.
	for q, want := range map[string]float64{`job:errors:ratio`: 0.3, `ALERTS{alertname="ErrorBudgetBurn",alertstate="firing",severity="page"}`: 1} {
		v, err := h.db.Instant(context.Background(), q, e0.Add(3*time.Minute))
		if err != nil || len(v) != 1 || v[0].Value != want {
			t.Errorf("%s: %+v %v", q, v, err)
		}
	}
}

// Groups keep their own intervals: a 30 s group is evaluated twice while
// a 1 m group is evaluated once.
func TestGroupsHaveTheirOwnIntervals(t *testing.T) {
	h := newEngineHarness(t, `groups:
  - name: fast
    interval: 30s
    rules: [{record: fast:up, expr: vector(1)}]
  - name: slow
    rules: [{record: slow:up, expr: vector(1)}]
`, nil)
	h.e.Start(e0, nil)
	var evals []string
	for d := time.Duration(0); d <= 2*time.Minute; d += 15 * time.Second {
		h.run(d)
		for _, g := range h.e.Groups() {
			if g.LastEvaluation.Equal(e0.Add(d).Truncate(g.Interval)) || (!g.LastEvaluation.IsZero() && g.LastEvaluation.After(e0.Add(d-15*time.Second))) {
				evals = append(evals, g.Name)
			}
		}
	}
	fast, slow := 0, 0
	for _, g := range evals {
		if g == "fast" {
			fast++
		} else {
			slow++
		}
	}
	if fast < 2*slow-1 || slow < 2 {
		t.Errorf("fast evaluated %d times, slow %d", fast, slow)
	}
	gs := h.e.Groups()
	if gs[0].Name != "fast" || gs[0].Interval != 30*time.Second || gs[1].Interval != time.Minute {
		t.Errorf("groups %+v", gs)
	}
}

// A for: 10m alert firing before a restart is firing after it, once its
// group has been evaluated twice and its state restored.
func TestStateSurvivesARestart(t *testing.T) {
	const rules = `groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 10m
`
	h := newEngineHarness(t, rules, nil)
	h.set(labels.FromStrings("__name__", "up", "job", "api"), 0, time.Hour, 0)
	h.e.Start(e0, nil)
	for d := time.Duration(0); d <= 12*time.Minute; d += time.Minute {
		h.run(d)
	}
	before := h.e.Alerts()
	if got := states(before); !slices.Equal(got, []string{"Down firing"}) {
		t.Fatalf("before the restart: %v", got)
	}
	// A new engine (a restart), given what was saved.
	again, err := NewEngine(h.e.opts)
	if err != nil {
		t.Fatal(err)
	}
	h.e = again
	h.e.Start(e0.Add(15*time.Minute), before)
	var got [][]string
	for d := 16 * time.Minute; d <= 19*time.Minute; d += time.Minute {
		h.run(d)
		got = append(got, states(h.e.Alerts()))
	}
	// Pending at the first evaluation, restored after the second, firing at the third.
	want := [][]string{{"Down pending"}, {"Down pending"}, {"Down firing"}, {"Down firing"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after the restart: %v, want %v", got, want)
	}
	// ALERTS_FOR_STATE keeps whole seconds, as Prometheus's does.
	if a := h.e.Alerts()[0]; !a.ActiveAt.Equal(before[0].ActiveAt.Truncate(time.Second)) {
		t.Errorf("active since %v, want %v (restored)", a.ActiveAt, before[0].ActiveAt)
	}
	// Without the saved state the for clock starts over: still pending.
	fresh, _ := NewEngine(h.e.opts)
	fresh.Start(e0.Add(15*time.Minute), nil)
	for d := 16 * time.Minute; d <= 19*time.Minute; d += time.Minute {
		fresh.Eval(context.Background(), e0.Add(d))
	}
	if got := states(fresh.Alerts()); !slices.Equal(got, []string{"Down pending"}) {
		t.Errorf("without saved state: %v", got)
	}
}

// limit, query_offset and group labels are Prometheus's.
func TestLimitOffsetAndGroupLabels(t *testing.T) {
	h := newEngineHarness(t, `groups:
  - name: limited
    limit: 1
    rules: [{alert: Many, expr: up == 0}]
  - name: offset
    query_offset: 5m
    labels: {team: payments}
    rules: [{alert: Late, expr: up == 0}]
`, nil)
	for _, job := range []string{"a", "b"} {
		h.set(labels.FromStrings("__name__", "up", "job", job), -5*time.Minute, 5*time.Minute, 0)
		h.set(labels.FromStrings("__name__", "up", "job", job), 5*time.Minute+15*time.Second, 20*time.Minute, 1)
	}
	h.e.Start(e0.Add(-time.Minute), nil)
	_, err := h.e.Eval(context.Background(), e0)
	if err == nil || !strings.Contains(err.Error(), `rule "Many": exceeded limit of 1 with 2 alerts`) {
		t.Errorf("limit: %v", err)
	}
	// At +8m the data says up, but the offset group reads +3m: down.
	h.run(8 * time.Minute)
	var late []RuleAlert
	for _, a := range h.e.Alerts() {
		if a.Rule == "Late" && a.State == StateFiring {
			late = append(late, a)
		}
	}
	if len(late) != 2 || late[0].Labels.Get("team") != "payments" {
		t.Errorf("late %+v", late)
	}
}

func TestEngineRefusesBadFiles(t *testing.T) {
	_, err := NewEngine(EngineOptions{Files: []string{writeRules(t, "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: sum(\n")}})
	if err == nil || !strings.Contains(err.Error(), "rules.yml") {
		t.Errorf("bad file: %v", err)
	}
}

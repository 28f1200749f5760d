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

// rewrite replaces the harness's rule file.
func (h *engineHarness) rewrite(content string) {
	h.t.Helper()
	if err := os.WriteFile(h.e.opts.Files[0], []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func problemText(ps []FileProblem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

// A reload swaps the rules at once and carries a firing alert's state
// over, as Prometheus does; a broken group keeps its last good version
// while the groups beside it take their edits; fixing it takes effect.
func TestReloadKeepsStateAndTheLastGoodRules(t *testing.T) {
	const v1 = `groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
  - name: h
    rules:
      - record: h:up
        expr: sum(up)
`
	h := newEngineHarness(t, v1, nil)
	h.set(labels.FromStrings("__name__", "up", "job", "api"), 0, time.Hour, 0)
	h.e.Start(e0, nil)
	for d := time.Duration(0); d <= 5*time.Minute; d += time.Minute {
		h.run(d)
	}
	if got := states(h.e.Alerts()); !slices.Equal(got, []string{"Down firing"}) {
		t.Fatalf("before: %v", got)
	}
	if changed, err := h.e.Reload(e0.Add(5 * time.Minute)); changed || err != nil {
		t.Errorf("reload of unchanged files: changed=%v err=%v", changed, err)
	}
	// Group g gains a label and a rule: Down keeps firing, no new for-wait.
	h.rewrite(strings.Replace(v1, "        for: 2m\n", "        for: 2m\n        labels: {team: api}\n      - alert: Up\n        expr: up == 1\n", 1))
	if changed, err := h.e.Reload(e0.Add(5*time.Minute + 10*time.Second)); !changed || err != nil {
		t.Fatalf("reload: changed=%v err=%v", changed, err)
	}
	if len(h.e.Rules()) != 3 || len(h.e.Problems()) != 0 {
		t.Errorf("rules %d, problems %v", len(h.e.Rules()), h.e.Problems())
	}
	h.run(6 * time.Minute)
	// The label is part of the alert's identity: Prometheus matches state by
	// name and labels, so the relabelled alert starts its for-wait anew.
	got := states(h.e.Alerts())
	if !slices.Contains(got, "Down pending") {
		t.Errorf("after relabel: %v", got)
	}
	h.run(7*time.Minute, 8*time.Minute, 9*time.Minute)
	if got := states(h.e.Alerts()); !slices.Equal(got, []string{"Down firing"}) {
		t.Fatalf("after the reload: %v", got)
	}
	firedAt := h.e.Alerts()[0].FiredAt
	// Group g breaks, group h changes: h takes its edit, g runs as it was
	// and keeps firing with the same clock.
	broken := strings.Replace(v1, "expr: up == 0", "expr: up ==", 1)
	broken = strings.Replace(broken, "expr: sum(up)", "expr: count(up)", 1)
	h.rewrite(broken)
	changed, _ := h.e.Reload(e0.Add(9*time.Minute + 10*time.Second))
	ps := h.e.Problems()
	if !changed || len(ps) != 1 || !strings.Contains(ps[0].Error(), "rules.yml:5:15: group \"g\", rule 1, \"Down\": could not parse expression") {
		t.Fatalf("broken reload: changed=%v problems:\n%s", changed, problemText(ps))
	}
	h.run(10 * time.Minute)
	if got := h.e.Alerts(); len(got) != 1 || got[0].State != StateFiring || !got[0].FiredAt.Equal(firedAt) || got[0].Labels.Get("team") != "api" {
		t.Errorf("last good g: %+v", got)
	}
	var rec []string
	for _, r := range h.e.Rules() {
		rec = append(rec, r.Name+" "+r.Expr)
	}
	if !slices.Contains(rec, "h:up count(up)") || !slices.Contains(rec, "Down up == 0") {
		t.Errorf("rules in effect: %v", rec)
	}
	// A YAML error keeps the whole file as it was.
	h.rewrite("groups:\n  - name: g\n    rules: [\n")
	h.e.Reload(e0.Add(10*time.Minute + 10*time.Second))
	if ps := h.e.Problems(); len(ps) != 1 || len(h.e.Rules()) != 3 {
		t.Errorf("yaml error: %d rules, problems:\n%s", len(h.e.Rules()), problemText(ps))
	}
	// Fixed: the problem is gone, the file is what it says.
	h.rewrite(v1)
	h.e.Reload(e0.Add(11 * time.Minute))
	if ps := h.e.Problems(); len(ps) != 0 || len(h.e.Rules()) != 2 {
		t.Errorf("fixed: %d rules, problems:\n%s", len(h.e.Rules()), problemText(ps))
	}
}

// Leniently loaded, a file with a broken group runs its other groups and
// says what is wrong, with the line, column and PromQL position.
func TestLenientLoadRunsTheValidGroups(t *testing.T) {
	h := newEngineHarness(t, `groups:
  - name: good
    rules:
      - record: good:one
        expr: vector(1)
  - name: bad
    rules:
      - alert: B
        expr: sum(rate(x[5m]) >
`, func(o *EngineOptions) { o.Lenient = true })
	ps := h.e.Problems()
	if len(ps) != 1 || !strings.Contains(ps[0].Error(), `rules.yml:9:15: group "bad", rule 1, "B": could not parse expression: 1:18: parse error: unclosed left parenthesis`) {
		t.Fatalf("problems:\n%s", problemText(ps))
	}
	h.e.Start(e0, nil)
	h.run(time.Minute, 2*time.Minute)
	if v, err := h.db.Instant(context.Background(), "good:one", e0.Add(2*time.Minute)); err != nil || len(v) != 1 {
		t.Errorf("the good group did not run: %v %v", v, err)
	}
	if _, err := NewEngine(EngineOptions{Files: h.e.opts.Files}); err == nil {
		t.Error("strict load took a broken file")
	}
}

// A reload that removes a firing rule resolves its alerts at once, rather
// than letting them time out as Prometheus does.
func TestReloadResolvesRemovedRules(t *testing.T) {
	h := newEngineHarness(t, "groups:\n  - name: g\n    rules:\n      - alert: Gone\n        expr: vector(1)\n      - alert: Stays\n        expr: vector(1)\n", nil)
	h.e.Start(e0, nil)
	for d := time.Duration(0); d <= 2*time.Minute; d += time.Minute {
		h.run(d)
	}
	h.rewrite("groups:\n  - name: g\n    rules:\n      - alert: Stays\n        expr: vector(1)\n")
	at := e0.Add(2*time.Minute + 30*time.Second)
	if _, err := h.e.Reload(at); err != nil {
		t.Fatal(err)
	}
	sent := h.run(2*time.Minute + 40*time.Second)
	var gone []Alert
	for _, a := range sent {
		if a.Name() == "Gone" {
			gone = append(gone, a)
		}
	}
	if len(gone) != 1 || !gone[0].EndsAt.Equal(at) {
		t.Fatalf("sent %+v", sent)
	}
	if got := states(h.e.Alerts()); !slices.Equal(got, []string{"Stays firing"}) {
		t.Errorf("alerts %v", got)
	}
}

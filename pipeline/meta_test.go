package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// metaHarness runs the pipeline on rules over a real embedded TSDB.
type metaHarness struct {
	*harness
	db    *metrics.Embedded
	rules string
}

func newMetaHarness(t *testing.T, rules string, mod func(*Options)) *metaHarness {
	t.Helper()
	db, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	file := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := alerts.NewEngine(alerts.EngineOptions{Files: []string{file}, Interval: 10 * time.Second, Query: alerts.SourceQuery(db), Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "", func(o *Options) {
		o.Rules, o.NoDataQuery = eng, db
		if mod != nil {
			mod(o)
		}
	})
	return &metaHarness{harness: h, db: db, rules: file}
}

// series writes v for ls every 10s over [from, to].
func (h *metaHarness) series(ls labels.Labels, from, to time.Duration, v float64) {
	for d := from; d <= to; d += 10 * time.Second {
		if err := h.db.Append(ls, t0.Add(d), v); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *metaHarness) write(content string) {
	h.t.Helper()
	if err := os.WriteFile(h.rules, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// firing lists "alertname{label}" of the firing alerts named name.
func (h *metaHarness) firing(name, label string, d time.Duration) []string {
	h.t.Helper()
	as, err := h.p.Alerts(context.Background(), t0.Add(d))
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if a.Name() == name && a.Status.State == alerts.StateFiring {
			out = append(out, a.Name()+"{"+a.Labels.Get(label)+"}")
		}
	}
	slices.Sort(out)
	return out
}

const twoGroups = `groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        labels: {severity: page}
  - name: db
    rules:
      - alert: DbDown
        expr: up{job="db"} == 0
        labels: {severity: page}
`

// A group that breaks on reload keeps its last good version and raises
// OncallRuleFilesInvalid at once; the other group takes its edit; the
// fix resolves the meta-alert.
func TestBrokenReloadRaisesAMetaAlert(t *testing.T) {
	h := newMetaHarness(t, twoGroups, nil)
	h.series(labels.FromStrings("__name__", "up", "job", "api"), 0, 10*time.Minute, 1)
	h.series(labels.FromStrings("__name__", "up", "job", "db"), 0, 10*time.Minute, 0)
	h.at(0, true)
	for d := 10 * time.Second; d <= 30*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.firing("DbDown", "job", 30*time.Second); len(got) != 1 {
		t.Fatalf("DbDown: %v", got)
	}
	// db breaks; api now fires on up == 1.
	h.write(strings.Replace(strings.Replace(twoGroups, `up{job="db"} == 0`, `up{job="db"} ==`, 1), `up{job="api"} == 0`, `up{job="api"} == 1`, 1))
	h.p.reload(t0.Add(35*time.Second), false)
	for d := 40 * time.Second; d <= 60*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.firing(RuleFilesInvalidAlertName, "file", time.Minute); !slices.Equal(got, []string{RuleFilesInvalidAlertName + "{" + h.rules + "}"}) {
		t.Fatalf("meta-alert: %v", got)
	}
	as, _ := h.p.Alerts(context.Background(), t0.Add(time.Minute))
	for _, a := range as {
		if a.Name() == RuleFilesInvalidAlertName && !strings.Contains(a.Annotations.Get("description"), `rules.yml:10:15: group "db", rule 1, "DbDown": could not parse expression`) {
			t.Errorf("description: %s", a.Annotations.Get("description"))
		}
	}
	if got := h.firing("DbDown", "job", time.Minute); len(got) != 1 {
		t.Errorf("the broken group stopped: %v", got)
	}
	if got := h.firing("ApiDown", "job", time.Minute); len(got) != 1 {
		t.Errorf("the good group did not take its edit: %v", got)
	}
	h.write(twoGroups)
	h.p.reload(t0.Add(65*time.Second), false)
	h.at(70*time.Second, true)
	if got := h.firing(RuleFilesInvalidAlertName, "file", 70*time.Second); len(got) != 0 {
		t.Errorf("fixed, still firing: %v", got)
	}
}

// A group whose rules keep failing raises OncallRuleEvaluationFailing after
// three evaluations in a row; one that keeps skipping slots for five
// minutes raises OncallRuleEvaluationSlow.
func TestFailingAndSlowGroups(t *testing.T) {
	h := newMetaHarness(t, `groups:
  - name: limited
    limit: 1
    rules: [{alert: Many, expr: up == 0}]
  - name: fine
    rules: [{alert: Fine, expr: up == 2}]
`, nil)
	for _, job := range []string{"a", "b"} {
		h.series(labels.FromStrings("__name__", "up", "job", job), 0, time.Hour, 0)
	}
	h.at(0, true)
	var got []string
	for d := 10 * time.Second; d <= 40*time.Second; d += 10 * time.Second {
		h.at(d, true)
		got = append(got, strings.Join(h.firing(RuleFailingAlertName, "rule_group", d), ","))
	}
	// Evaluated at +10s (first slot), +20s, +30s: raised after the third.
	if !slices.Equal(got[:2], []string{"", ""}) || got[3] != RuleFailingAlertName+"{limited}" {
		t.Fatalf("failing: %q", got)
	}
	// The clock jumps: the groups skip slots. Once is a pause, not news;
	// five minutes of it is.
	h.at(3*time.Minute, true)
	if got := h.firing(RuleSlowAlertName, "rule_group", 3*time.Minute); len(got) != 0 {
		t.Errorf("slow after one pause: %v", got)
	}
	for d := 3*time.Minute + 30*time.Second; d <= 8*time.Minute; d += 30 * time.Second {
		h.at(d, true)
	}
	if got := h.firing(RuleSlowAlertName, "rule_group", 8*time.Minute); !slices.Equal(got, []string{RuleSlowAlertName + "{fine}", RuleSlowAlertName + "{limited}"}) {
		t.Errorf("slow for five minutes: %v", got)
	}
	// Ten minutes of evaluations on time end it.
	for d := 8*time.Minute + 10*time.Second; d <= 19*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.firing(RuleSlowAlertName, "rule_group", 19*time.Minute); len(got) != 0 {
		t.Errorf("slow after recovery: %v", got)
	}
}

// failingSource fails every query, as a Prometheus that is down.
type failingSource struct{}

func (failingSource) Instant(context.Context, string, time.Time) (metrics.Vector, error) {
	return nil, errors.New("connection refused")
}

// A source that fails every rule is one problem (OncallNotReady), not one
// meta-alert per group.
func TestSourceDownIsNotAFailingGroup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yml")
	os.WriteFile(file, []byte(twoGroups), 0o600)
	eng, err := alerts.NewEngine(alerts.EngineOptions{Files: []string{file}, Interval: 10 * time.Second, Query: alerts.SourceQuery(failingSource{})})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "", func(o *Options) { o.Rules = eng })
	for d := time.Duration(0); d <= 2*time.Minute; d += 10 * time.Second {
		h.at(d, true)
	}
	as, _ := h.p.Alerts(context.Background(), t0.Add(2*time.Minute))
	var names []string
	for _, a := range as {
		names = append(names, a.Name()+"{"+a.Labels.Get("check")+"}")
	}
	if !slices.Equal(names, []string{NotReadyAlertName + "{rules}"}) {
		t.Errorf("alerts while the source is down: %v", names)
	}
}

// A metric an alerting rule reads that has no series at two checks in a
// row raises OncallRuleNoData; metrics under absent() and recorded series
// are not checked; the metric coming back resolves it.
func TestNoDataForAMetricRulesRead(t *testing.T) {
	h := newMetaHarness(t, `groups:
  - name: g
    rules:
      - record: job:req:rate5m
        expr: sum by (job) (rate(requests_total[5m]))
      - alert: Slow
        expr: job:req:rate5m > 100 and on() checkout_latency_seconds > 1
      - alert: HeartbeatGone
        expr: absent(heartbeat_seconds)
`, nil)
	h.series(labels.FromStrings("__name__", "requests_total", "job", "api"), 0, time.Hour, 1)
	h.at(0, true)
	for d := 10 * time.Second; d <= 5*time.Minute+10*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	got := h.firing(NoDataAlertName, "metric", 5*time.Minute+10*time.Second)
	if !slices.Equal(got, []string{NoDataAlertName + "{checkout_latency_seconds}"}) {
		t.Fatalf("no data: %v", got)
	}
	h.series(labels.FromStrings("__name__", "checkout_latency_seconds"), 5*time.Minute, time.Hour, 0.2)
	for d := 5*time.Minute + 20*time.Second; d <= 10*time.Minute+20*time.Second; d += 10 * time.Second {
		h.at(d, true)
	}
	if got := h.firing(NoDataAlertName, "metric", 10*time.Minute+20*time.Second); len(got) != 0 {
		t.Errorf("back, still firing: %v", got)
	}
}

// The watchdog goes to its receiver every interval, straight to the
// outbox: no incident, not among the alerts.
func TestWatchdogHeartbeat(t *testing.T) {
	h := newHarness(t, "", func(o *Options) { o.WatchdogReceiver, o.WatchdogInterval = "hook", time.Minute })
	for d := time.Duration(0); d <= 150*time.Second; d += 10 * time.Second {
		h.at(d, false)
	}
	if got := h.out.notes(); !slices.Equal(got, []string{"hook firing OncallWatchdog", "hook firing OncallWatchdog", "hook firing OncallWatchdog"}) {
		t.Errorf("heartbeats at 0, 1m, 2m: %v", got)
	}
	as, _ := h.p.Alerts(context.Background(), t0.Add(150*time.Second))
	incs, _ := h.st.Incidents(context.Background(), store.IncidentFilter{})
	if len(as) != 0 || len(incs) != 0 {
		t.Errorf("alerts %v, incidents %v", as, incs)
	}
}

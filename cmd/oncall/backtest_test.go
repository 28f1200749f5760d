package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/oncallhq/oncall/internal/testenv"
)

// Bad input to backtest is one clear line and exit 1, whatever the
// source: an unknown rule file named, a --since that is no time, no
// source configured.
func TestAlertsBacktestBadInput(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yml")
	os.WriteFile(rulesFile, []byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"), 0o600)
	broken := filepath.Join(dir, "broken.yml")
	os.WriteFile(broken, []byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n"), 0o600)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+filepath.Join(dir, "state")+"\nserver: {listen: \"127.0.0.1:0\"}\n"), 0o600)
	noSource := []string{"ONCALL_METRICS_PROMETHEUS_URL=", "ONCALL_SERVER_URL="}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no source", []string{rulesFile}, []string{"no metrics source", "metrics.prometheus.url"}},
		{"unknown file", []string{filepath.Join(dir, "nope.yml")}, []string{"nope.yml", "no such file"}},
		{"broken file", []string{broken}, []string{"broken.yml:"}},
		{"since not a time", []string{"--since", "last tuesday", rulesFile}, []string{"--since", `"last tuesday" is not`}},
		{"until not a time", []string{"--until", "soonish", rulesFile}, []string{"--until", `"soonish" is not`}},
		{"since after until", []string{"--since", "1h", "--until", "2h", rulesFile}, []string{"--since", "is not before --until"}},
		{"bad flap window", []string{"--flap-window", "often", rulesFile}, []string{"--flap-window", `"often" is not a duration`}},
		{"bad recorded", []string{"--recorded", "maybe", rulesFile}, []string{"--recorded", "auto, source or expand"}},
		{"bad output", []string{"-o", "yaml", rulesFile}, []string{`--output "yaml"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"alerts", "backtest", "--config", cfg}, tc.args...)
			env := noSource
			if tc.name == "broken file" {
				// The rules are read once a source answers.
				env = []string{"ONCALL_METRICS_PROMETHEUS_URL=" + fakePrometheus(t)}
			}
			code, _, stderr := run(t, env, args...)
			if code != 1 {
				t.Fatalf("exit %d; stderr: %s", code, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 {
				t.Errorf("want one line, got %d:\n%s", len(lines), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// fakePrometheus answers every query with one sample: enough to be
// reachable.
func fakePrometheus(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"1"]}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const backtestRules = `groups:
  - name: api
    interval: 1m
    rules:
      - record: service:errors:rate5m
        expr: sum by (service) (rate(errors_total[5m]))
      - alert: ApiErrors
        expr: service:errors:rate5m{service="api"} > 0.502
        for: 5m
        keep_firing_for: 5m
        labels: {severity: warning}
  - name: fast
    interval: 30s
    rules:
      - alert: InstanceDown
        expr: up{job="api"} == 0
        for: 1m
        labels: {severity: page}
`

// A week of history backfilled into a real Prometheus 2.42 with promtool,
// and the command replays the rules over it through Prometheus's HTTP
// API (the recorded series it lacks expanded, the 30s group's 20,160
// evaluations split into two queries): every episode is the one
// Prometheus's own rule groups find evaluating the same samples step by
// step in-process.
func TestAlertsBacktestAgainstPrometheus(t *testing.T) {
	prom := testenv.RequireTool(t, "prometheus", "prometheus")
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	dir := t.TempDir()
	end := time.Now().Add(-time.Hour).Truncate(time.Hour).UTC()
	start := end.Add(-7 * 24 * time.Hour)
	samples := weekOfSamples(start, end)

	var om strings.Builder
	for _, fam := range []struct{ name, typ, prefix string }{{"up", "gauge", "up{"}, {"errors", "counter", "errors_total{"}} {
		fmt.Fprintf(&om, "# TYPE %s %s\n", fam.name, fam.typ)
		for _, s := range samples {
			if strings.HasPrefix(s.series, fam.prefix) {
				fmt.Fprintf(&om, "%s %g %d\n", s.series, s.v, s.t.Unix())
			}
		}
	}
	om.WriteString("# EOF\n")
	os.WriteFile(filepath.Join(dir, "history.om"), []byte(om.String()), 0o600)
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", filepath.Join(dir, "history.om"), filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global: {evaluation_interval: 1m}\n"), 0o600)
	addr := freeAddr(t)
	startProcess(t, dir, prom, "--config.file=prometheus.yml", "--storage.tsdb.path=data", "--storage.tsdb.retention.time=30d", "--web.listen-address="+addr)
	eventually(t, 30*time.Second, "prometheus ready", func() bool { return ready("http://" + addr + "/-/ready") })

	rulesFile := filepath.Join(dir, "rules.yml")
	os.WriteFile(rulesFile, []byte(backtestRules), 0o600)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+filepath.Join(dir, "state")+"\nalerts: {evaluation_interval: 1m}\n"), 0o600)
	since, until := start.Add(30*time.Minute), end
	code, stdout, stderr := run(t, []string{"ONCALL_METRICS_PROMETHEUS_URL=http://" + addr}, "alerts", "backtest", "--config", cfg, "--since", since.Format(time.RFC3339),
		"--until", until.Format(time.RFC3339), "--episodes", "-o", "json", rulesFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Expanded []string `json:"expanded_recorded_series"`
		Rules    []struct {
			Alert       string
			Evaluations int
			Episodes    int
			Error       string
			EpisodeList []struct {
				Labels     map[string]string
				Start, End time.Time
				Open       bool
			} `json:"episode_list"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !slices.Equal(rep.Expanded, []string{"service:errors:rate5m"}) {
		t.Errorf("expanded %v", rep.Expanded)
	}
	want := referenceEpisodes(t, samples, rulesFile, since, until)
	for _, r := range rep.Rules {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.Alert, r.Error)
		}
		var got []string
		for _, e := range r.EpisodeList {
			got = append(got, episodeString(labels.FromMap(e.Labels), e.Start, e.End, e.Open))
		}
		if len(want[r.Alert]) < 5 {
			t.Errorf("%s: %d episodes in the reference: the history tests little", r.Alert, len(want[r.Alert]))
		}
		if !slices.Equal(got, want[r.Alert]) {
			t.Errorf("%s: episodes differ\n got: %v\nwant: %v", r.Alert, got, want[r.Alert])
		}
		t.Logf("%s: %d evaluations, %d episodes", r.Alert, r.Evaluations, r.Episodes)
	}

	// The table of the same run.
	code, stdout, stderr = run(t, []string{"ONCALL_METRICS_PROMETHEUS_URL=http://" + addr}, "alerts", "backtest", "--config", cfg, "--since", since.Format(time.RFC3339),
		"--until", until.Format(time.RFC3339), rulesFile)
	t.Logf("table:\n%s", stdout)
	if code != 0 || !strings.Contains(stdout, "InstanceDown") || !strings.Contains(stdout, "ALERT") {
		t.Errorf("table: exit %d\n%s%s", code, stdout, stderr)
	}
}

type btSample struct {
	series string
	t      time.Time
	v      float64
}

// weekOfSamples is a week at 1m of two instances' up and an error
// counter, with bursts (down, failing) of 1 to 15 minutes between calm
// stretches of up to 5 hours, in time order.
func weekOfSamples(start, end time.Time) []btSample {
	rng := rand.New(rand.NewPCG(42, 1))
	var out []btSample
	gen := func(series string, next func(burst bool) float64) {
		burst, left := true, 0
		for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
			if left == 0 {
				burst = !burst
				left = 1 + rng.IntN(300)
				if burst {
					left = 1 + rng.IntN(15)
				}
			}
			left--
			out = append(out, btSample{series, ts, next(burst)})
		}
	}
	for _, inst := range []string{"a", "b"} {
		gen(fmt.Sprintf(`up{job="api",instance=%q}`, inst), func(burst bool) float64 {
			if burst {
				return 0
			}
			return 1
		})
	}
	total := 0.0
	gen(`errors_total{service="api"}`, func(burst bool) float64 {
		if burst {
			total += float64(40 + rng.IntN(80))
		} else {
			total += float64(rng.IntN(5))
		}
		return total
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out
}

func episodeString(ls labels.Labels, start, end time.Time, open bool) string {
	s := fmt.Sprintf("%s %s→%s", ls, start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
	if open {
		s += " open"
	}
	return s
}

// btEpisode is an alert's firing in the reference evaluation.
type btEpisode struct {
	labels     labels.Labels
	start, end time.Time
	open       bool
}

// referenceEpisodes evaluates the rule file's groups with Prometheus's own
// rules package, each at its slots from since, over the samples appended
// as time passes, and returns each alert's firing episodes.
func referenceEpisodes(t *testing.T, samples []btSample, file string, since, until time.Time) map[string][]string {
	st := teststorage.New(t)
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() { eng.Close() })
	m := rules.NewManager(&rules.ManagerOptions{QueryFunc: rules.EngineQueryFunc(eng, st), AppendableV2: st, Queryable: st,
		Context: context.Background(), NotifyFunc: func(context.Context, string, ...*rules.Alert) {}})
	loaded, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, file)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	type evalAt struct {
		ts time.Time
		g  *rules.Group
	}
	var evals []evalAt
	for _, g := range loaded {
		ts := g.EvalTimestamp(since.UnixNano())
		if ts.Before(since) {
			ts = ts.Add(g.Interval())
		}
		for ; !ts.After(until); ts = ts.Add(g.Interval()) {
			evals = append(evals, evalAt{ts, g})
		}
	}
	sort.SliceStable(evals, func(i, j int) bool { return evals[i].ts.Before(evals[j].ts) })
	next := 0
	appendTill := func(ts time.Time) {
		app := st.Appender(context.Background())
		for ; next < len(samples) && !samples[next].t.After(ts); next++ {
			ls, err := parser.NewParser(parser.Options{}).ParseMetric(samples[next].series)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Append(0, ls, samples[next].t.UnixMilli(), samples[next].v); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	type open struct {
		labels labels.Labels
		since  time.Time
	}
	firing := map[string]map[uint64]open{}
	eps := map[string][]btEpisode{}
	for _, e := range evals {
		appendTill(e.ts)
		e.g.Eval(context.Background(), e.ts)
		for _, r := range e.g.AlertingRules() {
			now := map[uint64]labels.Labels{}
			for _, a := range r.ActiveAlerts() {
				if a.State == rules.StateFiring {
					now[a.Labels.Hash()] = a.Labels
				}
			}
			if firing[r.Name()] == nil {
				firing[r.Name()] = map[uint64]open{}
			}
			f := firing[r.Name()]
			for h, o := range f {
				if _, ok := now[h]; !ok {
					eps[r.Name()] = append(eps[r.Name()], btEpisode{o.labels, o.since, e.ts, false})
					delete(f, h)
				}
			}
			for h, ls := range now {
				if _, ok := f[h]; !ok {
					f[h] = open{ls, e.ts}
				}
			}
		}
	}
	for name, f := range firing {
		for _, o := range f {
			eps[name] = append(eps[name], btEpisode{o.labels, o.since, until, true})
		}
	}
	out := map[string][]string{}
	for name, es := range eps {
		// In order of start, then labels, as the backtest lists them.
		slices.SortFunc(es, func(a, b btEpisode) int {
			if c := a.start.Compare(b.start); c != 0 {
				return c
			}
			return labels.Compare(a.labels, b.labels)
		})
		for _, e := range es {
			out[name] = append(out[name], episodeString(e.labels, e.start, e.end, e.open))
		}
	}
	return out
}

package alerts

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// The workload of ../shared/bench/prom-rules.sh (and of
// bench/rules/side-by-side.sh, which runs it against a real Prometheus):
// an exporter of x{svc="jJ",inst="iI"} counters, 100 svc values, scraped
// every 5 s with job and instance added; rules in groups of 10 with a 5 s
// interval, the even ones `sum by (svc) (rate(x{svc=…}[1m])) > 0.05`
// (200 series each at 20,000 series, one pending alert each), the odd ones
// `x{svc=…,inst=…} == 0` (nothing: see cycleBase).
const (
	cycleJobs     = 100
	cycleInterval = 5 * time.Second
	// cycleData is how much 5 s data the fixture holds: enough for the 1m
	// rate windows before the start and cycleMaxEvals cycles after it.
	cycleData     = 15 * time.Minute
	cycleWarmup   = 90 * time.Second
	cycleMaxEvals = 50 // < 5m of cycles: the HighRate alerts stay pending
)

// cycleBase is the first scrape. Its Unix seconds are not a multiple of 5,
// nor is any later scrape's (they are 5 s apart), so the exporter's value
// (t*(i+1)) % 1e6 is never 0 for i < 200: the Zero rules select their
// series and find nothing, as they do against the live exporter almost
// always.
var cycleBase = time.Unix(1_767_225_601, 0)

// cycleRules is the rules file prom-rules.sh generates for n rules over
// per series per svc.
func cycleRules(n, per int) string {
	var b strings.Builder
	b.WriteString("groups:\n")
	for g := 0; g*10 < n; g++ {
		fmt.Fprintf(&b, "  - name: g%d\n    interval: 5s\n    rules:\n", g)
		for r := 0; r < 10 && g*10+r < n; r++ {
			k := g*10 + r
			if k%2 == 0 {
				fmt.Fprintf(&b, "      - alert: HighRate%d\n        expr: 'sum by (svc) (rate(x{svc=\"j%d\"}[1m])) > 0.05'\n        for: 5m\n", k, k%cycleJobs)
			} else {
				fmt.Fprintf(&b, "      - alert: Zero%d\n        expr: 'x{svc=\"j%d\",inst=\"i%d\"} == 0'\n        for: 2m\n", k, k%cycleJobs, k%per)
			}
		}
	}
	return b.String()
}

// cycleFixture is an Engine over an Embedded TSDB holding the exporter's
// series scraped every 5 s for cycleData, wired as `oncall serve` wires it
// (queries through the Embedded source, ALERTS written back to it), and the
// instant its rules start at.
type cycleFixture struct {
	db    *metrics.Embedded
	e     *Engine
	start time.Time
	per   int
}

func newCycleFixture(tb testing.TB, rules, series int) *cycleFixture {
	tb.Helper()
	db, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Retention: 24 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	per := max(1, series/cycleJobs)
	ls := make([]labels.Labels, 0, cycleJobs*per)
	for j := range cycleJobs {
		for i := range per {
			ls = append(ls, labels.FromStrings("__name__", "x", "inst", fmt.Sprintf("i%d", i), "instance", "127.0.0.1:9100",
				"job", "exp", "svc", fmt.Sprintf("j%d", j)))
		}
	}
	refs := make([]storage.SeriesRef, len(ls))
	for at := cycleBase; !at.After(cycleBase.Add(cycleData)); at = at.Add(cycleInterval) {
		app := db.AppenderV2(context.Background())
		for k, l := range ls {
			i := int64(k % per)
			v := float64((at.Unix() * (i + 1)) % 1_000_000)
			ref, err := app.Append(refs[k], l, 0, at.UnixMilli(), v, nil, nil, storage.AppendV2Options{})
			if err != nil {
				tb.Fatal(err)
			}
			refs[k] = ref
		}
		if err := app.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(cycleRules(rules, per)), 0o600); err != nil {
		tb.Fatal(err)
	}
	e, err := NewEngine(EngineOptions{Files: []string{path}, Interval: cycleInterval, Query: db.RuleQuery, Appendable: db})
	if err != nil {
		tb.Fatal(err)
	}
	f := &cycleFixture{db: db, e: e, start: cycleBase.Add(cycleWarmup), per: per}
	if err := e.Start(f.start, nil); err != nil {
		tb.Fatal(err)
	}
	return f
}

// eval runs cycle n (from 1): every group is due once, at its slot in
// (start+(n-1)·5s, start+n·5s].
func (f *cycleFixture) eval(tb testing.TB, n int) []Alert {
	tb.Helper()
	if n > cycleMaxEvals {
		tb.Fatalf("cycle %d: the fixture holds %d cycles (lower -benchtime, e.g. -benchtime=10x)", n, cycleMaxEvals)
	}
	sent, err := f.e.Eval(context.Background(), f.start.Add(time.Duration(n)*cycleInterval))
	if err != nil {
		tb.Fatalf("cycle %d: %v", n, err)
	}
	return sent
}

func TestEngineCycleFixture(t *testing.T) {
	tests := []struct {
		name          string
		rules, series int
	}{
		{"one group", 10, 400},
		{"groups sharing svc values", 240, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCycleFixture(t, tt.rules, tt.series)
			// Each HighRate rule selects every series of its svc.
			v, err := f.db.Instant(context.Background(), `count(x{svc="j3"})`, f.start)
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != 1 || int(v[0].Value) != f.per {
				t.Fatalf("count(x{svc=\"j3\"}) = %v, want %d", v, f.per)
			}
			for n := 1; n <= 3; n++ {
				if sent := f.eval(t, n); len(sent) != 0 {
					t.Fatalf("cycle %d sent %d alerts, want none (pending ones are not sent)", n, len(sent))
				}
			}
			// Every group ran at each cycle: its next slot is in the fourth.
			after := f.start.Add(3 * cycleInterval)
			for _, g := range f.e.Groups() {
				if g.LastEvaluation.IsZero() || !g.Next.After(after) || g.Next.After(after.Add(cycleInterval)) {
					t.Fatalf("group %s: next %v, want in (%v, %v]", g.Name, g.Next, after, after.Add(cycleInterval))
				}
			}
			want := map[string]string{} // alertname → svc
			for k := 0; k < tt.rules; k += 2 {
				want[fmt.Sprintf("HighRate%d", k)] = fmt.Sprintf("j%d", k%cycleJobs)
			}
			got := map[string]string{}
			for _, a := range f.e.Alerts() {
				if a.State != StatePending {
					t.Errorf("%s: state %v, want pending", a.Labels, a.State)
				}
				// Series i grows by i+1 a second: the sum is ≥ 1.
				if a.Value < float64(f.per) {
					t.Errorf("%s: value %g, want at least %d", a.Labels, a.Value, f.per)
				}
				got[a.Labels.Get("alertname")] = a.Labels.Get("svc")
			}
			if len(got) != len(want) {
				t.Fatalf("%d pending alerts, want %d", len(got), len(want))
			}
			for name, svc := range want {
				if got[name] != svc {
					t.Errorf("alert %s: svc %q, want %q", name, got[name], svc)
				}
			}
			// The ALERTS series were written back, as the query APIs count them.
			v, err = f.db.Instant(context.Background(), `count(ALERTS{alertstate="pending"})`, f.start.Add(3*cycleInterval))
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != 1 || int(v[0].Value) != len(want) {
				t.Fatalf("count(ALERTS{alertstate=\"pending\"}) = %v, want %d", v, len(want))
			}
		})
	}
}

// cpuTime is the CPU time (user and system) of the process so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEngineCycle measures one evaluation cycle of every group — what
// the pipeline's rules loop asks of the Engine each 5 s — over 20,000
// series, for 1,000 and 10,000 rules, after two warm-up cycles (the for
// state is restored after the second). Besides ns/op it reports CPU
// seconds per cycle and their ratio to wall time (how many cores the
// cycle kept busy). It holds cycleMaxEvals cycles: use -benchtime=Nx.
func BenchmarkEngineCycle(b *testing.B) {
	for _, rules := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d/series=20000", rules), func(b *testing.B) {
			f := newCycleFixture(b, rules, 20000)
			f.eval(b, 1)
			f.eval(b, 2)
			n := 2
			cpu0, wall0 := cpuTime(b), time.Now()
			for b.Loop() {
				n++
				f.eval(b, n)
			}
			cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
			b.ReportMetric(cpu.Seconds()/float64(n-2), "cpu-s/cycle")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
			if got := len(f.e.Alerts()); got != rules/2 {
				b.Fatalf("%d alerts, want %d pending", got, rules/2)
			}
		})
	}
}

// BenchmarkEngineAlerts measures Alerts over 10,000 rules with 5,000
// pending alerts: the pipeline lists them after every Eval.
func BenchmarkEngineAlerts(b *testing.B) {
	f := newCycleFixture(b, 10000, 20000)
	f.eval(b, 1)
	f.eval(b, 2)
	for b.Loop() {
		if got := len(f.e.Alerts()); got != 5000 {
			b.Fatalf("%d alerts, want 5000", got)
		}
	}
}

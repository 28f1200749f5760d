package recent

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

const lookback = 5 * time.Minute

// fixture is a real TSDB, a Cache in front of it and a PromQL engine set
// up as the embedded source sets up its own.
type fixture struct {
	db  *tsdb.DB
	c   *Cache
	eng *promql.Engine
}

// newFixture opens the TSDB with blocks of blockRange (0: the default).
func newFixture(tb testing.TB, o Options, blockRange time.Duration) *fixture {
	tb.Helper()
	opts := tsdb.DefaultOptions()
	if blockRange > 0 {
		opts.MinBlockDuration, opts.MaxBlockDuration = blockRange.Milliseconds(), blockRange.Milliseconds()
	}
	db, err := tsdb.Open(tb.TempDir(), nil, nil, opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	// Blocks are cut when the test says (Compact), not by the TSDB's
	// timer between the two queries of a comparison: a block changes the
	// order of the TSDB's series.
	db.DisableCompactions()
	if o.Lookback == 0 {
		o.Lookback = lookback
	}
	eng := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: lookback,
		NoStepSubqueryIntervalFn: func(int64) int64 { return 15_000 }, EnableAtModifier: true, EnableNegativeOffset: true,
	})
	return &fixture{db: db, c: New(db, o), eng: eng}
}

// result is a query's result as text that keeps every bit of each value.
func result(tb testing.TB, eng *promql.Engine, q storage.Queryable, expr string, start, end time.Time, step time.Duration) string {
	tb.Helper()
	var (
		qry promql.Query
		err error
	)
	if step == 0 {
		qry, err = eng.NewInstantQuery(context.Background(), q, nil, expr, start)
	} else {
		qry, err = eng.NewRangeQuery(context.Background(), q, nil, expr, start, end, step)
	}
	if err != nil {
		tb.Fatalf("%s: %v", expr, err)
	}
	defer qry.Close()
	res := qry.Exec(context.Background())
	if res.Err != nil {
		return "error: " + res.Err.Error()
	}
	var b strings.Builder
	point := func(t int64, f float64) { fmt.Fprintf(&b, " %d:%x", t, math.Float64bits(f)) }
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			b.WriteString(s.Metric.String())
			point(s.T, s.F)
			b.WriteString("\n")
		}
	case promql.Matrix:
		for _, s := range v {
			b.WriteString(s.Metric.String())
			for _, p := range s.Floats {
				point(p.T, p.F)
			}
			b.WriteString("\n")
		}
	case promql.Scalar:
		point(v.T, v.V)
	default:
		fmt.Fprintf(&b, "%v", v)
	}
	return b.String()
}

// same asks expr of the Cache and of the TSDB and fails when they differ.
func (f *fixture) same(tb testing.TB, expr string, start, end time.Time, step time.Duration) {
	tb.Helper()
	got := result(tb, f.eng, f.c, expr, start, end, step)
	want := result(tb, f.eng, f.db, expr, start, end, step)
	if got != want {
		tb.Fatalf("%s at %v..%v step %v:\ncache:\n%s\ntsdb:\n%s", expr, start.UnixMilli(), end.UnixMilli(), step, got, want)
	}
}

// exprs are what the comparisons ask: rules' shapes, the functions whose
// result depends on every sample of a window, instant selectors (which read
// the newest sample only), offsets, @, subqueries, and names kept or not.
var exprs = []string{
	`x`, `x{a="1"}`, `x == 0`, `x offset 1m`, `timestamp(x)`, `count(x)`, `absent(nope)`,
	`rate(x[1m])`, `increase(x[2m])`, `irate(x[1m])`, `sum by (a) (rate(x[1m])) > 0.05`,
	`rate({__name__="x"}[1m])`, `rate({__name__=~"x|y"}[1m])`, `increase(x[1m] offset 30s)`,
	`label_replace(rate(x[1m]), "n", "$1", "__name__", "(.*)")`, `resets(x[3m])`, `changes(y[2m])`,
	`deriv(y[2m])`, `max_over_time(y[3m])`, `last_over_time(y[1m])`, `count_over_time(y[1m])`,
	`max_over_time(y[5m:30s])`, `rate(x[5m:1m])`, `y / on(a) x`, `sum(rate(x[1m])) / sum(rate(y[1m]))`,
	`rate(x[15m])`, `rate(h[1m])`, `h`, `m`, `rate(m[1m])`, `y @ end()`, `rate(x[1m] @ start())`,
}

// data appends n rounds of samples through the Cache's appenders: x
// counters that reset now and then, y gauges with NaN, infinities and
// staleness markers, h a histogram, m floats that turn into histograms; every 5 s with jitter and gaps, a few
// samples out of order or repeated (the TSDB refuses or ignores those),
// some batches rolled back.
type data struct {
	rng   *rand.Rand
	t     int64   // ms
	ts    []int64 // every round's t
	n     int     // rounds so far
	x     []float64
	order []int // in which the series are appended: the TSDB's order is not the labels'
}

func newData(seed uint64, series int) *data {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &data{rng: rng, t: 1_700_000_000_000, x: make([]float64, series), order: rng.Perm(series)}
}

func (d *data) round(tb testing.TB, c *Cache) {
	tb.Helper()
	d.t += 5000 + d.rng.Int64N(400) - 200
	if d.rng.IntN(20) == 0 {
		d.t += 30_000 // a gap
	}
	d.ts = append(d.ts, d.t)
	d.n++
	rollback := d.rng.IntN(15) == 0
	v2 := d.rng.IntN(2) == 0
	var (
		app1 storage.Appender
		app2 storage.AppenderV2
	)
	if v2 {
		app2 = c.AppenderV2(context.Background())
	} else {
		app1 = c.Appender(context.Background())
	}
	add := func(ls labels.Labels, t int64, v float64) {
		if v2 {
			app2.Append(0, ls, 0, t, v, nil, nil, storage.AppendV2Options{})
		} else {
			app1.Append(0, ls, t, v)
		}
	}
	for _, i := range d.order {
		a := fmt.Sprint(i)
		if d.rng.IntN(10) == 0 {
			d.x[i] = 0 // a reset
		}
		d.x[i] += float64(d.rng.IntN(50))
		t := d.t
		if d.rng.IntN(25) == 0 {
			t -= 7000 // out of order: refused
		}
		add(labels.FromStrings("__name__", "x", "a", a), t, d.x[i])
		var y float64
		switch d.rng.IntN(30) {
		case 0:
			y = math.NaN()
		case 1:
			y = math.Inf(1)
		case 2:
			y = math.Float64frombits(value.StaleNaN)
		default:
			y = d.rng.NormFloat64() * 10
		}
		add(labels.FromStrings("__name__", "y", "a", a), d.t, y)
		if d.rng.IntN(10) == 0 {
			add(labels.FromStrings("__name__", "y", "a", a), d.t, y) // the same again: ignored
		}
	}
	h := &histogram.Histogram{Count: uint64(d.t / 1000), Sum: 1, Schema: 0, ZeroThreshold: 0.001, ZeroCount: uint64(d.t / 1000),
		PositiveSpans: []histogram.Span{}, NegativeSpans: []histogram.Span{}}
	// h is a histogram throughout; m turns from floats to histograms.
	for _, name := range []string{"h", "m"} {
		ls := labels.FromStrings("__name__", name)
		switch {
		case name == "m" && d.n < 45:
			add(ls, d.t, float64(d.n))
		case v2:
			app2.Append(0, ls, 0, d.t, 0, h, nil, storage.AppendV2Options{})
		default:
			app1.AppendHistogram(0, ls, d.t, h, nil)
		}
	}
	var err error
	switch {
	case rollback && v2:
		err = app2.Rollback()
	case rollback:
		err = app1.Rollback()
	case v2:
		err = app2.Commit()
	default:
		err = app1.Commit()
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// compare runs rounds of appends, asking every expression after each at
// the newest time (as rules do), at a random time from ten minutes before
// to two after, at one around the oldest samples the arrays keep (where a
// select is served or not) and at two where a window begins or ends on a
// sample (or a millisecond off), and a range query now and then. With
// blockRange, the head is compacted into blocks as it goes.
func compare(tb testing.TB, seed uint64, rounds int, blockRange time.Duration) Stats {
	f := newFixture(tb, Options{}, blockRange)
	d := newData(seed, 6)
	for range 30 {
		d.round(tb, f.c)
	}
	for n := range rounds {
		d.round(tb, f.c)
		if blockRange > 0 && n%10 == 0 {
			if err := f.db.Compact(context.Background()); err != nil {
				tb.Fatal(err)
			}
		}
		now := time.UnixMilli(d.t)
		keep := time.Duration(f.c.keep.Load()) * time.Millisecond
		times := []time.Time{now, now.Add(time.Duration(d.rng.Int64N(int64(12*time.Minute))) - 10*time.Minute)}
		times = append(times, now.Add(time.Duration(d.rng.Int64N(int64(keep+time.Minute)))-keep))
		// Windows that begin or end on a sample, or a millisecond off.
		for range 2 {
			at := time.UnixMilli(d.ts[len(d.ts)-1-d.rng.IntN(min(len(d.ts), 60))])
			w := []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, lookback}[d.rng.IntN(5)]
			off := time.Duration(d.rng.IntN(3)-1) * time.Millisecond
			times = append(times, at.Add(w+off))
		}
		for _, e := range exprs {
			for _, at := range times {
				f.same(tb, e, at, at, 0)
			}
		}
		if d.rng.IntN(4) == 0 {
			e := exprs[d.rng.IntN(len(exprs))]
			f.same(tb, e, now.Add(-3*time.Minute), now, 20*time.Second)
		}
	}
	return f.c.Stats()
}

func TestQueriesMatchTheTSDB(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			st := compare(t, seed, 40, 0)
			// The comparison is worth something only if both paths ran.
			if st.Served == 0 || st.Fallback == 0 {
				t.Fatalf("served %d selects from the arrays and %d from the TSDB; want both", st.Served, st.Fallback)
			}
		})
	}
}

func FuzzQueriesMatchTheTSDB(f *testing.F) {
	f.Add(uint64(7), uint8(20))
	f.Add(uint64(1<<40), uint8(5))
	f.Fuzz(func(t *testing.T, seed uint64, rounds uint8) {
		compare(t, seed, int(rounds%40), 0)
	})
}

// With blocks, a select of a range a block overlaps goes to the TSDB: it
// merges the head with the blocks in label order.
func TestQueriesMatchTheTSDBWithBlocks(t *testing.T) {
	st := compare(t, 11, 80, 2*time.Minute)
	if st.Served == 0 || st.Fallback == 0 {
		t.Fatalf("served %d selects from the arrays and %d from the TSDB; want both", st.Served, st.Fallback)
	}
}

// A query sees each commit whole: a and b are always committed together
// with the same value, so a - b is 0 whatever commits run under the query
// (evaluated ahead of the newest sample, where each commit changes it).
func TestQueriesSeeOneCommit(t *testing.T) {
	f := newFixture(t, Options{}, 0)
	a, b := labels.FromStrings("__name__", "a"), labels.FromStrings("__name__", "b")
	var newest atomic.Int64
	commit := func(i int64) {
		app := f.c.Appender(context.Background())
		if _, err := app.Append(0, a, i*1000, float64(i)); err != nil {
			t.Error(err)
		}
		if _, err := app.Append(0, b, i*1000, float64(i)); err != nil {
			t.Error(err)
		}
		if err := app.Commit(); err != nil {
			t.Error(err)
		}
		newest.Store(i * 1000)
	}
	for i := range int64(100) {
		commit(i)
	}
	// The commits run while the queries do (a fixed number of them, so
	// that a scheduler running one goroutine at a time still interleaves).
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := int64(100); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			commit(i)
			runtime.Gosched()
		}
	})
	for range 400 {
		at := time.UnixMilli(newest.Load() + 30_000)
		for _, e := range []string{`a - b`, `rate(a[1m]) - rate(b[1m])`} {
			got := result(t, f.eng, f.c, e, at, at, 0)
			if got != "" && got != fmt.Sprintf("{} %d:0\n", at.UnixMilli()) {
				t.Fatalf("%s at %d = %q, want 0: the query saw half a commit", e, at.UnixMilli(), got)
			}
		}
		runtime.Gosched()
	}
	close(done)
	wg.Wait()
	if st := f.c.Stats(); st.Served == 0 {
		t.Fatalf("no select was served from the arrays: %+v", st)
	}
}

// The edges of what the arrays hold, where a select must go to the TSDB.
func TestEdgesOfTheArrays(t *testing.T) {
	ls := labels.FromStrings("__name__", "x")
	// setup appends x = t/1000 every 5 s for n samples, asks for x once
	// (rate(x[1m]) at the newest sample, so the arrays begin 1m before
	// it) and appends one more to load them.
	setup := func(t *testing.T, n int64) (*fixture, *ring) {
		f := newFixture(t, Options{}, 0)
		add := func(i int64) {
			app := f.c.Appender(context.Background())
			if _, err := app.Append(0, ls, i*5000, float64(i*5)); err != nil {
				t.Fatal(err)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			add(i)
		}
		f.same(t, `rate(x[1m])`, time.UnixMilli((n-1)*5000), time.UnixMilli((n-1)*5000), 0)
		add(n)
		r := f.c.series[1]
		if r == nil || r.from == tainted {
			t.Fatalf("x is not in the arrays: %+v", f.c.series)
		}
		return f, r
	}
	tests := []struct {
		name string
		// at is when to evaluate expr, given the oldest sample the
		// arrays hold and from, when they begin.
		at   func(oldest, from int64) int64
		expr string
		// served is whether the select must be answered from the arrays.
		served bool
	}{
		{"instant at the oldest sample", func(o, _ int64) int64 { return o }, `x`, true},
		{"instant a millisecond before the oldest sample", func(o, _ int64) int64 { return o - 1 }, `x`, false},
		{"range beginning where the arrays begin", func(_, f int64) int64 { return f + 60_000 - 1 }, `count_over_time(x[1m])`, true},
		{"range beginning a millisecond before", func(_, f int64) int64 { return f + 60_000 - 2 }, `count_over_time(x[1m])`, false},
		{"range ending on a sample", func(o, _ int64) int64 { return o + 60_000 }, `count_over_time(x[1m])`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int64{40, 200} { // loaded, and trimmed since
				f, r := setup(t, n)
				if n == 200 {
					for i := n + 1; i < n+60; i++ {
						app := f.c.Appender(context.Background())
						app.Append(0, ls, i*5000, float64(i*5))
						app.Commit()
					}
				}
				at := time.UnixMilli(tt.at(r.p[0].t, r.from))
				before := f.c.Stats()
				f.same(t, tt.expr, at, at, 0)
				served := f.c.Stats().Served > before.Served
				if served != tt.served {
					t.Errorf("%d samples: %s at %d (arrays from %d, oldest %d): served %v, want %v", n, tt.expr, at.UnixMilli(), r.from, r.p[0].t, served, tt.served)
				}
			}
		})
	}
}

// The metrics say what answered the selects and what the arrays hold.
func TestMetrics(t *testing.T) {
	f := newFixture(t, Options{}, 0)
	d := newData(3, 4)
	for range 15 { // more than the minute of rate(x[1m])
		d.round(t, f.c)
	}
	for range 40 {
		d.round(t, f.c)
		now := time.UnixMilli(d.t)
		f.same(t, `sum(rate(x[1m]))`, now, now, 0)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.c)
	st := f.c.Stats()
	want := fmt.Sprintf(`
# HELP oncall_rule_query_cache_series Series whose recent samples are kept decoded for rule queries.
# TYPE oncall_rule_query_cache_series gauge
oncall_rule_query_cache_series %d
# HELP oncall_rule_query_selects_total Selects of rule queries, by what answered them: the arrays of recent samples or the TSDB.
# TYPE oncall_rule_query_selects_total counter
oncall_rule_query_selects_total{answered="arrays"} %d
oncall_rule_query_selects_total{answered="tsdb"} %d
`, st.Series, st.Served, st.Fallback)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "oncall_rule_query_cache_series", "oncall_rule_query_selects_total"); err != nil {
		t.Fatal(err)
	}
	// x's four series, asked for at the first evaluation, loaded at the
	// next commit and served from the second evaluation on, with the
	// minute of rate and some slack kept.
	if st.Series != 4 || st.Served != 39 || st.Fallback != 1 || st.Samples < 4*12 {
		t.Fatalf("stats %+v: want 4 series, 39 selects from the arrays, 1 from the TSDB, at least 48 samples", st)
	}
	if got := testutil.ToFloat64(collectorOf(f.c, "oncall_rule_query_cache_window_seconds")); got < 60 || got > 120 {
		t.Fatalf("window %gs, want the minute of rate(x[1m]) and some slack", got)
	}
}

// collectorOf is the one metric of c named name, as a collector.
func collectorOf(c prometheus.Collector, name string) prometheus.Collector {
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		all := make(chan prometheus.Metric, 16)
		c.Collect(all)
		close(all)
		for m := range all {
			if strings.Contains(m.Desc().String(), `"`+name+`"`) {
				ch <- m
			}
		}
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// The iterator answers every Next and Seek as Prometheus's own iterator
// over a list of samples does (storage.NewListSeriesIterator).
func TestIteratorIsAChunkencIterator(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 6 {
		var p points
		var ref []chunks.Sample
		for i := range n {
			tm, v := int64(i*10), rng.Float64()
			p = append(p, point{t: tm, f: v})
			ref = append(ref, sampleOf{tm, v})
		}
		for range 200 {
			got := (&series{p: p}).Iterator(nil)
			want := storage.NewListSeriesIterator(samplesOf(ref))
			var trace []string
			for range 6 {
				var g, w chunkenc.ValueType
				if rng.IntN(2) == 0 {
					g, w = got.Next(), want.Next()
					trace = append(trace, "Next")
				} else {
					at := int64(rng.IntN(n*10+20) - 10)
					g, w = got.Seek(at), want.Seek(at)
					trace = append(trace, fmt.Sprint("Seek ", at))
				}
				if g != w {
					t.Fatalf("%d samples, %v: %v, want %v", n, trace, g, w)
				}
				if g != chunkenc.ValNone {
					gt, gv := got.At()
					wt, wv := want.At()
					if gt != wt || gv != wv || got.AtT() != wt {
						t.Fatalf("%d samples, %v: at %d %g, want %d %g", n, trace, gt, gv, wt, wv)
					}
				}
			}
		}
	}
}

type sampleOf struct {
	t int64
	f float64
}

func (s sampleOf) T() int64                      { return s.t }
func (s sampleOf) ST() int64                     { return 0 }
func (s sampleOf) F() float64                    { return s.f }
func (s sampleOf) H() *histogram.Histogram       { return nil }
func (s sampleOf) FH() *histogram.FloatHistogram { return nil }
func (s sampleOf) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sampleOf) Copy() chunks.Sample           { return s }

type samplesOf []chunks.Sample

func (s samplesOf) Get(i int) chunks.Sample { return s[i] }
func (s samplesOf) Len() int                { return len(s) }

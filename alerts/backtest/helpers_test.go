package backtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// epoch is time 0 of the synthetic histories.
var epoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// history loads series in promqltest's notation ("load 1m" lines) into an
// in-memory TSDB, every sample at once.
func history(t testing.TB, load string) *promqltest.LazyLoader {
	t.Helper()
	ll := lazyHistory(t, load)
	loadTill(t, ll, epoch.Add(365*24*time.Hour))
	return ll
}

// lazyHistory is history with no sample loaded yet: loadTill loads them
// as time passes.
func lazyHistory(t testing.TB, load string) *promqltest.LazyLoader {
	t.Helper()
	ll, err := promqltest.NewLazyLoader(load, promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true, StartTime: epoch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ll.Close() })
	return ll
}

func loadTill(t testing.TB, ll *promqltest.LazyLoader, ts time.Time) {
	t.Helper()
	ll.WithSamplesTill(ts, func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	})
}

// engineSource is a Source over the real PromQL engine and a storage: what
// a Prometheus answers, in-process. It counts its queries and the points
// and concurrency they ask for.
type engineSource struct {
	engine promql.QueryEngine
	q      storage.Queryable

	mu           sync.Mutex
	queries      []string
	maxPoints    int
	inFlight     int
	maxInFlight  int
	beforeReturn func() // called with a query in flight
}

// newEngineSource queries the storage of ll with an engine set as a stock
// Prometheus's (the loader's own refuses queries of 10,000 samples).
func newEngineSource(t testing.TB, ll *promqltest.LazyLoader) *engineSource {
	e := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() }, EnableAtModifier: true, EnableNegativeOffset: true})
	t.Cleanup(func() { e.Close() })
	return &engineSource{engine: e, q: ll.Storage()}
}

// Range runs a range query as Prometheus's API does, refusing more than
// 11,000 points as it does.
func (s *engineSource) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	points := int(end.Sub(start)/step) + 1
	s.mu.Lock()
	s.queries = append(s.queries, expr)
	s.maxPoints = max(s.maxPoints, points)
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	hook := s.beforeReturn
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if end.Sub(start)/step > 11000 {
		return nil, fmt.Errorf("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	q, err := s.engine.NewRangeQuery(ctx, s.q, nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	if hook != nil {
		hook()
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, err
	}
	var out []metrics.Series
	for _, sr := range m {
		ps := make([]metrics.Point, len(sr.Floats))
		for i, p := range sr.Floats {
			ps[i] = metrics.Point{T: time.UnixMilli(p.T).UTC(), V: p.F}
		}
		out = append(out, metrics.Series{Labels: sr.Metric, Points: ps})
	}
	return out, nil
}

// writeRules writes rule files into a temporary directory and returns
// their paths.
func writeRules(t testing.TB, files map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// refEpisode is an episode as the reference evaluation saw it.
type refEpisode struct {
	labels     string
	start, end time.Time
	open       bool
}

func (e refEpisode) String() string {
	s := fmt.Sprintf("%s %s→%s", e.labels, e.start.Sub(epoch), e.end.Sub(epoch))
	if e.open {
		s += " (open)"
	}
	return s
}

// reference is the real thing: Prometheus's rule groups loaded from the
// files, each evaluated at its own slots from since to until (as a
// Prometheus started at since would: the slot at or after since, then
// every interval), in time order, over the samples of the lazy loader ll
// up to then (as they would have been scraped), recording rules writing
// into the storage; after every evaluation each alerting rule's firing
// alerts are read. Before since, other groups run for warmup and are
// dropped: the recorded series have a history, the alerts start afresh.
// At the end every sample is loaded. It returns the episodes of each
// alert name: from the first evaluation an alert fires at to the first
// it no longer does.
func reference(t testing.TB, ll *promqltest.LazyLoader, files []string, interval, warmup time.Duration, since, until time.Time) map[string][]refEpisode {
	t.Helper()
	if warmup > 0 {
		evaluate(t, ll, files, interval, since.Add(-warmup), since, false)
	}
	out := evaluate(t, ll, files, interval, since, until, true)
	loadTill(t, ll, epoch.Add(365*24*time.Hour))
	return out
}

// evaluate runs fresh groups from since to until (inclusive when last)
// and returns the episodes of their alerts.
func evaluate(t testing.TB, ll *promqltest.LazyLoader, files []string, interval time.Duration, since, until time.Time, last bool) map[string][]refEpisode {
	t.Helper()
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()),
		AppendableV2: ll.Storage(),
		Queryable:    ll.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
	})
	loaded, errs := m.LoadGroups(interval, labels.EmptyLabels(), "", nil, false, files...)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	type evalAt struct {
		ts    time.Time
		order int
		g     *rules.Group
	}
	var evals []evalAt
	var groups []*rules.Group
	for _, g := range loaded {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].File()+groups[i].Name() < groups[j].File()+groups[j].Name() })
	for i, g := range groups {
		ts := g.EvalTimestamp(since.UnixNano())
		if ts.Before(since) {
			ts = ts.Add(g.Interval())
		}
		for ; ts.Before(until) || (last && ts.Equal(until)); ts = ts.Add(g.Interval()) {
			evals = append(evals, evalAt{ts, i, g})
		}
	}
	sort.SliceStable(evals, func(i, j int) bool {
		if !evals[i].ts.Equal(evals[j].ts) {
			return evals[i].ts.Before(evals[j].ts)
		}
		return evals[i].order < evals[j].order
	})
	firing := map[string]map[string]time.Time{} // alert → labels → since
	out := map[string][]refEpisode{}
	for _, e := range evals {
		loadTill(t, ll, e.ts)
		e.g.Eval(context.Background(), e.ts)
		for _, r := range e.g.AlertingRules() {
			now := map[string]bool{}
			for _, a := range r.ActiveAlerts() {
				if a.State == rules.StateFiring {
					now[a.Labels.String()] = true
				}
			}
			f := firing[r.Name()]
			if f == nil {
				f = map[string]time.Time{}
				firing[r.Name()] = f
			}
			for ls, start := range f {
				if !now[ls] {
					out[r.Name()] = append(out[r.Name()], refEpisode{ls, start, e.ts, false})
					delete(f, ls)
				}
			}
			for ls := range now {
				if _, ok := f[ls]; !ok {
					f[ls] = e.ts
				}
			}
		}
	}
	for name, f := range firing {
		for ls, start := range f {
			out[name] = append(out[name], refEpisode{ls, start, until, true})
		}
	}
	for name := range out {
		slices.SortFunc(out[name], func(a, b refEpisode) int {
			if c := a.start.Compare(b.start); c != 0 {
				return c
			}
			if a.labels < b.labels {
				return -1
			}
			return 1
		})
	}
	return out
}

// episodesOf are the backtest's episodes of each alert name, as the
// reference writes them.
func episodesOf(rep Report) map[string][]refEpisode {
	out := map[string][]refEpisode{}
	for _, r := range rep.Rules {
		for _, e := range r.EpisodeList {
			out[r.Alert] = append(out[r.Alert], refEpisode{e.Labels.String(), e.Start, e.End, e.Open})
		}
	}
	return out
}

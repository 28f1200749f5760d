package metrics

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fixture is a real /metrics endpoint backed by a client_golang registry.
type fixture struct {
	srv     *httptest.Server
	reqs    *prometheus.CounterVec
	users   prometheus.Gauge
	queues  *prometheus.GaugeVec
	latency prometheus.Histogram
	down    atomic.Bool
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{
		reqs:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "Requests."}, []string{"code"}),
		users:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "active_users", Help: "Users."}),
		queues:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "queue_depth", Help: "Depth."}, []string{"queue"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.5, 1}}),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.reqs, f.users, f.queues, f.latency)
	f.srv = serveRegistry(t, reg, &f.down)
	return f
}

// serveRegistry serves reg's /metrics, or 503 while down is set.
func serveRegistry(t testing.TB, reg *prometheus.Registry, down *atomic.Bool) *httptest.Server {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down != nil && down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (f *fixture) instance() string { return hostPort(f.srv) }

func hostPort(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func newEmbedded(t testing.TB, targets ...Target) *Embedded {
	t.Helper()
	e, err := NewEmbedded(EmbeddedOptions{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func appTarget(f *fixture) Target { return Target{Job: "app", URL: f.srv.URL + "/metrics"} }

func scrape(t *testing.T, e *Embedded, at time.Time) {
	t.Helper()
	if err := e.ScrapeOnce(context.Background(), at); err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, e *Embedded, expr string, at time.Time) Vector {
	t.Helper()
	v, err := e.Instant(context.Background(), expr, at)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func one(t *testing.T, e *Embedded, expr string, at time.Time) float64 {
	t.Helper()
	v := query(t, e, expr, at)
	if len(v) != 1 {
		t.Fatalf("%s: %d samples, want 1: %v", expr, len(v), v)
	}
	return v[0].Value
}

func TestEmbeddedScrapeAndQuery(t *testing.T) {
	f := newFixture(t)
	e := newEmbedded(t, appTarget(f))
	// 10 requests/s, 1 of them a 500, every 15s for two minutes; every
	// request takes 0.3s.
	f.users.Set(1000)
	for i := 0; i <= 8; i++ { // scrape i sees active_users 1000+i
		scrape(t, e, t0.Add(time.Duration(i)*15*time.Second))
		f.reqs.WithLabelValues("200").Add(135)
		f.reqs.WithLabelValues("500").Add(15)
		f.users.Set(float64(1001 + i))
		for range 150 {
			f.latency.Observe(0.3)
		}
	}
	at := t0.Add(2 * time.Minute)
	tests := []struct {
		expr string
		want float64
	}{
		{`sum(rate(requests_total[1m]))`, 10},
		{`rate(requests_total{code="500"}[1m])`, 1},
		{`sum(rate(requests_total{code="500"}[1m])) / sum(rate(requests_total[1m]))`, 0.1},
		{`active_users`, 1008},
		// All observations fall in (0.1, 0.5]: 0.1 + 0.9*0.4.
		{`histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[1m])))`, 0.46},
		{`rate(latency_seconds_count[1m])`, 10},
		{`up{job="app"}`, 1},
		{`scrape_samples_scraped`, 9},
		{`scalar(active_users) * 2`, 2016},
		{`time()`, float64(at.Unix())},
		{`active_users @ end() offset 30s`, 1006}, // @ and negative offsets are enabled
		{`active_users offset -15s`, 1008},
		{`max_over_time(active_users[1m:])`, 1008},
	}
	for _, tt := range tests {
		if got := one(t, e, tt.expr, at); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}

	v := query(t, e, `active_users`, at)
	if got, want := v[0].Labels.String(), `{__name__="active_users", instance="`+f.instance()+`", job="app"}`; got != want {
		t.Errorf("labels = %s, want %s", got, want)
	}
	if !v[0].T.Equal(at) {
		t.Errorf("sample time = %v, want %v", v[0].T, at)
	}
	if d := one(t, e, `scrape_duration_seconds`, at); d <= 0 || d > 10 {
		t.Errorf("scrape_duration_seconds = %v", d)
	}
	if s := query(t, e, `1 + 1`, at); len(s) != 1 || s[0].Value != 2 || s[0].Labels.Len() != 0 || !s[0].T.Equal(at) {
		t.Errorf("scalar = %+v, want one sample 2 with no labels at %v", s, at)
	}

	series, err := e.Range(context.Background(), `active_users`, t0, at, 30*time.Second)
	if err != nil || len(series) != 1 || len(series[0].Points) != 5 {
		t.Fatalf("range = %+v, %v", series, err)
	}
	for i, p := range series[0].Points {
		if want := float64(1000 + 2*i); p.V != want || !p.T.Equal(t0.Add(time.Duration(i)*30*time.Second)) {
			t.Errorf("point %d = %+v, want %v", i, p, want)
		}
	}
	if h := e.Targets(); len(h) != 1 || !h[0].Up || !h[0].LastScrape.Equal(at) || h[0].LastError != "" {
		t.Errorf("health = %+v", h)
	}
}

func TestEmbeddedQueryErrors(t *testing.T) {
	e := newEmbedded(t)
	tests := []struct{ expr, want string }{
		{`sum(rate(x[5m]) by`, `query "sum(rate(x[5m]) by"`},
		{`x[5m]`, `query "x[5m]": result is a matrix`},
		{`"hello"`, `query "\"hello\"": result is a string`},
		{`nosuchfunc(x)`, `query "nosuchfunc(x)"`},
	}
	for _, tt := range tests {
		if _, err := e.Instant(context.Background(), tt.expr, t0); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %s", tt.expr, err, tt.want)
		}
	}
	if _, err := e.Range(context.Background(), `rate(x[`, t0, t0.Add(time.Minute), time.Second); err == nil || !strings.Contains(err.Error(), `"rate(x["`) {
		t.Errorf("range err = %v", err)
	}
}

func TestEmbeddedRun(t *testing.T) {
	f := newFixture(t)
	f.users.Set(7)
	e, err := NewEmbedded(EmbeddedOptions{ScrapeInterval: time.Hour, Targets: []Target{appTarget(f)}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	// Run scrapes at once; poll for it rather than wait for the ticker.
	deadline := time.Now().Add(10 * time.Second)
	for e.Targets()[0].LastScrape.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("Run did not scrape")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got := one(t, e, `active_users`, e.Targets()[0].LastScrape); got != 7 {
		t.Errorf("active_users = %v", got)
	}
}

func TestNewEmbeddedValidates(t *testing.T) {
	tests := []struct {
		name string
		opts EmbeddedOptions
		want string
	}{
		{"no job", EmbeddedOptions{Targets: []Target{{URL: "http://a:1/metrics"}}}, `target "http://a:1/metrics": job is empty`},
		{"no scheme", EmbeddedOptions{Targets: []Target{{Job: "a", URL: "a:1"}}}, `target "a:1" of job "a"`},
		{"twice", EmbeddedOptions{Targets: []Target{{Job: "a", URL: "http://a"}, {Job: "a", URL: "http://a"}}}, `listed twice`},
		{"timeout", EmbeddedOptions{ScrapeInterval: time.Second, ScrapeTimeout: 2 * time.Second}, `scrape timeout "2s" is longer than the scrape interval "1s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbedded(tt.opts)
			if err == nil {
				e.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %s", err, tt.want)
			}
		})
	}
}

func TestEmbeddedClose(t *testing.T) {
	e, err := NewEmbedded(EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := e.tmpDir
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary tsdb %s still there: %v", dir, err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := e.ScrapeOnce(context.Background(), t0); !errors.Is(err, errClosed) {
		t.Errorf("ScrapeOnce after Close = %v", err)
	}
	if _, err := e.Instant(context.Background(), "up", t0); !errors.Is(err, errClosed) {
		t.Errorf("Instant after Close = %v", err)
	}

	kept := t.TempDir()
	e, err = NewEmbedded(EmbeddedOptions{Dir: kept})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a configured Dir must survive Close: %v", err)
	}
}

// Scrapes, queries and health reads at once: for the race detector.
func TestEmbeddedConcurrentUse(t *testing.T) {
	f, g := newFixture(t), newFixture(t)
	e := newEmbedded(t, appTarget(f), Target{Job: "other", URL: g.srv.URL})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 10 {
				at := t0.Add(time.Duration(j*4+i) * time.Second)
				e.ScrapeOnce(context.Background(), at) // out-of-order ones are dropped
				if _, err := e.Instant(context.Background(), `sum by (job) (up)`, at); err != nil {
					t.Error(err)
				}
				e.Targets()
			}
		})
	}
	wg.Wait()
	if got := one(t, e, `count(up)`, t0.Add(time.Minute)); got != 2 {
		t.Errorf("count(up) = %v", got)
	}
}

func TestEmbeddedAppend(t *testing.T) {
	e := newEmbedded(t)
	ls := labels.FromStrings("__name__", "backfilled", "job", "import")
	for i, v := range []float64{1, 2, 4} {
		if err := e.Append(ls, t0.Add(time.Duration(i)*time.Minute), v); err != nil {
			t.Fatal(err)
		}
	}
	if got := one(t, e, `sum_over_time(backfilled[5m])`, t0.Add(2*time.Minute)); got != 7 {
		t.Errorf("sum_over_time = %v, want 7", got)
	}
	if err := e.Append(ls, t0, 9); err == nil || !strings.Contains(err.Error(), `backfilled`) {
		t.Errorf("out-of-order append: %v", err)
	}
}

// The logger hears about targets going down and up, not the TSDB's
// routine Info chatter.
func TestEmbeddedLogs(t *testing.T) {
	f := newFixture(t)
	var buf lockedBuffer
	e, err := NewEmbedded(EmbeddedOptions{Targets: []Target{appTarget(f)}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f.down.Store(true)
	e.ScrapeOnce(context.Background(), t0)
	e.ScrapeOnce(context.Background(), t0.Add(time.Second)) // still down: no second warning
	f.down.Store(false)
	scrape(t, e, t0.Add(2*time.Second))
	log := buf.String()
	if strings.Count(log, "scrape target down") != 1 || !strings.Contains(log, "scrape target up") || strings.Contains(log, "WAL") {
		t.Errorf("log:\n%s", log)
	}
}

// RuleQuery answers as Instant does, in PromQL's own types, and turns a
// scalar into one sample as Prometheus's rule manager does.
func TestEmbeddedRuleQuery(t *testing.T) {
	e, err := NewEmbedded(EmbeddedOptions{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, job := range []string{"api", "db"} {
		if err := e.Append(labels.FromStrings("__name__", "up", "job", job), at, float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	v, err := e.RuleQuery(ctx, "up", at)
	want, _ := e.Instant(ctx, "up", at)
	if err != nil || len(v) != 2 || len(want) != 2 {
		t.Fatalf("RuleQuery %v %v, Instant %v", v, err, want)
	}
	for i := range v {
		if !labels.Equal(v[i].Metric, want[i].Labels) || v[i].F != want[i].Value || v[i].T != at.UnixMilli() {
			t.Errorf("sample %d: %v, want %v", i, v[i], want[i])
		}
	}
	if s, err := e.RuleQuery(ctx, "scalar(up{job=\"db\"}) * 3", at); err != nil || len(s) != 1 || s[0].F != 3 || !s[0].Metric.IsEmpty() {
		t.Errorf("scalar: %v %v", s, err)
	}
	if _, err := e.RuleQuery(ctx, "up[5m]", at); err == nil {
		t.Error("a range vector is not a rule result")
	}
	e.Close()
	if _, err := e.RuleQuery(ctx, "up", at); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after close: %v", err)
	}
}

package metrics

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fixture is a real /metrics endpoint backed by a client_golang registry.
type fixture struct {
	srv     *httptest.Server
	reqs    *prometheus.CounterVec
	users   prometheus.Gauge
	latency prometheus.Histogram
	down    bool
}

func newFixture(t *testing.T) *fixture {
	reg := prometheus.NewRegistry()
	f := &fixture{
		reqs:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total"}, []string{"code"}),
		users:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "active_users"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Buckets: []float64{0.1, 0.5, 1}}),
	}
	reg.MustRegister(f.reqs, f.users, f.latency)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newEmbedded(t *testing.T, f *fixture) *Embedded {
	e, err := NewEmbedded(EmbeddedOptions{Targets: []Target{{Job: "app", URL: f.srv.URL + "/metrics"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func one(t *testing.T, e *Embedded, expr string, at time.Time) float64 {
	t.Helper()
	v, err := e.Instant(context.Background(), expr, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 {
		t.Fatalf("%s: %d samples, want 1: %v", expr, len(v), v)
	}
	return v[0].Value
}

func TestEmbeddedScrapeAndQuery(t *testing.T) {
	f := newFixture(t)
	e := newEmbedded(t, f)
	ctx := context.Background()
	// 10 requests/s, 1 of them a 500, every 15s for two minutes.
	for i := 0; i <= 8; i++ {
		if err := e.ScrapeOnce(ctx, t0.Add(time.Duration(i)*15*time.Second)); err != nil {
			t.Fatal(err)
		}
		f.reqs.WithLabelValues("200").Add(135)
		f.reqs.WithLabelValues("500").Add(15)
		f.users.Set(float64(1000 + i))
		for range 10 {
			f.latency.Observe(0.3)
		}
	}
	at := t0.Add(2 * time.Minute)
	if got := one(t, e, `sum(rate(requests_total[1m]))`, at); math.Abs(got-10) > 1e-9 {
		t.Errorf("rate = %v, want 10", got)
	}
	if got := one(t, e, `sum(rate(requests_total{code="500"}[1m])) / sum(rate(requests_total[1m]))`, at); math.Abs(got-0.1) > 1e-9 {
		t.Errorf("error ratio = %v, want 0.1", got)
	}
	if got := one(t, e, `active_users`, at); got != 1007 {
		t.Errorf("gauge = %v, want 1007", got)
	}
	if got := one(t, e, `histogram_quantile(0.9, rate(latency_seconds_bucket[1m]))`, at); got <= 0.1 || got > 0.5 {
		t.Errorf("p90 = %v, want within (0.1, 0.5]", got)
	}
	if got := one(t, e, `up{job="app"}`, at); got != 1 {
		t.Errorf("up = %v", got)
	}
	if got := one(t, e, `scalar(active_users) * 2`, at); got != 2014 {
		t.Errorf("scalar = %v", got)
	}
	v, err := e.Instant(ctx, `active_users`, at)
	if err != nil || v[0].Labels.Get("instance") != strings.TrimPrefix(f.srv.URL, "http://") || v[0].Labels.Get("job") != "app" {
		t.Errorf("target labels: %v %v", v, err)
	}
	series, err := e.Range(ctx, `active_users`, t0, at, 30*time.Second)
	if err != nil || len(series) != 1 || len(series[0].Points) != 5 {
		t.Fatalf("range = %+v, %v", series, err)
	}
}

func TestEmbeddedTargetDownGoesStale(t *testing.T) {
	f := newFixture(t)
	e := newEmbedded(t, f)
	ctx := context.Background()
	f.users.Set(5)
	e.ScrapeOnce(ctx, t0)
	f.down = true
	if err := e.ScrapeOnce(ctx, t0.Add(15*time.Second)); err == nil || !strings.Contains(err.Error(), f.srv.URL) {
		t.Fatalf("want a scrape error naming the target, got %v", err)
	}
	at := t0.Add(20 * time.Second)
	if got := one(t, e, `up`, at); got != 0 {
		t.Errorf("up = %v, want 0", got)
	}
	if v, _ := e.Instant(ctx, `active_users`, at); len(v) != 0 {
		t.Errorf("series of a down target should be stale, got %v", v)
	}
	if h := e.Targets(); len(h) != 1 || h[0].Up || h[0].LastError == "" {
		t.Errorf("health = %+v", h)
	}
}

func TestEmbeddedBadExpression(t *testing.T) {
	e := newEmbedded(t, newFixture(t))
	_, err := e.Instant(context.Background(), `sum(rate(x[5m]) by`, t0)
	if err == nil || !strings.Contains(err.Error(), `"sum(rate(x[5m]) by"`) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkEmbeddedInstant(b *testing.B) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total"}, []string{"job_name", "id"})
	reg.MustRegister(c)
	for i := range 1000 {
		c.WithLabelValues([]string{"a", "b", "c", "d"}[i%4], string(rune('a'+i%26))+strings.Repeat("x", i%40)).Add(1)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	e, _ := NewEmbedded(EmbeddedOptions{Targets: []Target{{Job: "bench", URL: srv.URL}}})
	defer e.Close()
	for i := range 10 {
		e.ScrapeOnce(context.Background(), t0.Add(time.Duration(i)*15*time.Second))
	}
	at := t0.Add(150 * time.Second)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Instant(context.Background(), `sum by (job_name) (rate(x_total[1m]))`, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScrapeOnce(b *testing.B) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "g"}, []string{"id"})
	reg.MustRegister(c)
	for i := range 1000 {
		c.WithLabelValues(strings.Repeat("i", 1+i%50) + string(rune('a'+i%26))).Set(float64(i))
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	e, _ := NewEmbedded(EmbeddedOptions{Targets: []Target{{Job: "bench", URL: srv.URL}}})
	defer e.Close()
	at := t0
	for b.Loop() {
		at = at.Add(time.Second)
		if err := e.ScrapeOnce(context.Background(), at); err != nil {
			b.Fatal(err)
		}
	}
}

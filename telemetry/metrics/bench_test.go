package metrics

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkEmbeddedInstant evaluates a rule-like expression over 1000
// counter series: 250 per target, four targets (jobs) on one endpoint, ten
// scrapes 15s apart.
func BenchmarkEmbeddedInstant(b *testing.B) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x", Help: "X."}, []string{"id"})
	reg.MustRegister(c)
	srv := serveRegistry(b, reg, nil)
	var targets []Target
	for j := range 4 {
		targets = append(targets, Target{Job: "job" + strconv.Itoa(j), URL: srv.URL + "/metrics?j=" + strconv.Itoa(j)})
	}
	e := newEmbedded(b, targets...)
	ctx := context.Background()
	for i := range 10 {
		for id := range 250 {
			c.WithLabelValues(strconv.Itoa(id)).Add(float64(id))
		}
		if err := e.ScrapeOnce(ctx, t0.Add(time.Duration(i)*15*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	const expr = `sum by (job) (rate(x[1m]))`
	at := t0.Add(135 * time.Second)
	if n, _ := e.Instant(ctx, `count(x)`, at); len(n) != 1 || n[0].Value != 1000 {
		b.Fatalf("series = %v, want 1000", n)
	}
	if v, err := e.Instant(ctx, expr, at); err != nil || len(v) != 4 {
		b.Fatalf("%s = %v, %v", expr, v, err)
	}
	for b.Loop() {
		if _, err := e.Instant(ctx, expr, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrapeOnce scrapes one target exposing 1000 series: 900
// counters and 10 histograms of 10 series each.
func BenchmarkScrapeOnce(b *testing.B) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "R."}, []string{"route", "code"})
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency_seconds", Help: "L.",
		Buckets: []float64{.01, .05, .1, .5, 1, 5, 10}}, []string{"route"})
	reg.MustRegister(c, h)
	for i := range 900 {
		c.WithLabelValues("/route/"+strconv.Itoa(i/3), strconv.Itoa(200+i%3)).Add(float64(i))
	}
	for i := range 10 {
		h.WithLabelValues("/route/" + strconv.Itoa(i)).Observe(float64(i) / 10)
	}
	srv := serveRegistry(b, reg, nil)
	e := newEmbedded(b, Target{Job: "bench", URL: srv.URL + "/metrics"})
	ctx := context.Background()
	at := t0
	for b.Loop() {
		at = at.Add(15 * time.Second)
		c.WithLabelValues("/route/0", "200").Inc()
		if err := e.ScrapeOnce(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n, err := e.Instant(ctx, `scrape_samples_scraped`, at); err != nil || n[0].Value != 1000 {
		b.Fatalf("scraped = %v, %v; want 1000", n, err)
	}
}

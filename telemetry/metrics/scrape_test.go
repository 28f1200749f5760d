package metrics

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEmbeddedTargetDownGoesStale(t *testing.T) {
	f := newFixture(t)
	e := newEmbedded(t, appTarget(f))
	ctx := context.Background()
	f.users.Set(5)
	scrape(t, e, t0)
	f.down.Store(true)
	err := e.ScrapeOnce(ctx, t0.Add(15*time.Second))
	if err == nil || !strings.Contains(err.Error(), f.srv.URL) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("want a scrape error naming the target and the status, got %v", err)
	}
	// Within the 5m lookback the series would still answer, had it not
	// been marked stale.
	if got := one(t, e, `active_users`, t0.Add(14*time.Second)); got != 5 {
		t.Errorf("before the marker: %v", got)
	}
	at := t0.Add(20 * time.Second)
	if got := one(t, e, `up`, at); got != 0 {
		t.Errorf("up = %v, want 0", got)
	}
	if v := query(t, e, `{job="app", __name__!~"up|scrape_.*"}`, at); len(v) != 0 {
		t.Errorf("series of a down target should be stale, got %v", v)
	}
	if h := e.Targets(); len(h) != 1 || h[0].Up || !strings.Contains(h[0].LastError, "503") {
		t.Errorf("health = %+v", h)
	}

	f.down.Store(false)
	scrape(t, e, t0.Add(30*time.Second))
	if got := one(t, e, `active_users`, t0.Add(30*time.Second)); got != 5 {
		t.Errorf("after recovery: %v", got)
	}
	if got := one(t, e, `up`, t0.Add(30*time.Second)); got != 1 {
		t.Errorf("up after recovery = %v", got)
	}
}

func TestEmbeddedVanishedSeriesGoesStale(t *testing.T) {
	f := newFixture(t)
	e := newEmbedded(t, appTarget(f))
	f.queues.WithLabelValues("mail").Set(3)
	f.queues.WithLabelValues("sms").Set(4)
	scrape(t, e, t0)
	// 2 queues, 1 gauge, 6 histogram series (4 buckets, _sum, _count).
	if added := one(t, e, `scrape_series_added`, t0); added != 9 {
		t.Errorf("scrape_series_added = %v, want 9", added)
	}
	f.queues.DeleteLabelValues("sms")
	scrape(t, e, t0.Add(15*time.Second))
	if got := render(query(t, e, `queue_depth`, t0.Add(10*time.Second))); !strings.Contains(got, `"sms"`) {
		t.Errorf("before: %s", got)
	}
	v := query(t, e, `queue_depth`, t0.Add(20*time.Second))
	if len(v) != 1 || v[0].Labels.Get("queue") != "mail" {
		t.Errorf("after sms vanished: %v", v)
	}
	if added := one(t, e, `scrape_series_added`, t0.Add(15*time.Second)); added != 0 {
		t.Errorf("scrape_series_added = %v, want 0 on an unchanged scrape", added)
	}
	// It comes back as a new series.
	f.queues.WithLabelValues("sms").Set(1)
	scrape(t, e, t0.Add(30*time.Second))
	if got := one(t, e, `queue_depth{queue="sms"}`, t0.Add(30*time.Second)); got != 1 {
		t.Errorf("sms back = %v", got)
	}
	if added := one(t, e, `scrape_series_added`, t0.Add(30*time.Second)); added != 1 {
		t.Errorf("scrape_series_added = %v, want 1", added)
	}
}

func TestEmbeddedTargetLabelsWin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE pushed gauge\npushed{job=\"batch\",instance=\"pod-1\",exported_job=\"x\"} 1\n"))
	}))
	defer srv.Close()
	e := newEmbedded(t, Target{Job: "gateway", URL: srv.URL})
	scrape(t, e, t0)
	v := query(t, e, `pushed`, t0)
	want := `{__name__="pushed", exported_exported_job="batch", exported_instance="pod-1", exported_job="x", instance="` +
		strings.TrimPrefix(srv.URL, "http://") + `", job="gateway"}`
	if len(v) != 1 || v[0].Labels.String() != want {
		t.Errorf("got %v\nwant %s", v, want)
	}
}

func TestEmbeddedScrapesOpenMetrics(t *testing.T) {
	body, err := os.ReadFile("testdata/exposition/app.om")
	if err != nil {
		t.Fatal(err)
	}
	var accept atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept.Store(r.Header.Get("Accept"))
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	e := newEmbedded(t, Target{Job: "om", URL: srv.URL})
	scrape(t, e, t0)
	if got := one(t, e, `om_requests_total`, t0); got != 42 {
		t.Errorf("counter = %v", got)
	}
	if got := one(t, e, `histogram_quantile(0.5, om_latency_seconds_bucket)`, t0); math.Abs(got-0.3125) > 1e-9 {
		t.Errorf("quantile = %v, want 0.3125", got)
	}
	if a, _ := accept.Load().(string); !strings.Contains(a, "application/openmetrics-text") {
		t.Errorf("Accept = %q", a)
	}
}

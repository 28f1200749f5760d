package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/store/sqlite"
)

// amIngestRouting is the configuration ../shared/bench/am-ingest.sh gives
// Alertmanager (one webhook receiver, grouped by alertname and service),
// with the group wait of the benchmark's choice.
func amIngestRouting(groupWait string) string {
	return `
route: {receiver: sink, group_by: [alertname, service], group_wait: ` + groupWait + `, group_interval: 5s, repeat_interval: 1h}
receivers: [{name: sink, webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]}]
`
}

// batches are the bodies ampost posts: n alerts in batches of 1,000, 500
// alertnames over 50 services, each instance distinct.
func batches(n int, start time.Time) [][]byte {
	var out [][]byte
	for b := 0; b < n/1000; b++ {
		var as []map[string]any
		for i := 0; i < 1000; i++ {
			k := b*1000 + i
			as = append(as, map[string]any{
				"labels":      map[string]string{"alertname": fmt.Sprintf("A%d", k%500), "service": fmt.Sprintf("s%d", k%50), "instance": fmt.Sprintf("i%d", k)},
				"annotations": map[string]string{"summary": "synthetic"},
				"startsAt":    start.UTC().Format(time.RFC3339),
			})
		}
		body, _ := json.Marshal(as)
		out = append(out, body)
	}
	return out
}

type nopDeliverer struct{}

func (nopDeliverer) Deliver(context.Context, notify.Message) error { return nil }

func benchPipeline(tb testing.TB, maxAlerts int, groupWait string) (http.Handler, *pipeline.Pipeline, func(time.Time)) {
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "oncall.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	rc, err := routing.Parse("am.yml", []byte(amIngestRouting(groupWait)))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Options{Routing: rc, Store: st, MaxAlerts: maxAlerts,
		Route: func(notify.Message) (notify.Deliverer, string, error) { return nopDeliverer{}, "nop", nil }})
	if err != nil {
		tb.Fatal(err)
	}
	step := func(at time.Time) {
		if err := p.Step(context.Background(), at); err != nil {
			tb.Fatal(err)
		}
	}
	h := Handler(Options{Pipeline: p, Store: st, Routing: rc})
	return h, p, step
}

// BenchmarkIngestMuteDispatch posts 100,000 alerts in the shape ampost
// sends them (decode, validate, merge, route, group), then flushes their
// 500 groups (inhibition, time intervals, silences, the notification log)
// and writes the notifications to the outbox in one transaction. Writing
// the alerts themselves to the store happens behind, every second, and is
// measured by BenchmarkWriteBehind. The alerts/s metric is to be compared
// with ../shared/bench/am-ingest.sh run on the same machine.
func BenchmarkIngestMuteDispatch(b *testing.B) {
	const n = 100_000
	t0 := time.Now()
	bodies := batches(n, t0)
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		h, p, step := benchPipeline(b, 0, "0s")
		step(t0) // take the lease
		b.StartTimer()
		start := time.Now()
		for _, body := range bodies {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body)))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		step(t0.Add(500 * time.Millisecond)) // every group flushes; the write-behind is not due
		elapsed += time.Since(start)
		b.StopTimer()
		if as, _ := p.Alerts(context.Background(), time.Now()); len(as) != n {
			b.Fatalf("%d alerts held, want %d", len(as), n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "alerts/s")
}

// BenchmarkWriteBehind writes 100,000 received alerts to the store, as the
// pipeline does every second for the alerts that changed.
func BenchmarkWriteBehind(b *testing.B) {
	const n = 100_000
	t0 := time.Now()
	var all []postableAlert
	for _, body := range batches(n, t0) {
		ps, err := decodeAlerts(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, ps...)
	}
	as, _ := prepare(all, t0, 5*time.Minute)
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "oncall.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := st.PutAlerts(context.Background(), "bench", as); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "alerts/s")
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Holding an active alert costs at most 1 KiB: 100,000 alerts received,
// grouped, flushed and written to the store.
func TestMemoryPerAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 100,000 alerts")
	}
	n := 100_000
	if raceEnabled {
		n = 20_000
	}
	t0 := time.Now()
	bodies := batches(n, t0)
	h, p, step := benchPipeline(t, 0, "1s")
	step(t0)
	before := heapInUse()
	for _, body := range bodies {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body)))
	}
	step(t0.Add(2 * time.Second))
	step(t0.Add(3 * time.Second))
	per := float64(heapInUse()-before) / float64(n)
	runtime.KeepAlive(p)
	t.Logf("%.0f bytes per active alert", per)
	if per > 1024 {
		t.Errorf("%.0f bytes per alert, want at most 1024", per)
	}
}

// An alert storm of distinct alerts far beyond alerts.max_alerts degrades
// to a bounded state: the limit holds, the rest are refused with 429 and
// counted, one OncallAlertLimitReached alert summarises them, and memory
// stays that of the alerts held.
func TestAlertStormIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("posts 300,000 alerts")
	}
	limit, n := 20_000, 300_000
	if raceEnabled {
		limit, n = 5_000, 60_000
	}
	t0 := time.Now()
	h, p, step := benchPipeline(t, limit, "1s")
	step(t0)
	before := heapInUse()
	refusedPosts := 0
	for i := 0; i < n/1000; i++ {
		body := batches(1000, t0)[0]
		// Make every batch's alerts distinct.
		body = bytes.ReplaceAll(body, []byte(`"instance":"i`), []byte(fmt.Sprintf(`"instance":"b%d-i`, i)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refusedPosts++
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	step(t0.Add(2 * time.Second))
	step(t0.Add(3 * time.Second))
	grown := float64(heapInUse()) - float64(before)
	as, err := p.Alerts(context.Background(), t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	for _, a := range as {
		if a.Name() == pipeline.LimitAlertName {
			summary = a.Annotations.Get("summary")
		}
	}
	if len(as) != limit+1 || summary == "" || refusedPosts != (n-limit)/1000 {
		t.Fatalf("%d alerts held (want %d and the summary %q), %d posts refused", len(as), limit+1, summary, refusedPosts)
	}
	if !strings.Contains(summary, fmt.Sprintf("refused %d alerts", n-limit)) {
		t.Errorf("summary %q", summary)
	}
	t.Logf("%d alerts held, %d refused; heap grew %.1f MiB", len(as), n-limit, grown/(1<<20))
	if grown > float64(limit*2048) {
		t.Errorf("heap grew %.0f bytes for %d alerts held: the storm is not bounded", grown, limit)
	}
}

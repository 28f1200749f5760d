package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

// loadRun sends requests from clients concurrent clients over real HTTP
// and reports req/s and the 99th percentile latency.
func loadRun(b *testing.B, clients int, do func(c *http.Client) int) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	per := max(b.N/clients, 1)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, per)
			for range per {
				t := time.Now()
				if code := do(c); code != http.StatusOK {
					b.Errorf("status %d", code)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkListEndpoints: 16 clients reading the lists the console and
// amtool read, with 1,000 alerts held.
func BenchmarkListEndpoints(b *testing.B) {
	f := setup(b, "s3cret")
	for part := range 10 {
		var batch bytes.Buffer
		batch.WriteString("[")
		for i := range 100 {
			if i > 0 {
				batch.WriteString(",")
			}
			batch.WriteString(postable("Down", "service", fmt.Sprint("s", i%20), "instance", fmt.Sprint(part*100+i)))
		}
		batch.WriteString("]")
		if code, body := f.do(b, "POST", "/api/v2/alerts", batch.String()); code != 200 {
			b.Fatalf("post: %d %s", code, body)
		}
	}
	f.step(t0.Add(time.Second))
	if n := len(f.alerts(b)); n != 1000 {
		b.Fatalf("%d alerts held, want 1000", n)
	}
	for _, path := range []string{"/api/v1/alerts", "/api/v1/incidents", "/api/v1/pages", "/api/v2/alerts", "/api/v2/silences"} {
		b.Run(path, func(b *testing.B) {
			loadRun(b, 16, func(c *http.Client) int {
				req, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
				req.Header.Set("Authorization", "Bearer s3cret")
				resp, err := c.Do(req)
				if err != nil {
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			})
		})
	}
}

// BenchmarkIngestEndpoint: 8 clients posting batches of 100 alerts, as a
// fleet of Prometheus servers does.
func BenchmarkIngestEndpoint(b *testing.B) {
	f := setup(b, "s3cret")
	var batch bytes.Buffer
	batch.WriteString("[")
	for i := range 100 {
		if i > 0 {
			batch.WriteString(",")
		}
		batch.WriteString(postable("Down", "service", fmt.Sprint("s", i%20), "instance", fmt.Sprint(i)))
	}
	batch.WriteString("]")
	body := batch.Bytes()
	loadRun(b, 8, func(c *http.Client) int {
		req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v2/alerts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	})
}

func (f *fixture) alerts(t testing.TB) []alertsAlert {
	as, err := f.c.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return as
}

type alertsAlert = alerts.Alert

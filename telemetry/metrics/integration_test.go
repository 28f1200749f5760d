package metrics

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// prometheusBinary finds the reference Prometheus (Debian's 2.42), skipping
// the test without it unless ONCALL_INTEGRATION=1 asks for a failure.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/prometheus", "prometheus"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("ONCALL_INTEGRATION") == "1" {
		t.Fatal("ONCALL_INTEGRATION=1 but the prometheus binary is missing (apt-get install -y prometheus)")
	}
	t.Skip("the prometheus binary is missing (apt-get install -y prometheus); set ONCALL_INTEGRATION=1 to make this a failure")
	return ""
}

// startPrometheus runs the real Prometheus on a free loopback port, scraping
// target (host:port) as job "app" every second, and returns its API URL. The
// process is killed at cleanup; its log is shown if the test failed.
func startPrometheus(t *testing.T, target string) (url string, exited <-chan struct{}) {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return "http://" + addr, done
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls src until expr yields a sample >= min, failing at the deadline.
func waitFor(t *testing.T, src Source, exited <-chan struct{}, expr string, min float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := src.Instant(context.Background(), expr, time.Now())
		if err == nil && len(v) == 1 && v[0].Value >= min {
			return
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited while waiting for %s", expr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %v: %v %v", expr, min, v, err)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// clockCollector exposes counters and a histogram that grow linearly with
// wall time, so their rates are known whoever scrapes them and whenever:
// requests_total 9/s for code 200 and 1/s for 500; latency_seconds 10
// observations/s, 2 of them ≤0.1s, 8 ≤0.5s, all ≤1s, so its p90 is
// 0.5 + 0.5*(9-8)/(10-8) = 0.75.
type clockCollector struct{ start time.Time }

var (
	clockReqs    = prometheus.NewDesc("requests_total", "Requests.", []string{"code"}, nil)
	clockLatency = prometheus.NewDesc("latency_seconds", "Latency.", nil, nil)
)

func (c clockCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c clockCollector) Collect(ch chan<- prometheus.Metric) {
	ms := uint64(time.Since(c.start).Milliseconds())
	s := float64(ms) / 1000
	ch <- prometheus.MustNewConstMetric(clockReqs, prometheus.CounterValue, 9*s, "200")
	ch <- prometheus.MustNewConstMetric(clockReqs, prometheus.CounterValue, s, "500")
	ch <- prometheus.MustNewConstHistogram(clockLatency, 10*ms, 3*s, map[float64]uint64{0.1: 2 * ms, 0.5: 8 * ms, 1: 10 * ms})
}

// The adapter against a real Prometheus 2.42, then the same PromQL through
// that Prometheus and through Embedded scraping the same target.
func TestRealPrometheus(t *testing.T) {
	bin := prometheusBinary(t)
	t.Logf("reference: %s", bin)
	reg := prometheus.NewRegistry()
	users := prometheus.NewGauge(prometheus.GaugeOpts{Name: "active_users", Help: "Users."})
	users.Set(1234)
	reg.MustRegister(clockCollector{start: time.Now()}, users,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "jobs_done_total", Help: "Jobs."}, func() float64 { return 42 }))
	srv := serveRegistry(t, reg, nil)
	instance := hostPort(srv)

	url, exited := startPrometheus(t, instance)
	p, err := NewPrometheus(PrometheusOptions{URL: url, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The embedded side scrapes the same endpoint meanwhile, in real time.
	e, err := NewEmbedded(EmbeddedOptions{ScrapeInterval: 250 * time.Millisecond, Targets: []Target{{Job: "app", URL: srv.URL + "/metrics"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { e.Run(ctx); close(runDone) }()
	t.Cleanup(func() { cancel(); <-runDone; e.Close() })

	// Both must hold more history than the 5s windows used below, or
	// rate extrapolates only half an interval before the first sample.
	const ready = `count_over_time(requests_total{code="200"}[10s])`
	waitFor(t, p, exited, ready, 8) // every 1s
	waitFor(t, e, nil, ready, 8*4)  // every 250ms
	at := time.Now()

	t.Run("adapter", func(t *testing.T) {
		ctx := context.Background()
		if err := p.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		v, err := p.Instant(ctx, `active_users`, at)
		want := `{__name__="active_users", instance="` + instance + `", job="app"} 1234`
		if err != nil || render(v) != want {
			t.Errorf("instant = %s, %v; want %s", render(v), err, want)
		}
		v, err = p.Instant(ctx, `scalar(sum(up))`, at)
		if err != nil || len(v) != 1 || v[0].Value != 1 || v[0].Labels.Len() != 0 || v[0].T.Sub(at).Abs() > time.Millisecond {
			t.Errorf("scalar = %+v, %v", v, err)
		}
		if _, err := p.Instant(ctx, `sum(`, at); err == nil || !strings.Contains(err.Error(), `query "sum("`) {
			t.Errorf("bad expression: %v", err)
		}
		r, err := p.Range(ctx, `active_users`, at.Add(-3*time.Second), at, time.Second)
		if err != nil || len(r) != 1 || len(r[0].Points) != 4 {
			t.Fatalf("range = %+v, %v", r, err)
		}
		for i, pt := range r[0].Points {
			if pt.V != 1234 || pt.T.Sub(at.Add(time.Duration(i-3)*time.Second)).Abs() > time.Millisecond {
				t.Errorf("point %d = %+v", i, pt)
			}
		}
		r, err = p.Range(ctx, `sum(rate(requests_total[5s]))`, at.Add(-2*time.Second), at, time.Second)
		if err != nil || len(r) != 1 || len(r[0].Points) == 0 {
			t.Fatalf("range = %+v, %v", r, err)
		}
		if last := r[0].Points[len(r[0].Points)-1].V; math.Abs(last-10) > 0.5 {
			t.Errorf("rate = %v, want ≈10", last)
		}
	})

	t.Run("differential", func(t *testing.T) {
		tests := []struct {
			expr  string
			truth map[string]float64 // by label set; nil: only compare the two
			tol   float64            // relative; 0 means exact
		}{
			{expr: `active_users`},
			{expr: `jobs_done_total`},
			{expr: `up`},
			{expr: `count by (__name__) ({job="app"})`},
			{expr: `count by (le) (latency_seconds_bucket)`},
			{expr: `sum(rate(requests_total[5s]))`, truth: map[string]float64{`{}`: 10}, tol: 0.05},
			{expr: `sum by (code) (rate(requests_total[5s]))`, truth: map[string]float64{`{code="200"}`: 9, `{code="500"}`: 1}, tol: 0.05},
			{expr: `histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5s])))`, truth: map[string]float64{`{}`: 0.75}, tol: 0.01},
		}
		for _, tt := range tests {
			want, err := p.Instant(context.Background(), tt.expr, at)
			if err != nil {
				t.Fatalf("prometheus: %v", err)
			}
			got, err := e.Instant(context.Background(), tt.expr, at)
			if err != nil {
				t.Fatalf("embedded: %v", err)
			}
			if len(want) == 0 {
				t.Errorf("%s: prometheus returned nothing", tt.expr)
			}
			if tt.tol == 0 {
				if a, b := render(want), render(got); a != b {
					t.Errorf("%s differs:\nprometheus %s\nembedded   %s", tt.expr, a, b)
				}
				continue
			}
			pv, ev := byLabels(want), byLabels(got)
			if len(pv) != len(tt.truth) || len(ev) != len(tt.truth) {
				t.Errorf("%s: label sets differ: prometheus %v, embedded %v, want %v", tt.expr, pv, ev, tt.truth)
			}
			for ls, truth := range tt.truth {
				if !near(pv[ls], truth, tt.tol) || !near(ev[ls], truth, tt.tol) || !near(pv[ls], ev[ls], tt.tol) {
					t.Errorf("%s %s: prometheus %v, embedded %v, want %v ±%v%%", tt.expr, ls, pv[ls], ev[ls], truth, tt.tol*100)
				}
			}
		}
	})
}

func byLabels(v Vector) map[string]float64 {
	m := make(map[string]float64, len(v))
	for _, s := range v {
		m[s.Labels.String()] = s.Value
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b)) }

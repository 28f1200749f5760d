package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestPrometheusAdapterDecodesAPI(t *testing.T) {
	responses := map[string]string{
		"vector(1)":   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1700000000,"2.5"]}]}}`,
		"scalar(1)":   `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}`,
		"bad(":        `{"status":"error","errorType":"bad_data","error":"parse error"}`,
		"rate(x[1m])": `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1700000000,"1"],[1700000015,"2"]]}]}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unauthorized", 401)
			return
		}
		body, ok := responses[r.Form.Get("query")]
		if !ok {
			http.Error(w, "unexpected query", 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(body, `"error"`) {
			w.WriteHeader(400)
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	p, err := NewPrometheus(PrometheusOptions{URL: srv.URL, BearerToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := p.Instant(ctx, "vector(1)", t0)
	if err != nil || len(v) != 1 || v[0].Value != 2.5 || v[0].Labels.Get("job") != "a" {
		t.Fatalf("vector: %v %v", v, err)
	}
	if v, err := p.Instant(ctx, "scalar(1)", t0); err != nil || len(v) != 1 || v[0].Value != 1 {
		t.Fatalf("scalar: %v %v", v, err)
	}
	if _, err := p.Instant(ctx, "bad(", t0); err == nil || !strings.Contains(err.Error(), `"bad("`) {
		t.Fatalf("error: %v", err)
	}
	m, err := p.Range(ctx, "rate(x[1m])", t0, t0.Add(time.Minute), 15*time.Second)
	if err != nil || len(m) != 1 || len(m[0].Points) != 2 || m[0].Points[1].V != 2 {
		t.Fatalf("matrix: %v %v", m, err)
	}
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPrometheusUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	p, err := NewPrometheus(PrometheusOptions{URL: "http://" + addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewPrometheus(PrometheusOptions{URL: "localhost:9090"}); err == nil || !strings.Contains(err.Error(), `"localhost:9090"`) {
		t.Fatalf("bad url: %v", err)
	}
}

// startPrometheus runs the real Prometheus from Debian scraping target every
// second, and returns its API URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("ONCALL_INTEGRATION") == "1" {
			t.Fatal("ONCALL_INTEGRATION=1 but prometheus is not installed (apt-get install prometheus)")
		}
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: app\n    static_configs: [{targets: [%q]}]\n", strings.TrimPrefix(target, "http://"))), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return "http://" + addr
}

// The adapter against a real Prometheus 2.42, and the embedded engine
// against the same target: both must see the same series and values.
func TestPrometheusIntegrationAndDifferential(t *testing.T) {
	f := newFixture(t)
	f.reqs.WithLabelValues("200").Add(100)
	f.reqs.WithLabelValues("500").Add(7)
	f.users.Set(1234)
	for range 5 {
		f.latency.Observe(0.7)
	}
	url := startPrometheus(t, f.srv.URL)
	p, err := NewPrometheus(PrometheusOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := p.Instant(ctx, `requests_total`, time.Now())
		if err == nil && len(v) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus never scraped the target: %v %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e := newEmbedded(t, f)
	now := time.Now()
	e.ScrapeOnce(ctx, now)
	for _, expr := range []string{
		`active_users`,
		`requests_total`,
		`sum by (code) (requests_total)`,
		`latency_seconds_bucket`,
		`latency_seconds_count`,
		`up`,
	} {
		want, err := p.Instant(ctx, expr, now)
		if err != nil {
			t.Fatalf("prometheus %s: %v", expr, err)
		}
		got, err := e.Instant(ctx, expr, now)
		if err != nil {
			t.Fatalf("embedded %s: %v", expr, err)
		}
		if a, b := render(want), render(got); a != b {
			t.Errorf("%s differs:\nprometheus: %s\nembedded:   %s", expr, a, b)
		}
	}
	r, err := p.Range(ctx, `active_users`, now.Add(-3*time.Second), now, time.Second)
	if err != nil || len(r) != 1 || len(r[0].Points) == 0 || r[0].Points[len(r[0].Points)-1].V != 1234 {
		t.Fatalf("range: %+v %v", r, err)
	}
}

// render prints samples as sorted "labels value" lines.
func render(v Vector) string {
	var lines []string
	for _, s := range v {
		lines = append(lines, fmt.Sprintf("%s %g", s.Labels.String(), s.Value))
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

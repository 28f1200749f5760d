package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Hostile queries are refused before they reach the engine: quickly, in
// little memory, with a 400 that names the field.
func TestQueriesAreBounded(t *testing.T) {
	f := setup(t, "s3cret")
	tests := []struct{ name, expr, want string }{
		{"100,000 nested parentheses", strings.Repeat("(", 100_000) + "up" + strings.Repeat(")", 100_000), "query: 200002 bytes, the limit is 8192"},
		{"20,000 + terms", "up" + strings.Repeat("+up", 20_000), "query: 60002 bytes"},
		{"too many terms in 8 KiB", "1" + strings.Repeat("+1", 2500), "query: more than 5000 parts"},
		{"too deep", strings.Repeat("-(", 150) + "up" + strings.Repeat(")", 150), "query: nested"},
		{"does not parse", "sum(", "query: "},
		// 8.6 billion steps set aside up front: the process died of it.
		{"a subquery of billions of steps", "count_over_time(up[100d:1ms])", "takes 8640000000 steps, the limit is 250000"},
		{"nested subqueries multiply", "max_over_time(rate(up[5m:1s])[1d:1m])", "takes 432000 steps"},
		{"default step", "max_over_time(up[365d:])", "takes 525600 steps"},
		{"@ beyond the TSDB", "up @ 9000000000000", "query: @ time"},
	}
	for _, tc := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		code, body := f.do(t, "GET", "/api/v1/query?expr="+url.QueryEscape(tc.expr), "")
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.name, code, body, tc.want)
		}
		if took > 2*time.Second {
			t.Errorf("%s: took %v (unbounded it took a minute)", tc.name, took)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%s: allocated %d MiB (unbounded, hundreds)", tc.name, grew>>20)
		}
	}
	// A long sum is terms, not depth; an SLO window at one-minute steps is fine.
	for _, ok := range []string{"1" + strings.Repeat("+1", 500), "max_over_time(up[30d:1m])"} {
		if code, body := f.do(t, "GET", "/api/v1/query?expr="+url.QueryEscape(ok), ""); code != 200 {
			t.Errorf("%.40s: %d %s", ok, code, body)
		}
	}
	for _, at := range []string{"0001-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "1969-12-31T23:59:59Z"} {
		if code, body := f.do(t, "GET", "/api/v1/query?expr=up&time="+url.QueryEscape(at), ""); code != 400 || !strings.Contains(body, "outside") {
			t.Errorf("time %s: %d %s, want 400", at, code, body)
		}
	}
}

// The refused subquery against the real engine: refused at once, and the
// largest allowed one answers without a crash.
func TestSubqueriesAgainstTheRealEngine(t *testing.T) {
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := setup(t, "s3cret")
	h := server.Handler(server.Options{Pipeline: f.p, Store: f.st, Source: e, Token: "s3cret", Now: time.Now})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		expr string
		code int
	}{{"count_over_time(up[100d:1ms])", 400}, {"count_over_time(vector(1)[173d:1m])", 200}} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/query?query="+url.QueryEscape(tc.expr), nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d %s", tc.expr, resp.StatusCode, b)
		}
	}
}

// blocking answers a query only when its context ends or it is released.
type blocking struct {
	started chan struct{}
	release chan struct{}
}

func (b *blocking) Instant(ctx context.Context, _ string, _ time.Time) (metrics.Vector, error) {
	b.started <- struct{}{}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.release:
		return metrics.Vector{}, nil
	}
}
func (b *blocking) Range(context.Context, string, time.Time, time.Time, time.Duration) ([]metrics.Series, error) {
	return nil, nil
}
func (b *blocking) Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error) {
	v, err := b.Instant(ctx, expr, at)
	return metrics.Result{Type: metrics.TypeVector, Vector: v}, err
}

// One client runs at most four queries at once, and a query is stopped
// at the query timeout.
func TestQueryConcurrencyAndTimeout(t *testing.T) {
	f := setup(t, "")
	src := &blocking{started: make(chan struct{}, 10), release: make(chan struct{})}
	srv := httptest.NewServer(server.Handler(server.Options{Pipeline: f.p, Store: f.st, Routing: nil, Source: src, QueryTimeout: 200 * time.Millisecond}))
	defer srv.Close()
	get := func() int {
		resp, err := http.Get(srv.URL + "/api/v1/query?expr=up")
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range 4 {
		wg.Go(func() { codes[i] = get() })
	}
	for range 4 {
		<-src.started
	}
	if code := get(); code != http.StatusTooManyRequests {
		t.Errorf("a fifth query at once: %d, want 429", code)
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusServiceUnavailable {
			t.Errorf("queries past the timeout: %v, want 503", codes)
			break
		}
	}
	close(src.release)
	if code := get(); code != 200 {
		t.Errorf("after the others finished: %d", code)
	}
}

// Slow clients are cut: connections that send a body too slowly are
// closed at the read timeout instead of piling up.
func TestSlowClientsAreCut(t *testing.T) {
	f := setup(t, "")
	h := server.Handler(server.Options{Pipeline: f.p, Store: f.st, Source: &source{}})
	hs := server.NewHTTPServer(h, server.Timeouts{ReadHeader: 300 * time.Millisecond, Read: 500 * time.Millisecond, Write: time.Second, Idle: time.Second, MaxHeaderBytes: 4 << 10})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(l)
	defer hs.Close()
	const n = 50
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
		conns[i] = c
	}
	// Trickle a byte now and then, as a slowloris does; the server must
	// give up on every one of them.
	deadline := time.Now().Add(5 * time.Second)
	closed := 0
	for _, c := range conns {
		for {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			c.Write([]byte(" "))
			buf := make([]byte, 512)
			_, err := c.Read(buf)
			if err == io.EOF || (err != nil && !isTimeout(err)) || (err == nil && strings.HasPrefix(string(buf), "HTTP/1.1 4")) {
				closed++
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d slow connections cut after 5s; the read timeout is 0.5s", closed, n)
			}
		}
	}
	// Headers too large are refused.
	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	fmt.Fprintf(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 16<<10))
	b := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	c.Read(b)
	if !strings.HasPrefix(string(b), "HTTP/1.1 431") {
		t.Errorf("a 16 KiB header: %q, want 431", b)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// /-/ready tells the truth: 200 while the pipeline works, 503 with the
// reason when the outbox is stuck or the store refuses writes; /-/healthy
// answers as long as the process runs.
func TestReadinessTellsTheTruth(t *testing.T) {
	f := setup(t, "s3cret")
	ready := func() (int, string) {
		resp, err := http.Get(f.url + "/-/ready")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := ready(); code != 200 || !strings.Contains(body, `"ready":true`) || !strings.Contains(body, `"role":"leader"`) {
		t.Fatalf("ready: %d %s", code, body)
	}
	// A page nobody can deliver for more than five minutes.
	f.do(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm", "severity", "page")+"]")
	f.p.Step(context.Background(), t0.Add(time.Second))
	f.now = t0.Add(10 * time.Minute)
	if code, body := ready(); code != 503 || !strings.Contains(body, `"name":"outbox","ok":false,"reason":"1 messages undelivered, the oldest for 9m59s"`) {
		t.Errorf("stuck outbox: %d %s", code, body)
	}
	// The store refuses writes.
	f.st.Close()
	f.p.Step(context.Background(), t0.Add(10*time.Minute))
	code, body := ready()
	if code != 503 || !strings.Contains(body, `"name":"store","ok":false`) {
		t.Errorf("store closed: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/-/healthy", ""); code != 200 || strings.TrimSpace(body) != `{"healthy":true,"server":"oncall"}` {
		t.Errorf("healthy: %d %s", code, body)
	}
	if code, _ := f.do(t, "GET", "/healthz", ""); code != 503 {
		t.Errorf("/healthz is readiness: %d", code)
	}
}

// The listener holds at most MaxConnections: one more waits until one of
// them closes, rather than taking another file descriptor.
func TestConnectionsAreBounded(t *testing.T) {
	f := setup(t, "")
	l, err := server.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	hs := server.NewHTTPServer(f.handler, server.Timeouts{ReadHeader: time.Minute, Read: time.Minute, Write: time.Minute, Idle: time.Minute, MaxHeaderBytes: 4 << 10})
	go hs.Serve(l)
	defer hs.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range server.MaxConnections {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	get := func(timeout time.Duration) error {
		cl := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := cl.Get("http://" + l.Addr().String() + "/-/healthy")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(300 * time.Millisecond); err == nil {
		t.Fatalf("a request beyond %d open connections was served at once", server.MaxConnections)
	}
	held[0].Close()
	held = held[1:]
	if err := get(5 * time.Second); err != nil {
		t.Fatalf("once a connection closed: %v", err)
	}
}

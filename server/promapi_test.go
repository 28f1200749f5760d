package server_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/internal/testenv"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// promFixture serves the query API over an embedded TSDB holding two up
// series, a sample every 15s for 10 minutes up to t0.
func promFixture(t *testing.T, token string) (*httptest.Server, *metrics.Embedded) {
	t.Helper()
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for at := t0.Add(-10 * time.Minute); !at.After(t0); at = at.Add(15 * time.Second) {
		e.Append(labels.FromStrings("__name__", "up", "job", "api", "instance", "a:9090"), at, 1)
		e.Append(labels.FromStrings("__name__", "up", "job", "db", "instance", "b:9187"), at, 0)
		e.Append(labels.FromStrings("__name__", "ratio", "job", "api"), at, math.Inf(1))
	}
	srv := httptest.NewServer(server.Handler(server.Options{Source: e, Token: token, Now: func() time.Time { return t0 }}))
	t.Cleanup(srv.Close)
	return srv, e
}

// Prometheus's own Go client reads oncall's query API: every result type,
// range queries, errors with their Prometheus error type.
func TestQueryAPIReadByPrometheusClient(t *testing.T) {
	srv, _ := promFixture(t, "s3cret")
	rt := config.NewAuthorizationCredentialsRoundTripper("Bearer", config.NewInlineSecret("s3cret"), api.DefaultRoundTripper)
	c, err := api.NewClient(api.Config{Address: srv.URL, RoundTripper: rt})
	if err != nil {
		t.Fatal(err)
	}
	p := v1.NewAPI(c)
	ctx := context.Background()

	v, _, _, err := p.Query(ctx, "up", t0)
	if vec, ok := v.(model.Vector); err != nil || !ok || len(vec) != 2 || vec[0].Metric["job"] != "api" || vec[0].Value != 1 || !vec[0].Timestamp.Time().Equal(t0) {
		t.Errorf("up = %v, %v", v, err)
	}
	v, _, _, err = p.Query(ctx, "count(up)", t0)
	if vec, ok := v.(model.Vector); err != nil || !ok || len(vec) != 1 || len(vec[0].Metric) != 0 || vec[0].Value != 2 {
		t.Errorf("count(up) is a one-sample vector without labels, not a scalar: %v, %v", v, err)
	}
	v, _, _, err = p.Query(ctx, "scalar(count(up))", t0)
	if s, ok := v.(*model.Scalar); err != nil || !ok || s.Value != 2 {
		t.Errorf("scalar = %v, %v", v, err)
	}
	v, _, _, err = p.Query(ctx, `up{job="api"}[1m]`, t0)
	if m, ok := v.(model.Matrix); err != nil || !ok || len(m) != 1 || len(m[0].Values) != 4 {
		// Prometheus 3: the window (t0-1m, t0] is open on the left.
		t.Errorf("up[1m] = %v, %v", v, err)
	}
	v, _, _, err = p.Query(ctx, "ratio", t0)
	if vec, ok := v.(model.Vector); err != nil || !ok || len(vec) != 1 || !math.IsInf(float64(vec[0].Value), 1) {
		t.Errorf("+Inf = %v, %v", v, err)
	}
	v, _, _, err = p.QueryRange(ctx, "sum(up)", v1.Range{Start: t0.Add(-2 * time.Minute), End: t0, Step: 30 * time.Second})
	if m, ok := v.(model.Matrix); err != nil || !ok || len(m) != 1 || len(m[0].Values) != 5 || m[0].Values[4].Value != 1 {
		t.Errorf("range = %v, %v", v, err)
	}
	_, _, _, err = p.Query(ctx, "sum(", t0)
	var pe *v1.Error
	if !errors.As(err, &pe) || pe.Type != v1.ErrBadData || !strings.Contains(pe.Msg, "query: ") {
		t.Errorf("bad query: %#v", err)
	}
	_, _, _, err = p.QueryRange(ctx, "up", v1.Range{Start: t0.Add(-24 * time.Hour), End: t0, Step: time.Second})
	if !errors.As(err, &pe) || pe.Type != v1.ErrBadData || !strings.Contains(pe.Msg, "11000 points") {
		t.Errorf("too many points: %#v", err)
	}
}

// oncall's client reads back exactly what the source answered, for every
// type of result, including the string type Prometheus's client cannot.
func TestQueryAPIRoundTrip(t *testing.T) {
	srv, e := promFixture(t, "s3cret")
	c, err := client.New(srv.URL, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, expr := range []string{"up", "count(up)", "scalar(count(up))", "up[1m]", `"a string"`, "ratio", "up == 2"} {
		want, err := e.Query(ctx, expr, t0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Query(ctx, expr, t0)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got.Type != want.Type || got.String != want.String || len(got.Vector) != len(want.Vector) || len(got.Matrix) != len(want.Matrix) {
			t.Errorf("%s: got %+v, want %+v", expr, got, want)
			continue
		}
		for i := range want.Vector {
			g, w := got.Vector[i], want.Vector[i]
			if !labels.Equal(g.Labels, w.Labels) || g.Value != w.Value || !g.T.Equal(w.T) {
				t.Errorf("%s: sample %d = %+v, want %+v", expr, i, g, w)
			}
		}
		for i := range want.Matrix {
			if !labels.Equal(got.Matrix[i].Labels, want.Matrix[i].Labels) || len(got.Matrix[i].Points) != len(want.Matrix[i].Points) {
				t.Errorf("%s: series %d = %+v, want %+v", expr, i, got.Matrix[i], want.Matrix[i])
			}
		}
	}
	ss, err := c.Range(ctx, "up", t0.Add(-time.Minute), t0, 15*time.Second)
	if err != nil || len(ss) != 2 || len(ss[0].Points) != 5 {
		t.Errorf("range = %+v, %v", ss, err)
	}
	var ce *client.Error
	if _, err := c.Query(ctx, "rate(up)", t0); !errors.As(err, &ce) || ce.Status != http.StatusBadRequest {
		t.Errorf("a bad query is a 400: %v", err)
	}
	if _, err := client.New(srv.URL, ""); err != nil {
		t.Fatal(err)
	}
	anon, _ := client.New(srv.URL, "")
	if _, err := anon.Query(ctx, "up", t0); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Errorf("without the token: %v", err)
	}
}

// The parameters are read as Prometheus reads them: times as Unix seconds
// or RFC 3339, steps as seconds or durations, in the query string or a
// POSTed form.
func TestQueryAPIParameters(t *testing.T) {
	srv, _ := promFixture(t, "s3cret")
	get := func(method, path string, q url.Values) (int, string) {
		var req *http.Request
		if method == "POST" {
			req, _ = http.NewRequest(method, srv.URL+path, strings.NewReader(q.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, srv.URL+path+"?"+q.Encode(), nil)
		}
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path string
		q            url.Values
		code         int
		want         string
	}{
		{"GET", "/api/v1/query", url.Values{"query": {"count(up)"}, "time": {"1795428000"}}, 200, `"value":[1795428000,"2"]`},
		{"GET", "/api/v1/query", url.Values{"query": {"count(up)"}, "time": {"2026-11-23T10:00:00Z"}}, 200, `"resultType":"vector"`},
		{"POST", "/api/v1/query", url.Values{"query": {"scalar(count(up))"}}, 200, `{"status":"success","data":{"resultType":"scalar","result":[1795428000,"2"]}}`},
		{"GET", "/api/v1/query", url.Values{"query": {`"hi"`}}, 200, `"result":[1795428000,"hi"]`},
		{"GET", "/api/v1/query", url.Values{"expr": {"count(up)"}}, 200, `"2"`},
		{"GET", "/api/v1/query_range", url.Values{"query": {"sum(up)"}, "start": {"1795427940"}, "end": {"1795428000"}, "step": {"30s"}}, 200, `"values":[[1795427940,"1"],[1795427970,"1"],[1795428000,"1"]]`},
		{"POST", "/api/v1/query_range", url.Values{"query": {"sum(up)"}, "start": {"1795427940"}, "end": {"1795428000"}, "step": {"60"}}, 200, `"values":[[1795427940,"1"],[1795428000,"1"]]`},
		{"GET", "/api/v1/query", url.Values{}, 400, `{"status":"error","errorType":"bad_data","error":"query: missing`},
		{"GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {"soon"}}, 400, `time: cannot parse \"soon\"`},
		{"GET", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"1795428000"}, "end": {"1795427000"}, "step": {"15"}}, 400, "end timestamp must not be before start"},
		{"GET", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"1795427000"}, "end": {"1795428000"}, "step": {"0"}}, 400, "zero or negative"},
		{"GET", "/api/v1/query_range", url.Values{"query": {"up"}, "end": {"1795428000"}, "step": {"15"}}, 400, "start: missing"},
		{"GET", "/api/v1/query", url.Values{"query": {`up * on() up`}}, 422, `"errorType":"execution"`},
	} {
		code, body := get(tc.method, tc.path, tc.q)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s?%s: %d %s, want %d with %s", tc.method, tc.path, tc.q.Encode(), code, body, tc.code, tc.want)
		}
	}
}

// promtool, Prometheus's own command line, queries oncall as it queries a
// Prometheus.
func TestPromtoolQueriesOncall(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	srv, _ := promFixture(t, "") // promtool 2.42 sends no credentials
	out, err := exec.Command(promtool, "query", "instant", "--time=2026-11-23T10:00:00Z", srv.URL, "sum by (job) (up)").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `{job="api"} => 1 @[1795428000]`) || !strings.Contains(string(out), `{job="db"} => 0 @[1795428000]`) {
		t.Errorf("promtool query instant: %v\n%s", err, out)
	}
	out, err = exec.Command(promtool, "query", "range", "--start=2026-11-23T09:59:00Z", "--end=2026-11-23T10:00:00Z", "--step=30s", srv.URL, "count(up)").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 @[1795427940]") || !strings.Contains(string(out), "2 @[1795428000]") {
		t.Errorf("promtool query range: %v\n%s", err, out)
	}
}

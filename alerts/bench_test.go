package alerts

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// engineQuerier runs queries through the real PromQL engine over a storage.
type engineQuerier struct {
	eng *promql.Engine
	q   storage.Queryable
}

func (e engineQuerier) Instant(ctx context.Context, expr string, at time.Time) (metrics.Vector, error) {
	qry, err := e.eng.NewInstantQuery(ctx, e.q, nil, expr, at)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	var out metrics.Vector
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out = append(out, metrics.Sample{Labels: s.Metric, Value: s.F, T: time.UnixMilli(s.T)})
		}
	case promql.Scalar:
		out = append(out, metrics.Sample{Value: v.V, T: time.UnixMilli(v.T)})
	}
	return out, nil
}

// BenchmarkEvalDemoRules measures one evaluation cycle of the demo's rule set
// (loaded from demo/rules) over 2s-resolution matchmaking data, with
// Prometheus's own rule groups.
func BenchmarkEvalDemoRules(b *testing.B) {
	var load strings.Builder
	load.WriteString("load 2s\n")
	fmt.Fprintf(&load, "  matchmaking_matches_total{service=\"matchmaking\"} 0+6x9000\n")
	fmt.Fprintf(&load, "  matchmaking_active_users{service=\"matchmaking\"} 1200+0x9000\n")
	for _, h := range []string{"/v1/swipe", "/v1/matches", "/v1/profile", "/v1/messages"} {
		for _, code := range []string{"200", "500"} {
			fmt.Fprintf(&load, "  http_requests_total{service=\"matchmaking\",handler=%q,code=%q} 0+30x9000\n", h, code)
		}
		for _, le := range []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"} {
			fmt.Fprintf(&load, "  http_request_duration_seconds_bucket{service=\"matchmaking\",handler=%q,le=%q} 0+30x9000\n", h, le)
		}
	}
	st := promqltest.LoadedStorage(b, load.String())
	eng := promqltest.NewTestEngine(b, false, 5*time.Minute, 50_000_000)
	e, err := NewEngine(EngineOptions{Files: []string{"../demo/rules/*.yml"}, Interval: time.Second, Query: SourceQuery(engineQuerier{eng, st})})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Unix(0, 0).Add(14 * time.Minute)
	e.Start(at, nil)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		// Each call is one evaluation of every group: a second later.
		i++
		if _, err := e.Eval(context.Background(), at.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

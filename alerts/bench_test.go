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
// (loaded from demo/rules) over 15 minutes of 2s-resolution matchmaking data.
func BenchmarkEvalDemoRules(b *testing.B) {
	set, err := LoadRuleFiles([]string{"../demo/rules/*.yml"})
	if err != nil {
		b.Fatal(err)
	}
	var load strings.Builder
	load.WriteString("load 2s\n")
	fmt.Fprintf(&load, "  matchmaking_matches_total{service=\"matchmaking\"} 0+6x450\n")
	fmt.Fprintf(&load, "  matchmaking_active_users{service=\"matchmaking\"} 1200+0x450\n")
	for _, h := range []string{"/v1/swipe", "/v1/matches", "/v1/profile", "/v1/messages"} {
		for _, code := range []string{"200", "500"} {
			fmt.Fprintf(&load, "  http_requests_total{service=\"matchmaking\",handler=%q,code=%q} 0+30x450\n", h, code)
		}
		for _, le := range []string{"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"} {
			fmt.Fprintf(&load, "  http_request_duration_seconds_bucket{service=\"matchmaking\",handler=%q,le=%q} 0+30x450\n", h, le)
		}
	}
	st := promqltest.LoadedStorage(b, load.String())
	eng := promqltest.NewTestEngine(b, false, 5*time.Minute, 50_000_000)
	ev := NewEvaluator(set.Rules, engineQuerier{eng, st})
	at := time.Unix(0, 0).Add(14 * time.Minute)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ev.Eval(context.Background(), at); err != nil {
			b.Fatal(err)
		}
	}
}

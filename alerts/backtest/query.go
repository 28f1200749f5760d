package backtest

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// MaxPoints is how many points a range query may have per series:
// Prometheus refuses more than 11,000.
const MaxPoints = 11000

// steps is an evaluation grid: n instants from first, step apart, each
// queried at its time minus offset (a group's query_offset).
type steps struct {
	first  time.Time
	step   time.Duration
	n      int
	offset time.Duration
}

// at is the i-th instant.
func (s steps) at(i int) time.Time { return s.first.Add(time.Duration(i) * s.step) }

// queryMillis is the Unix millisecond the i-th instant queries, as the
// engine reads the time it is given.
func (s steps) queryMillis(i int) int64 { return s.at(i).Add(-s.offset).UnixMilli() }

// grid is the instants of [since, until] of a group: its first slot at or
// after since, then every interval. slot is the group's slot at or before
// a time (rules.Group.EvalTimestamp).
func grid(since, until time.Time, interval, offset time.Duration, slot func(int64) time.Time) steps {
	first := slot(since.UnixNano())
	if first.Before(since) {
		first = first.Add(interval)
	}
	s := steps{first: first, step: interval, offset: offset}
	if !first.After(until) {
		s.n = int(until.Sub(first)/interval) + 1
	}
	return s
}

// chunk is the instants [from, to) of a grid queried together.
type chunk struct{ from, to int }

// chunks splits n instants into runs of at most max.
func chunks(n, max int) []chunk {
	var out []chunk
	for i := 0; i < n; i += max {
		out = append(out, chunk{i, min(i+max, n)})
	}
	return out
}

// rangeVectors runs expr as one range query over the instants of c and
// returns the vector of each instant, as an instant query at it would.
func rangeVectors(ctx context.Context, src Source, expr string, s steps, c chunk) ([]promql.Vector, error) {
	start := time.UnixMilli(s.queryMillis(c.from)).UTC()
	end := time.UnixMilli(s.queryMillis(c.to - 1)).UTC()
	series, err := src.Range(ctx, expr, start, end, s.step)
	if err != nil {
		return nil, err
	}
	return byInstant(series, start.UnixMilli(), s.step.Milliseconds(), c.to-c.from), nil
}

// byInstant turns the series of a range query into the vectors of its n
// instants, startMs and stepMs apart.
func byInstant(series []metrics.Series, startMs, stepMs int64, n int) []promql.Vector {
	out := make([]promql.Vector, n)
	for _, sr := range series {
		for _, p := range sr.Points {
			ms := p.T.UnixMilli()
			d := ms - startMs
			if d < 0 || stepMs <= 0 || d%stepMs != 0 || d/stepMs >= int64(n) {
				continue // not an instant asked for
			}
			i := d / stepMs
			out[i] = append(out[i], promql.Sample{Metric: sr.Labels, T: ms, F: p.V})
		}
	}
	return out
}

package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// promqlValue is what the engine returns.
type promqlValue = parser.Value

// run executes a prepared query and converts its result before the query's
// memory is released.
func run[T any](ctx context.Context, expr string, q promql.Query, err error, convert func(promqlValue) (T, error)) (T, error) {
	var zero T
	if err != nil {
		return zero, fmt.Errorf("query %q: %w", expr, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return zero, fmt.Errorf("query %q: %w", expr, res.Err)
	}
	return convert(res.Value)
}

// instantResult converts a vector or scalar; native histogram samples are
// left out, as the scraper never writes them.
func instantResult(expr string, v promqlValue) (Vector, error) {
	switch v := v.(type) {
	case promql.Vector:
		out := make(Vector, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				continue
			}
			out = append(out, Sample{Labels: s.Metric, Value: s.F, T: fromMillis(s.T)})
		}
		return out, nil
	case promql.Scalar:
		return Vector{{Labels: labels.EmptyLabels(), Value: v.V, T: fromMillis(v.T)}}, nil
	default:
		return nil, fmt.Errorf("query %q: result is a %s, want a vector or a scalar", expr, v.Type())
	}
}

// anyResult converts a result of any type.
func anyResult(at time.Time) func(v promqlValue) (Result, error) {
	return func(v promqlValue) (Result, error) {
		r := Result{Type: string(v.Type()), T: at.UTC()}
		switch v := v.(type) {
		case promql.Vector, promql.Scalar:
			vec, err := instantResult("", v)
			r.Vector = vec
			return r, err
		case promql.Matrix:
			r.Matrix = matrix(v)
		case promql.String:
			r.String = v.V
		default:
			return r, fmt.Errorf("unknown result type %s", v.Type())
		}
		return r, nil
	}
}

// rangeResult converts the matrix of a range query.
func rangeResult(expr string, v promqlValue) ([]Series, error) {
	m, ok := v.(promql.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q: range result is a %s, want a matrix", expr, v.Type())
	}
	return matrix(m), nil
}

// matrix converts series of floats; native histograms are left out.
func matrix(m promql.Matrix) []Series {
	out := make([]Series, 0, len(m))
	for _, s := range m {
		if len(s.Floats) == 0 {
			continue
		}
		pts := make([]Point, len(s.Floats))
		for i, p := range s.Floats {
			pts[i] = Point{T: fromMillis(p.T), V: p.F}
		}
		out = append(out, Series{Labels: s.Metric, Points: pts})
	}
	return out
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

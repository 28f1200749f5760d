// Package metrics reads platform metrics: the Source interface every consumer
// queries through, the Prometheus HTTP API adapter (Prometheus, Thanos, Mimir,
// VictoriaMetrics), and the embedded scraper + TSDB + PromQL engine used when no
// Prometheus is configured.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Source answers PromQL queries. Implementations must be safe for concurrent use.
type Source interface {
	// Instant evaluates expr at one instant and returns its samples. A scalar
	// result is returned as one sample with empty labels.
	Instant(ctx context.Context, expr string, at time.Time) (Vector, error)
	// Range evaluates expr over [start, end] at the given step.
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error)
	// Query evaluates expr at one instant and returns its result whatever
	// its type: for people asking (the CLI, the console, the API), where
	// `up[5m]` and `"text"` are fair questions.
	Query(ctx context.Context, expr string, at time.Time) (Result, error)
}

// The types of a query result, as PromQL names them.
const (
	TypeVector = "vector"
	TypeScalar = "scalar"
	TypeMatrix = "matrix"
	TypeString = "string"
)

// Result is the value of an instant query in PromQL's own types.
type Result struct {
	// Type is TypeVector, TypeScalar, TypeMatrix or TypeString.
	Type string `json:"resultType"`
	// Vector holds a vector's samples, or a scalar as one sample without
	// labels.
	Vector Vector `json:"vector,omitempty"`
	// Matrix holds a range selector's series.
	Matrix []Series `json:"matrix,omitempty"`
	// String is a string result's text.
	String string `json:"string,omitempty"`
	// T is when the query was evaluated.
	T time.Time `json:"time"`
}

// Sample is one value of one series at one instant.
type Sample struct {
	Labels labels.Labels `json:"labels"`
	Value  float64       `json:"value"`
	T      time.Time     `json:"time"`
}

// Vector is the result of an instant query.
type Vector []Sample

// Point is one value at one time in a Series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Series is one labelled series of a range query.
type Series struct {
	Labels labels.Labels `json:"labels"`
	Points []Point       `json:"points"`
}

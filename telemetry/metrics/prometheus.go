package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// PrometheusOptions configure the Prometheus HTTP API adapter.
type PrometheusOptions struct {
	URL         string
	BearerToken string
	Timeout     time.Duration // per query; default 30s
}

// Prometheus is a Source over a Prometheus-compatible HTTP API: Prometheus,
// Thanos, Mimir, VictoriaMetrics.
type Prometheus struct {
	url     string
	api     v1.API
	timeout time.Duration
}

// NewPrometheus returns an adapter for the API at opts.URL.
func NewPrometheus(opts PrometheusOptions) (*Prometheus, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: want http(s)://host[:port]", opts.URL)
	}
	var rt http.RoundTripper = api.DefaultRoundTripper
	if opts.BearerToken != "" {
		rt = config.NewAuthorizationCredentialsRoundTripper("Bearer", config.NewInlineSecret(opts.BearerToken), rt)
	}
	c, err := api.NewClient(api.Config{Address: opts.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus url %q: %w", opts.URL, err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	return &Prometheus{url: opts.URL, api: v1.NewAPI(c), timeout: opts.Timeout}, nil
}

// Ping checks that the API answers a trivial query.
func (p *Prometheus) Ping(ctx context.Context) error {
	if _, err := p.Instant(ctx, "vector(1)", time.Now()); err != nil {
		return fmt.Errorf("prometheus %q unreachable: %w", p.url, err)
	}
	return nil
}

// Instant evaluates expr at one instant.
func (p *Prometheus) Instant(ctx context.Context, expr string, at time.Time) (Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.Query(ctx, expr, at)
	if err != nil {
		return nil, fmt.Errorf("query %q on %s: %w", expr, p.url, err)
	}
	switch v := v.(type) {
	case model.Vector:
		out := make(Vector, len(v))
		for i, s := range v {
			out[i] = Sample{Labels: fromMetric(s.Metric), Value: float64(s.Value), T: s.Timestamp.Time().UTC()}
		}
		return out, nil
	case *model.Scalar:
		return Vector{{Labels: labels.EmptyLabels(), Value: float64(v.Value), T: v.Timestamp.Time().UTC()}}, nil
	default:
		return nil, fmt.Errorf("query %q on %s: result is %s, want a vector or scalar", expr, p.url, v.Type())
	}
}

// Range evaluates expr over [start, end] at step.
func (p *Prometheus) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("query %q on %s: %w", expr, p.url, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q on %s: range result is %s, not a matrix", expr, p.url, v.Type())
	}
	out := make([]Series, len(m))
	for i, s := range m {
		out[i].Labels = fromMetric(s.Metric)
		for _, pt := range s.Values {
			out[i].Points = append(out[i].Points, Point{T: pt.Timestamp.Time().UTC(), V: float64(pt.Value)})
		}
	}
	return out, nil
}

func fromMetric(m model.Metric) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for k, v := range m {
		b.Add(string(k), string(v))
	}
	b.Sort()
	return b.Labels()
}

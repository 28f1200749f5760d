package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// PrometheusOptions configure the Prometheus HTTP API adapter.
type PrometheusOptions struct {
	// URL is the API's base address, without /api/v1: http://prometheus:9090,
	// or a path prefix such as Mimir's http://mimir/prometheus.
	URL string
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken string
	// Timeout bounds each query; default 30s.
	Timeout time.Duration
}

// Prometheus is a Source over a Prometheus-compatible HTTP API: Prometheus,
// Thanos, Mimir, VictoriaMetrics. It is safe for concurrent use.
type Prometheus struct {
	url     string
	api     v1.API
	timeout time.Duration
}

// NewPrometheus validates opts and returns an adapter for the API at
// opts.URL. It does not contact the server; see Ping.
func NewPrometheus(opts PrometheusOptions) (*Prometheus, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: want http(s)://host[:port][/prefix]", opts.URL)
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

// Ping evaluates `vector(1)`, which every compatible API answers cheaply.
// Its error is one line naming the URL.
func (p *Prometheus) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if _, _, _, err := p.api.Query(ctx, "vector(1)", time.Now()); err != nil {
		return fmt.Errorf("prometheus %q unreachable: %s", p.url, oneLine(err.Error()))
	}
	return nil
}

// Instant evaluates expr at one instant. A scalar result is one sample with
// empty labels; warnings are ignored; errors quote expr.
func (p *Prometheus) Instant(ctx context.Context, expr string, at time.Time) (Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.Query(ctx, expr, at)
	if err != nil {
		return nil, fmt.Errorf("query %q on %q: %w", expr, p.url, err)
	}
	switch v := v.(type) {
	case model.Vector:
		out := make(Vector, 0, len(v))
		for _, s := range v {
			if s.Histogram != nil {
				continue // native histograms have no float value
			}
			out = append(out, Sample{Labels: fromMetric(s.Metric), Value: float64(s.Value), T: s.Timestamp.Time().UTC()})
		}
		return out, nil
	case *model.Scalar:
		return Vector{{Labels: labels.EmptyLabels(), Value: float64(v.Value), T: v.Timestamp.Time().UTC()}}, nil
	default:
		return nil, fmt.Errorf("query %q on %q: result is a %s, want a vector or a scalar", expr, p.url, typeOf(v))
	}
}

// Query evaluates expr at one instant, whatever the type of its result;
// warnings are ignored; errors quote expr.
func (p *Prometheus) Query(ctx context.Context, expr string, at time.Time) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.Query(ctx, expr, at)
	if err != nil {
		return Result{}, fmt.Errorf("query %q on %q: %w", expr, p.url, err)
	}
	r := Result{Type: typeOf(v), T: at.UTC()}
	switch v := v.(type) {
	case model.Vector:
		r.Vector = make(Vector, 0, len(v))
		for _, s := range v {
			if s.Histogram == nil {
				r.Vector = append(r.Vector, Sample{Labels: fromMetric(s.Metric), Value: float64(s.Value), T: s.Timestamp.Time().UTC()})
			}
		}
	case *model.Scalar:
		r.Vector = Vector{{Labels: labels.EmptyLabels(), Value: float64(v.Value), T: v.Timestamp.Time().UTC()}}
	case model.Matrix:
		r.Matrix = fromMatrix(v)
	case *model.String:
		r.String = v.Value
	default:
		return r, fmt.Errorf("query %q on %q: result is a %s", expr, p.url, typeOf(v))
	}
	return r, nil
}

// Range evaluates expr over [start, end] at step; warnings are ignored;
// errors quote expr.
func (p *Prometheus) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("query %q on %q: %w", expr, p.url, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q on %q: range result is a %s, want a matrix", expr, p.url, typeOf(v))
	}
	return fromMatrix(m), nil
}

// fromMatrix converts series of floats; native histograms are left out.
func fromMatrix(m model.Matrix) []Series {
	out := make([]Series, 0, len(m))
	for _, s := range m {
		if len(s.Values) == 0 {
			continue
		}
		pts := make([]Point, len(s.Values))
		for i, pt := range s.Values {
			pts[i] = Point{T: pt.Timestamp.Time().UTC(), V: float64(pt.Value)}
		}
		out = append(out, Series{Labels: fromMetric(s.Metric), Points: pts})
	}
	return out
}

func typeOf(v model.Value) string {
	if v == nil {
		return "nothing"
	}
	return v.Type().String()
}

func fromMetric(m model.Metric) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for k, v := range m {
		b.Add(string(k), string(v))
	}
	b.Sort()
	return b.Labels()
}

// oneLine folds an error that may carry a response body onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

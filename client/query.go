package client

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// Query evaluates a PromQL expression on the server's metrics source at
// an instant (zero: now), whatever the type of its result.
func (c *Client) Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error) {
	q := url.Values{"query": {expr}}
	if !at.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', -1, 64))
	}
	var resp queryResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/query", q, nil, &resp); err != nil {
		return metrics.Result{}, err
	}
	return resp.Data.result(at)
}

// Range evaluates a PromQL expression over [start, end] at step.
func (c *Client) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	q := url.Values{"query": {expr},
		"start": {strconv.FormatFloat(float64(start.UnixMilli())/1000, 'f', -1, 64)},
		"end":   {strconv.FormatFloat(float64(end.UnixMilli())/1000, 'f', -1, 64)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	var resp queryResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/query_range", q, nil, &resp); err != nil {
		return nil, err
	}
	r, err := resp.Data.result(end)
	if err == nil && r.Type != metrics.TypeMatrix {
		err = fmt.Errorf("range query answered with a %s", r.Type)
	}
	return r.Matrix, err
}

// queryResponse is Prometheus's query API answer.
type queryResponse struct {
	Data queryData `json:"data"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// pair is Prometheus's [<unix seconds>, "<value>"].
type pair struct {
	T time.Time
	S string
}

func (p *pair) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	sec, err := strconv.ParseFloat(string(raw[0]), 64)
	if err != nil {
		return fmt.Errorf("sample time %s: %w", raw[0], err)
	}
	s, f := math.Modf(sec)
	p.T = time.Unix(int64(s), int64(math.Round(f*1000))*int64(time.Millisecond)).UTC()
	return json.Unmarshal(raw[1], &p.S)
}

func (p pair) value() (float64, error) {
	switch p.S {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(p.S, 64)
}

// result converts the data of an answer evaluated at at.
func (d *queryData) result(at time.Time) (metrics.Result, error) {
	r := metrics.Result{Type: d.ResultType, T: at.UTC()}
	bad := func(err error) (metrics.Result, error) {
		return r, fmt.Errorf("bad %s result: %w", d.ResultType, err)
	}
	switch d.ResultType {
	case metrics.TypeScalar, metrics.TypeString:
		var p pair
		if err := json.Unmarshal(d.Result, &p); err != nil {
			return bad(err)
		}
		r.T = p.T
		if d.ResultType == metrics.TypeString {
			r.String = p.S
			return r, nil
		}
		v, err := p.value()
		if err != nil {
			return bad(err)
		}
		r.Vector = metrics.Vector{{Labels: labels.EmptyLabels(), Value: v, T: p.T}}
	case metrics.TypeVector:
		var ss []struct {
			Metric map[string]string `json:"metric"`
			Value  pair              `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &ss); err != nil {
			return bad(err)
		}
		r.Vector = make(metrics.Vector, len(ss))
		for i, s := range ss {
			v, err := s.Value.value()
			if err != nil {
				return bad(err)
			}
			r.Vector[i] = metrics.Sample{Labels: labels.FromMap(s.Metric), Value: v, T: s.Value.T}
		}
	case metrics.TypeMatrix:
		var ss []struct {
			Metric map[string]string `json:"metric"`
			Values []pair            `json:"values"`
		}
		if err := json.Unmarshal(d.Result, &ss); err != nil {
			return bad(err)
		}
		r.Matrix = make([]metrics.Series, len(ss))
		for i, s := range ss {
			pts := make([]metrics.Point, len(s.Values))
			for j, p := range s.Values {
				v, err := p.value()
				if err != nil {
					return bad(err)
				}
				pts[j] = metrics.Point{T: p.T, V: v}
			}
			r.Matrix[i] = metrics.Series{Labels: labels.FromMap(s.Metric), Points: pts}
		}
	default:
		return r, fmt.Errorf("unknown result type %q", strings.TrimSpace(d.ResultType))
	}
	return r, nil
}

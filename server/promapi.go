package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/secret"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// maxPoints bounds the points per series of a range query, as Prometheus
// does.
const maxPoints = 11_000

// promQuery serves GET and POST /api/v1/query as Prometheus's HTTP API
// does: query (or expr), time as RFC 3339 or Unix seconds; the result in
// Prometheus's JSON, so promtool, Grafana and the Prometheus Go client
// can read the embedded TSDB.
func (a *api) promQuery(w http.ResponseWriter, r *http.Request) {
	expr, ok := a.queryParam(w, r)
	if !ok {
		return
	}
	at := a.o.Now()
	if s := r.FormValue("time"); s != "" {
		t, err := promTime(s)
		if err == nil {
			err = checkTime(t)
		}
		if err != nil {
			promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("time: %w", err))
			return
		}
		at = t
	}
	a.evaluate(w, r, func(ctx context.Context) (any, error) {
		res, err := a.o.Source.Query(ctx, expr, at)
		if err != nil {
			return nil, err
		}
		return promResult(res), nil
	})
}

// promQueryRange serves /api/v1/query_range: query, start, end, step.
func (a *api) promQueryRange(w http.ResponseWriter, r *http.Request) {
	expr, ok := a.queryParam(w, r)
	if !ok {
		return
	}
	var start, end time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start", &start}, {"end", &end}} {
		t, err := promTime(r.FormValue(p.name))
		if err == nil {
			err = checkTime(t)
		}
		if err != nil {
			promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("%s: %w", p.name, err))
			return
		}
		*p.t = t
	}
	step, err := promDuration(r.FormValue("step"))
	switch {
	case err != nil:
		promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("step: %w", err))
		return
	case step <= 0:
		promError(w, http.StatusBadRequest, "bad_data", errors.New("step: zero or negative query resolution step widths are not accepted; try a positive integer"))
		return
	case end.Before(start):
		promError(w, http.StatusBadRequest, "bad_data", errors.New("end timestamp must not be before start time"))
		return
	case end.Sub(start)/step > maxPoints:
		promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("exceeded maximum resolution of %d points per timeseries; try decreasing the query resolution (?step=XX)", maxPoints))
		return
	}
	a.evaluate(w, r, func(ctx context.Context) (any, error) {
		ss, err := a.o.Source.Range(ctx, expr, start, end, step)
		if err != nil {
			return nil, err
		}
		return promData{ResultType: metrics.TypeMatrix, Result: promMatrix(ss)}, nil
	})
}

// queryParam reads and checks the query (query=, or oncall's older expr=).
func (a *api) queryParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxQueryLength*4)
	if err := r.ParseForm(); err != nil {
		promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("form: %w", err))
		return "", false
	}
	expr := r.FormValue("query")
	if expr == "" {
		expr = r.FormValue("expr")
	}
	if expr == "" {
		promError(w, http.StatusBadRequest, "bad_data", errors.New(`query: missing (query=<PromQL>)`))
		return "", false
	}
	if err := checkQuery(expr); err != nil {
		promError(w, http.StatusBadRequest, "bad_data", err)
		return "", false
	}
	return expr, true
}

// evaluate runs a query within the per-client gate and the query timeout
// and writes its data or error.
func (a *api) evaluate(w http.ResponseWriter, r *http.Request, f func(ctx context.Context) (any, error)) {
	done, ok := a.queries.enter(r)
	if !ok {
		promError(w, http.StatusTooManyRequests, "unavailable", fmt.Errorf("more than %d queries at once from this client", queriesPerClient))
		return
	}
	defer done()
	ctx, cancel := context.WithTimeout(r.Context(), a.o.QueryTimeout)
	defer cancel()
	data, err := f(ctx)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		promError(w, http.StatusServiceUnavailable, "timeout", fmt.Errorf("query timed out after %s", a.o.QueryTimeout))
	case err != nil:
		promError(w, http.StatusUnprocessableEntity, "execution", err)
	default:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(promResponse{Status: "success", Data: data})
	}
}

// promResponse is the envelope of every answer of Prometheus's API.
type promResponse struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

type promData struct {
	ResultType string `json:"resultType"`
	Result     any    `json:"result"`
}

func promError(w http.ResponseWriter, code int, typ string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(promResponse{Status: "error", ErrorType: typ, Error: secret.Redact(err.Error())})
}

// promPoint is [<unix seconds>, "<value>"], Prometheus's sample pair.
type promPoint struct {
	T time.Time
	V float64
}

// MarshalJSON writes the pair as Prometheus does: seconds with
// millisecond precision, the value as a string (NaN, +Inf, -Inf included).
func (p promPoint) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	b = strconv.AppendFloat(b, float64(p.T.UnixMilli())/1000, 'f', -1, 64)
	b = append(b, ',', '"')
	b = appendPromFloat(b, p.V)
	return append(b, '"', ']'), nil
}

func appendPromFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

type promSample struct {
	Metric labels.Labels `json:"metric"`
	Value  promPoint     `json:"value"`
}

type promSeries struct {
	Metric labels.Labels `json:"metric"`
	Values []promPoint   `json:"values"`
}

func promMatrix(ss []metrics.Series) []promSeries {
	out := make([]promSeries, len(ss))
	for i, s := range ss {
		pts := make([]promPoint, len(s.Points))
		for j, p := range s.Points {
			pts[j] = promPoint{T: p.T, V: p.V}
		}
		out[i] = promSeries{Metric: s.Labels, Values: pts}
	}
	return out
}

// promResult shapes a result of any type as Prometheus's API does.
func promResult(r metrics.Result) promData {
	switch r.Type {
	case metrics.TypeScalar:
		var p promPoint
		if len(r.Vector) == 1 {
			p = promPoint{T: r.Vector[0].T, V: r.Vector[0].Value}
		}
		return promData{ResultType: r.Type, Result: p}
	case metrics.TypeMatrix:
		return promData{ResultType: r.Type, Result: promMatrix(r.Matrix)}
	case metrics.TypeString:
		return promData{ResultType: r.Type, Result: []any{json.Number(strconv.FormatFloat(float64(r.T.UnixMilli())/1000, 'f', -1, 64)), r.String}}
	}
	out := make([]promSample, len(r.Vector))
	for i, s := range r.Vector {
		out[i] = promSample{Metric: s.Labels, Value: promPoint{T: s.T, V: s.Value}}
	}
	return promData{ResultType: metrics.TypeVector, Result: out}
}

// promTime reads a time as Prometheus's API does: Unix seconds (with a
// fraction) or RFC 3339.
func promTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
			return time.Time{}, fmt.Errorf("%q is out of range", s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	return t, nil
}

// promDuration reads a step: seconds (with a fraction) or a duration such
// as 15s or 1m.
func promDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return time.Duration(d), nil
}

package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cannedAPI serves testdata/api/<file> for each known query under the
// /prometheus prefix (as Mimir does), and checks the bearer token.
func cannedAPI(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/prometheus/api/v1/query" && r.URL.Path != "/prometheus/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		file, ok := answers[r.Form.Get("query")]
		if !ok {
			t.Errorf("unexpected query %q", r.Form.Get("query"))
			http.Error(w, "unexpected query", http.StatusInternalServerError)
			return
		}
		body, err := os.ReadFile(filepath.Join("testdata", "api", file))
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(file, "bad_data"):
			w.WriteHeader(http.StatusBadRequest)
		case strings.HasPrefix(file, "execution"):
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPrometheusAdapterDecodesAPI(t *testing.T) {
	srv := cannedAPI(t, map[string]string{
		"up":                        "vector.json",
		"scalar(x)":                 "scalar.json",
		"rate(x[1m])":               "matrix.json",
		"x[1m]":                     "matrix.json",
		"partial":                   "warnings.json",
		`"hello"`:                   "string.json",
		"sum(":                      "bad_data.json",
		"count({__name__=~\".+\"})": "execution.json",
		"vector(1)":                 "vector.json",
	})
	p, err := NewPrometheus(PrometheusOptions{URL: srv.URL + "/prometheus", BearerToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0).UTC()
	instant := []struct {
		expr    string
		want    string
		wantT   time.Time
		wantErr string
	}{
		{expr: "up", want: `{__name__="up", instance="10.0.0.1:9100", job="api"} 1; {__name__="up", instance="10.0.0.2:9100", job="api"} 0`, wantT: ts.Add(500 * time.Millisecond)},
		{expr: "scalar(x)", want: `{} 0.25`, wantT: ts},
		{expr: "partial", want: `{job="api"} 3`, wantT: ts}, // warnings are ignored
		{expr: `"hello"`, wantErr: `query "\"hello\"" on "` + srv.URL + `/prometheus": bad_response: unexpected value type "string"`},
		{expr: "x[1m]", wantErr: `query "x[1m]" on "` + srv.URL + `/prometheus": result is a matrix, want a vector or a scalar`},
		{expr: "sum(", wantErr: `query "sum(" on "` + srv.URL + `/prometheus": bad_data: invalid parameter`},
		{expr: `count({__name__=~".+"})`, wantErr: `execution: query processing would load too many samples`},
	}
	for _, tt := range instant {
		t.Run(tt.expr, func(t *testing.T) {
			v, err := p.Instant(context.Background(), tt.expr, ts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			for _, s := range v {
				if !s.T.Equal(tt.wantT) {
					t.Errorf("T = %v, want %v", s.T, tt.wantT)
				}
			}
		})
	}

	m, err := p.Range(context.Background(), "rate(x[1m])", ts, ts.Add(time.Minute), 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renderSeries(m), `{job="api"} 1@0 2.5@15 NaN@30; {job="db"} +Inf@0`; got != want {
		t.Errorf("range got  %s\nwant %s", got, want)
	}
	if _, err := p.Range(context.Background(), "up", ts, ts, time.Second); err == nil || !strings.Contains(err.Error(), "range result is a vector") {
		t.Errorf("range of a vector: %v", err)
	}
	if err := p.Ping(context.Background()); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// renderSeries prints series as "labels v@seconds-since-first ..." joined by "; ".
func renderSeries(ss []Series) string {
	var out []string
	for _, s := range ss {
		line := s.Labels.String()
		for _, p := range s.Points {
			line += fmt.Sprintf(" %g@%g", p.V, p.T.Sub(ss[0].Points[0].T).Seconds())
		}
		out = append(out, line)
	}
	return strings.Join(out, "; ")
}

func TestNewPrometheusValidatesURL(t *testing.T) {
	for _, u := range []string{"", "localhost:9090", "ftp://host", "http://", "http://[::1"} {
		if _, err := NewPrometheus(PrometheusOptions{URL: u}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", u)) {
			t.Errorf("%q: err = %v, want one naming the url", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9090", "https://mimir.example/prometheus"} {
		if _, err := NewPrometheus(PrometheusOptions{URL: u}); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestPingUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	p, err := NewPrometheus(PrometheusOptions{URL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", url)) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming %s", err, url)
	}
}

func TestPingServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>\n<body>\nupstream down\n</body>\n</html>\n")
	}))
	defer srv.Close()
	p, err := NewPrometheus(PrometheusOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), srv.URL) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %q, want one line naming %s", err, srv.URL)
	}
}

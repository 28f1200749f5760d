package metrics

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseExpositionFormats(t *testing.T) {
	tests := []struct {
		file    string
		parse   func(io.Reader) ([]Sample, error)
		want    []string
		wantErr string
	}{{
		file:  "all_types.prom",
		parse: ParseExposition,
		want: []string{
			`{__name__="gc_seconds", quantile="0.5"} 0.01`,
			`{__name__="gc_seconds", quantile="0.99"} 0.2`,
			`{__name__="gc_seconds_count"} 40`,
			`{__name__="gc_seconds_sum"} 1.5`,
			`{__name__="http_requests_total", code="200", method="GET"} 1027`,
			`{__name__="http_requests_total", code="500", method="GET"} 3`,
			`{__name__="legacy_value"} 7`,
			`{__name__="rpc_seconds_bucket", le="+Inf"} 10`,
			`{__name__="rpc_seconds_bucket", le="0.1"} 2`,
			`{__name__="rpc_seconds_bucket", le="0.5"} 8`,
			`{__name__="rpc_seconds_count"} 10`,
			`{__name__="rpc_seconds_sum"} 2.5`,
			`{__name__="temperature_celsius", room="a \"quoted\" \\ room"} -3.5`,
		},
	}, {
		file:  "app.om",
		parse: ParseOpenMetrics,
		want: []string{
			`{__name__="build_info", version="1.2.3"} 1`,
			`{__name__="feature", feature="a"} 1`,
			`{__name__="feature", feature="b"} 0`,
			`{__name__="mystery"} 5`,
			`{__name__="om_latency_seconds_bucket", le="+Inf"} 10`,
			`{__name__="om_latency_seconds_bucket", le="0.5"} 8`,
			`{__name__="om_latency_seconds_bucket", le="1"} 10`,
			`{__name__="om_latency_seconds_count"} 10`,
			`{__name__="om_latency_seconds_sum"} 4`,
			`{__name__="om_requests_created", path="/a b # c"} 1.7e+09`,
			`{__name__="om_requests_total", path="/a b # c"} 42`,
			`{__name__="queue_depth"} NaN`,
		},
	}, {
		file:    "broken.prom",
		parse:   ParseExposition,
		wantErr: "parse exposition: ",
	}, {
		file:    "no_eof.om",
		parse:   ParseOpenMetrics,
		wantErr: `no "# EOF" line`,
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "exposition", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := tt.parse(f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lines := renderLines(got); !slices.Equal(lines, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseBodyByContentType(t *testing.T) {
	om := "# TYPE c counter\nc_total 1 # {a=\"b\"} 1\n# EOF\n"
	tests := []struct {
		contentType string
		body        string
		wantErr     bool
	}{
		{"application/openmetrics-text; version=1.0.0; charset=utf-8", om, false},
		{"text/plain; version=0.0.4", "c_total 1\n", false},
		{"", "c_total 1\n", false},                            // Prometheus 2 falls back to text too
		{"text/plain; version=0.0.4", om, true},               // an exemplar is not text format
		{"application/openmetrics-text", "c_total 1\n", true}, // no # EOF
	}
	for _, tt := range tests {
		got, err := parseBody(tt.contentType, []byte(tt.body))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q %q: err = %v, want error %v", tt.contentType, tt.body, err, tt.wantErr)
			continue
		}
		if err == nil && (len(got) != 1 || got[0].Labels.Get("__name__") != "c_total" || got[0].Value != 1) {
			t.Errorf("%q: got %v", tt.contentType, got)
		}
	}
}

// renderLines prints samples as sorted "labels value" lines.
func renderLines(v []Sample) []string {
	lines := make([]string, 0, len(v))
	for _, s := range v {
		lines = append(lines, fmt.Sprintf("%s %g", s.Labels.String(), s.Value))
	}
	slices.Sort(lines)
	return lines
}

// render prints samples on one line, sorted.
func render(v Vector) string { return strings.Join(renderLines(v), "; ") }

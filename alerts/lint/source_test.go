package lint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/internal/golden"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// t0 is when the test data ends: the source queries are evaluated then.
var t0 = time.Unix(1_750_000_000, 0).UTC()

// embedded is a real TSDB and PromQL engine holding ten minutes of
// 15s-scraped test data:
//
//   - http_requests_total{service="api", instance="i0".."i11", code="200"|"500"}:
//     24 series; "lonely" has code="200" only;
//   - up{job="api", service="api", instance="i0".."i11"} and
//     up{job="batch", instance="b0"};
//   - owner_info{instance="i0".."i11", owner="team-a"}.
func embedded(t testing.TB) *metrics.Embedded {
	t.Helper()
	e, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	var series []labels.Labels
	for i := range 12 {
		inst := fmt.Sprintf("i%d", i)
		for _, code := range []string{"200", "500"} {
			series = append(series, labels.FromStrings("__name__", "http_requests_total", "service", "api", "instance", inst, "code", code))
		}
		series = append(series, labels.FromStrings("__name__", "up", "job", "api", "service", "api", "instance", inst))
		series = append(series, labels.FromStrings("__name__", "owner_info", "instance", inst, "owner", "team-a"))
	}
	series = append(series,
		labels.FromStrings("__name__", "http_requests_total", "service", "api", "instance", "lonely", "code", "200"),
		labels.FromStrings("__name__", "up", "job", "batch", "instance", "b0"),
		labels.FromStrings("__name__", "latency_seconds_bucket", "service", "api", "le", "0.1"),
		labels.FromStrings("__name__", "latency_seconds_bucket", "service", "api", "le", "+Inf"),
	)
	for step := 40; step >= 0; step-- {
		at := t0.Add(-time.Duration(step) * 15 * time.Second)
		for i, ls := range series {
			if err := e.Append(ls, at, float64((40-step)*(i+1))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

func sourceOptions(src Querier) Options {
	o := testOptions()
	o.Source, o.SourceName, o.Now = src, "the test TSDB", t0
	o.MaxSeries, o.MaxSamples = 20, 400
	return o
}

// The source checks against the real PromQL engine: missing metrics,
// matchers that exclude everything, expensive rules; recorded series,
// ALERTS and absent() are left alone.
func TestSourceChecks(t *testing.T) {
	src := embedded(t)
	path := "testdata/source/rules.yml"
	rep := lintFiles(t, sourceOptions(src), path)
	var got []want
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, "OC3") {
			got = append(got, want{f.Line, f.ID, f.Severity})
		}
	}
	exp := wants(t, path)
	for i := range exp {
		c, _ := CheckByID(exp[i].id)
		if exp[i].sev == "" {
			exp[i].sev = c.Severity
		}
	}
	if !slices.Equal(got, exp) {
		t.Errorf("got\n%v\nwant\n%v\n%s", got, exp, table(rep))
	}
	if len(rep.Summary.Skipped) != 0 || rep.Summary.Source != "the test TSDB" {
		t.Errorf("summary %+v", rep.Summary)
	}
	golden.Check(t, "testdata/source/rules.table.golden", table(rep))
}

// The limits: what the engine counts is compared, and a negative limit
// turns the check off.
func TestExpensiveLimits(t *testing.T) {
	src := embedded(t)
	f, err := ParseFile("x.yml", []byte(`groups:
  - name: g
    rules:
      - record: service:http_requests:rate5m
        expr: sum by (service) (rate(http_requests_total[5m]))
`))
	if err != nil {
		t.Fatal(err)
	}
	// 25 series, 20 samples each in the left-open (t0-5m, t0].
	for _, tc := range []struct {
		maxSeries, maxSamples int
		want                  []string
	}{
		{24, -1, []string{"touches 25 series at the source, more than 24 (http_requests_total: 25)"}},
		{25, -1, nil},
		{-1, 499, []string{"reads 500 samples at the source, more than 499 (http_requests_total[5m]: 500)"}},
		{-1, 500, nil},
		{1, 1, []string{"reads 500 samples", "touches 25 series"}},
	} {
		o := sourceOptions(src)
		o.MaxSeries, o.MaxSamples = tc.maxSeries, tc.maxSamples
		var got []string
		for _, fd := range Lint(context.Background(), []*File{f}, o).Findings {
			got = append(got, fd.Message)
		}
		if len(got) != len(tc.want) {
			t.Errorf("max %d series, %d samples: %q, want %q", tc.maxSeries, tc.maxSamples, got, tc.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tc.want[i]) {
				t.Errorf("max %d series, %d samples: %q, want %q", tc.maxSeries, tc.maxSamples, got[i], tc.want[i])
			}
		}
	}
}

// Without a source, or with one that fails, the source checks are skipped
// and the report says why; the other checks still run.
func TestSourceSkipped(t *testing.T) {
	f, err := ReadFile("testdata/mixed.yml")
	if err != nil {
		t.Fatal(err)
	}
	offline := Lint(context.Background(), []*File{f}, testOptions())
	if got := offline.Summary.Skipped; len(got) != 1 || got[0].Reason != "--offline" || !slices.Equal(got[0].Checks, []string{NoSeries, NoMatchingSeries, Expensive}) {
		t.Errorf("offline: skipped %+v", got)
	}
	closed := embedded(t)
	closed.Close()
	rep := Lint(context.Background(), []*File{f}, sourceOptions(closed))
	if got := rep.Summary.Skipped; len(got) != 1 || !strings.Contains(got[0].Reason, "the metrics source failed") || !strings.Contains(got[0].Reason, "closed") {
		t.Errorf("failing source: skipped %+v", got)
	}
	for _, r := range []Report{offline, rep} {
		if len(r.Findings) == 0 {
			t.Error("the offline checks did not run")
		}
		for _, fd := range r.Findings {
			if strings.HasPrefix(fd.ID, "OC3") {
				t.Errorf("source finding without a source: %+v", fd)
			}
		}
	}
	opts := testOptions()
	opts.Disabled = []string{NoSeries}
	if got := Lint(context.Background(), []*File{f}, opts).Summary.Skipped; len(got) != 1 || !slices.Equal(got[0].Checks, []string{NoMatchingSeries, Expensive}) {
		t.Errorf("with OC301 disabled: skipped %+v", got)
	}
}

// resultLabels is checked against the engine: every label a result has
// is one the analysis allows, with the value it fixes; and the labels the
// analysis says are gone are gone.
func TestResultLabelsAgainstEngine(t *testing.T) {
	src := embedded(t)
	for _, tc := range []struct {
		expr   string
		absent []string // what the analysis must say is never there
	}{
		{`up`, nil},
		{`sum by (service) (up)`, []string{"instance", "job"}},
		{`sum without (instance) (up)`, []string{"instance"}},
		{`sum by (job) (up) > 0`, []string{"instance", "service"}},
		{`up > on (instance) up * 0`, []string{"job", "service"}},
		{`up > ignoring (job) up * 0`, []string{"job"}},
		{`up * on (instance) group_left (owner) owner_info`, nil},
		{`owner_info * on (instance) group_right (owner) up`, nil},
		{`sum by (instance) (up) * on (instance) group_left (owner) owner_info`, []string{"job", "service"}},
		{`absent(nonexistent{job="api", env=~"p.*"})`, []string{"env", "instance"}},
		{`absent_over_time(nonexistent{job="api"}[5m])`, []string{"instance"}},
		{`label_replace(sum(up), "team", "x", "", "")`, []string{"instance", "job"}},
		{`label_join(sum by (job) (up), "both", "-", "job")`, []string{"instance"}},
		{`histogram_quantile(0.9, sum by (le, service) (rate(latency_seconds_bucket[5m])))`, []string{"le"}},
		{`count_values("v", sum by (job) (up))`, []string{"instance"}},
		{`topk(1, up)`, nil},
		{`up{job="api"} or up{job="batch"}`, nil},
		{`sum by (job) (up{job="api"}) or sum by (instance) (up{job="batch"})`, []string{"service"}},
		{`sum(up) + 1`, []string{"job", "instance", "service"}},
		{`vector(1)`, []string{"job"}},
		{`rate(http_requests_total{code="500"}[5m])`, nil},
		{`up{job="api"} and on (instance) owner_info`, nil},
		{`count(up) == 13`, []string{"job", "instance"}},
		{`max_over_time(sum by (service) (up)[5m:1m])`, []string{"instance"}},
		{`up{job=""}`, []string{"job"}},
		{`sort_desc(-up{job="api"})`, nil},
		{`timestamp(up{service="api"})`, nil},
		{`scalar(sum(up)) * sum by (service) (up)`, []string{"instance"}},
	} {
		e, err := promql.ParseExpr(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		out := resultLabels(e)
		for _, n := range tc.absent {
			if out.may(n) {
				t.Errorf("%s: the analysis allows %s", tc.expr, n)
			}
		}
		res, err := src.Query(context.Background(), tc.expr, t0)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if len(res.Vector) == 0 && !strings.HasPrefix(tc.expr, "absent") && tc.expr != `up{job=""}` {
			t.Errorf("%s: no result: the case tests nothing", tc.expr)
		}
		for _, s := range res.Vector {
			s.Labels.Range(func(l labels.Label) {
				if l.Name == labels.MetricName {
					return
				}
				if !out.may(l.Name) {
					t.Errorf("%s: result %s has %s, which the analysis rules out", tc.expr, s.Labels, l.Name)
				}
			})
			for n, v := range out.fixed {
				if got := s.Labels.Get(n); got != v {
					t.Errorf("%s: result %s has %s=%q, the analysis says %q", tc.expr, s.Labels, n, got, v)
				}
			}
		}
	}
}

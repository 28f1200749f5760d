package alerts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestLoadRuleFiles(t *testing.T) {
	set, err := LoadRuleFiles([]string{"testdata/good.rules.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if set.Recording != 1 || len(set.Rules) != 2 || len(Alerting(set.Rules)) != 1 {
		t.Fatalf("got %d rules, %d recording", len(set.Rules), set.Recording)
	}
	rec := set.Rules[0]
	if !rec.Record || rec.Name == "" {
		t.Errorf("recording rule = %+v", rec)
	}
	r := Alerting(set.Rules)[0]
	if r.Name != "MatchRateCollapsed" || r.For != 2*time.Minute || r.Line != 8 || r.Group != "business" {
		t.Errorf("rule = %+v", r)
	}
	if r.Labels["team"] != "matchmaking" || r.Labels["severity"] != "page" {
		t.Errorf("group labels not merged: %v", r.Labels)
	}
}

func TestLoadRuleFilesErrors(t *testing.T) {
	tests := []struct {
		patterns []string
		want     []string
	}{
		{[]string{"testdata/bad.rules.yml"}, []string{"testdata/bad.rules.yml:7:", `"BadExpr"`}},
		{[]string{"testdata/none-*.yml"}, []string{`"testdata/none-*.yml" matches no file`}},
		{[]string{"testdata/bad.rules.yml", "testdata/none.yml"}, []string{"bad.rules.yml:7:", "none.yml"}},
	}
	for _, tc := range tests {
		_, err := LoadRuleFiles(tc.patterns)
		if err == nil {
			t.Fatalf("%v: want error", tc.patterns)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", tc.patterns, err, w)
			}
		}
	}
}

func TestRuleJSONDurationsAreStrings(t *testing.T) {
	r := Rule{Name: "A", Expr: "up == 0", For: 5 * time.Minute, KeepFiringFor: 90 * time.Second, Group: "g", File: "f.yml", Line: 3}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"for":"5m"`) || !strings.Contains(string(b), `"keep_firing_for":"1m30s"`) {
		t.Fatalf("%s, %v", b, err)
	}
	var back Rule
	if err := json.Unmarshal(b, &back); err != nil || back.For != r.For || back.KeepFiringFor != r.KeepFiringFor || back.Name != "A" || back.Line != 3 {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(Rule{Name: "B"}); strings.Contains(string(b), `"for"`) {
		t.Errorf("zero for is omitted: %s", b)
	}
}

// SelectorMetric reads the metric name however a selector spells it.
func TestSelectorMetric(t *testing.T) {
	for expr, want := range map[string]string{
		`http_requests_total{job="api"}`: "http_requests_total",
		`{__name__="up", job="api"}`:     "up",
		`{__name__=~"up|down"}`:          "",
		`{"utf8.metric", job="api"}`:     "utf8.metric",
		`rate(errors_total[5m])`:         "errors_total",
	} {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				got = SelectorMetric(vs)
			}
			return nil
		})
		if got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
}

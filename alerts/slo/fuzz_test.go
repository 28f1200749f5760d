package slo

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"
)

// loads says whether Prometheus's rule-file parser takes b.
func loads(t *testing.T, b []byte) {
	t.Helper()
	if _, errs := rulefmt.Parse(b, false, model.UTF8Validation, pql, slog.New(slog.DiscardHandler)); len(errs) > 0 {
		t.Fatalf("rendered rules do not load: %v\n%s", errs, b)
	}
}

func seedFiles(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Whatever ParseSloth makes of any input, it does not panic; an error
// names the file; SLOs it accepts render to rules that load.
func FuzzParseSloth(f *testing.F) {
	seedFiles(f, "testdata/sloth/*.yml")
	for _, s := range []string{
		"",
		"version: \"prometheus/v1\"\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli: {raw: {error_ratio_query: 'x[{{.window}}]'}}\n    alerting: {name: A}\n",
		"version: \"prometheus/v1\"\nservice: s\nslos:\n  - &a {name: a, objective: 99, sli: {events: {error_query: 'sum(rate(e[{{.window}}]))', total_query: 'sum(rate(t[{{.window}}]))'}}, alerting: {name: A}}\n  - {<<: *a, name: b}\n",
		"version: \"prometheus/v1\"\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli: {plugin: {id: x}}\n    alerting: {name: A, page_alert: {labels: {severity: '{{ $value }}'}}}\n",
		"a: &x {<<: *x}\n",
		"apiVersion: openslo/v1\n",
		"--- \n---\nversion: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		services, err := ParseSloth("f.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range services {
			b, err := Render(Service{Name: s.Service}, s.SLOs, nil)
			if err != nil {
				t.Fatalf("accepted SLOs do not render: %v", err)
			}
			loads(t, b)
		}
	})
}

// Whatever a spec decodes to, Validate and Generate do not panic, and a
// spec that validates renders to rules that load.
func FuzzSpec(f *testing.F) {
	seedFiles(f, "testdata/specs/*.yml")
	for _, s := range []string{
		"service: {name: s}\nslos: [{name: a, objective: 99.5, error_ratio: 'x[{{.window}}]', window: 7d, page: {for: 5m, labels: {to: '{{ $labels.x }}'}}}]\n",
		"service: {name: s}\nkpis: [{name: k, numerator: a, denominator: b, baseline: {same_time: {every: 1w, count: 4}}, max_rise: 3, for: 0s}]\n",
		"service: {name: s, labels: {team: x}}\nkpis: [{name: k, numerator: a, denominator: b, baseline: {moving_average: 1d}, max_drop: 0.5, min_volume: {query: c, at_least: 10}}]\n",
		"service: {name: s}\nslos: [{name: a, objective: 99.9, good: 'g[{{.window}}]', total: 't[{{.window}}] # c', description: '{{ x'}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sf specFile
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if dec.Decode(&sf) != nil {
			return
		}
		groups, genErr := Generate(sf.Service, sf.SLOs, sf.KPIs)
		valid := sf.Service.Validate() == nil && sf.Spec.Validate() == nil
		if valid != (genErr == nil) {
			t.Fatalf("Validate says valid=%v, Generate says %v", valid, genErr)
		}
		if !valid {
			return
		}
		if len(groups.Groups) != len(sf.SLOs)+len(sf.KPIs) {
			t.Fatalf("%d groups for %d SLOs and %d KPIs", len(groups.Groups), len(sf.SLOs), len(sf.KPIs))
		}
		b, err := Render(sf.Service, sf.SLOs, sf.KPIs)
		if err != nil {
			t.Fatalf("a valid spec does not render: %v", err)
		}
		loads(t, b)
	})
}

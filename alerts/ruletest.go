package alerts

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/telemetry/metrics"
)

// RuleTestFile is a rule unit-test file in promtool's format: the same file
// runs under `promtool test rules` and `oncall rules test`.
type RuleTestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []RuleTest     `yaml:"tests"`
}

// RuleTest is one test group: input series and the alerts expected when.
type RuleTest struct {
	Name           string          `yaml:"name"`
	Interval       model.Duration  `yaml:"interval"`
	InputSeries    []InputSeries   `yaml:"input_series"`
	AlertRuleTests []AlertRuleTest `yaml:"alert_rule_test"`
}

// InputSeries is a series in expanding notation, e.g. values "0+10x5 _ 60".
type InputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertRuleTest says which alerts of one rule fire at an evaluation time.
type AlertRuleTest struct {
	EvalTime  model.Duration  `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is a firing alert's labels (alertname implied) and annotations.
type ExpectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// RunRuleTests runs a promtool-format rule test file with oncall's
// evaluator and returns one message per failed expectation (none: pass).
// A file that cannot be run at all is an error.
func RunRuleTests(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f RuleTestFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = model.Duration(time.Minute)
	}
	var patterns []string
	for _, rf := range f.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		patterns = append(patterns, rf)
	}
	set, err := LoadRuleFiles(patterns)
	if err != nil {
		return nil, err
	}
	var failures []string
	for i, tg := range f.Tests {
		name := tg.Name
		if name == "" {
			name = fmt.Sprintf("tests[%d]", i)
		}
		fs, err := runRuleTest(set.Rules, tg, time.Duration(f.EvaluationInterval))
		if err != nil {
			return failures, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		for _, msg := range fs {
			failures = append(failures, fmt.Sprintf("%s: %s: %s", path, name, msg))
		}
	}
	return failures, nil
}

func runRuleTest(rules []Rule, tg RuleTest, every time.Duration) ([]string, error) {
	src, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Retention: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	interval := time.Duration(tg.Interval)
	if interval == 0 {
		interval = every
	}
	p := parser.NewParser(parser.Options{})
	epoch := time.Unix(0, 0).UTC()
	for _, s := range tg.InputSeries {
		ls, vals, err := p.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			return nil, fmt.Errorf("input series %q: %w", s.Series, err)
		}
		for i, v := range vals {
			if v.Omitted || v.Histogram != nil {
				continue
			}
			if err := src.Append(ls, epoch.Add(time.Duration(i)*interval), v.Value); err != nil {
				return nil, err
			}
		}
	}
	byTime := map[time.Duration][]AlertRuleTest{}
	var last time.Duration
	for _, at := range tg.AlertRuleTests {
		d := time.Duration(at.EvalTime)
		if d%every != 0 {
			return nil, fmt.Errorf("eval_time %v is not a multiple of evaluation_interval %v", d, every)
		}
		byTime[d] = append(byTime[d], at)
		last = max(last, d)
	}
	ev := NewEvaluator(rules, src)
	var failures []string
	for ts := time.Duration(0); ts <= last; ts += every {
		as, err := ev.Eval(context.Background(), epoch.Add(ts))
		if err != nil {
			return nil, fmt.Errorf("at %v: %w", ts, err)
		}
		for _, at := range byTime[ts] {
			if msg := compareAlerts(at, as); msg != "" {
				failures = append(failures, fmt.Sprintf("alertname %s, time %v: %s", at.Alertname, ts, msg))
			}
		}
	}
	return failures, nil
}

// compareAlerts checks the firing alerts of one rule against expectations,
// ignoring order; it returns "" when they match.
func compareAlerts(at AlertRuleTest, as []RuleAlert) string {
	render := func(ls map[string]string, ann map[string]string) string {
		return labels.FromMap(ls).String() + " " + labels.FromMap(ann).String()
	}
	var got, want []string
	for _, a := range as {
		if a.Rule == at.Alertname && a.State == StateFiring {
			got = append(got, render(a.Labels.Map(), a.Annotations))
		}
	}
	for _, e := range at.ExpAlerts {
		ls := maps.Clone(e.ExpLabels)
		if ls == nil {
			ls = map[string]string{}
		}
		ls[labels.AlertName] = at.Alertname
		want = append(want, render(ls, e.ExpAnnotations))
	}
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("\n  want: %s\n  got:  %s", strings.Join(want, "\n        "), strings.Join(got, "\n        "))
}

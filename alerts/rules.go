package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// Rule is one rule of a Prometheus rule file: an alerting rule, or a
// recording rule (Record set; Name is the series it records).
type Rule struct {
	Name          string            `json:"name"`
	Record        bool              `json:"record,omitempty"`
	Expr          string            `json:"expr"`
	For           time.Duration     `json:"for,omitempty"`
	KeepFiringFor time.Duration     `json:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	// Group, File and Line say where the rule was defined.
	Group string `json:"group"`
	File  string `json:"file"`
	Line  int    `json:"line"`
}

// Where is "file:line" of the rule's definition.
func (r Rule) Where() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// RuleSet is the rules loaded from rule files, in order; Recording counts
// the recording rules among them.
type RuleSet struct {
	Rules     []Rule
	Recording int
}

// Alerting returns the alerting rules of rs.
func Alerting(rs []Rule) []Rule {
	var out []Rule
	for _, r := range rs {
		if !r.Record {
			out = append(out, r)
		}
	}
	return out
}

// LoadRuleFiles loads every file matched by the glob patterns, in order. All
// problems of all files are returned together, each naming file and line.
func LoadRuleFiles(patterns []string) (RuleSet, error) {
	var set RuleSet
	var errs []error
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule_files: bad pattern %q: %w", pat, err))
			continue
		}
		if len(files) == 0 {
			errs = append(errs, fmt.Errorf("rule_files: %q matches no file", pat))
		}
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s, err := ParseRules(f, b)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			set.Rules = append(set.Rules, s.Rules...)
			set.Recording += s.Recording
		}
	}
	return set, errors.Join(errs...)
}

// ParseRules parses one Prometheus rule file with Prometheus's own validation
// (unknown fields, PromQL syntax, label names, templates). Errors are prefixed
// with file and line.
func ParseRules(file string, content []byte) (RuleSet, error) {
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		for i := range errs {
			errs[i] = fmt.Errorf("%s:%w", file, errs[i])
		}
		return RuleSet{}, errors.Join(errs...)
	}
	lines := ruleLines(content)
	var set RuleSet
	for gi, g := range groups.Groups {
		for ri, r := range g.Rules {
			if r.Record != "" {
				set.Recording++
			}
			set.Rules = append(set.Rules, ruleOf(file, gi, ri, g, r, lines))
		}
	}
	return set, nil
}

// ruleOf is rule ri of group gi of a file; lines says where rules start.
func ruleOf(file string, gi, ri int, g rulefmt.RuleGroup, r rulefmt.Rule, lines map[[2]int]int) Rule {
	name := r.Alert
	if r.Record != "" {
		name = r.Record
	}
	labels := map[string]string{}
	for k, v := range g.Labels {
		labels[k] = v
	}
	for k, v := range r.Labels {
		labels[k] = v
	}
	return Rule{
		Name:          name,
		Record:        r.Record != "",
		Expr:          r.Expr,
		For:           time.Duration(r.For),
		KeepFiringFor: time.Duration(r.KeepFiringFor),
		Labels:        labels,
		Annotations:   r.Annotations,
		Group:         g.Name,
		File:          file,
		Line:          lines[[2]int{gi, ri}],
	}
}

// ruleLines maps (group index, rule index) to the line the rule starts on.
func ruleLines(content []byte) map[[2]int]int {
	var doc struct {
		Groups []struct {
			Rules []yaml.Node `yaml:"rules"`
		} `yaml:"groups"`
	}
	out := map[[2]int]int{}
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return out
	}
	for gi, g := range doc.Groups {
		for ri, n := range g.Rules {
			out[[2]int{gi, ri}] = n.Line
		}
	}
	return out
}

// MarshalJSON writes for and keep_firing_for as duration strings ("5m"),
// as the rule file does.
func (r Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	return json.Marshal(struct {
		plain
		For           string `json:"for,omitempty"`
		KeepFiringFor string `json:"keep_firing_for,omitempty"`
	}{plain(r), durationString(r.For), durationString(r.KeepFiringFor)})
}

// UnmarshalJSON reads for and keep_firing_for as duration strings.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	var v struct {
		*plain
		For           string `json:"for,omitempty"`
		KeepFiringFor string `json:"keep_firing_for,omitempty"`
	}
	v.plain = (*plain)(r)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for _, f := range []struct {
		name, s string
		d       *time.Duration
	}{{"for", v.For, &r.For}, {"keep_firing_for", v.KeepFiringFor, &r.KeepFiringFor}} {
		*f.d = 0
		if f.s == "" {
			continue
		}
		d, err := model.ParseDuration(f.s)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration", f.name, f.s)
		}
		*f.d = time.Duration(d)
	}
	return nil
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return model.Duration(d).String()
}

// SelectorMetric is the metric name a selector asks for: its name, or an
// equality matcher on __name__; "" when it names none.
func SelectorMetric(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

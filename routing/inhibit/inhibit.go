// Package inhibit is Alertmanager's inhibition: while a source alert is
// active, target alerts that agree with it on the rule's equal labels are
// muted. An alert matching both sides of a rule is not inhibited by alerts
// that also match both sides, and a missing label equals an empty one.
package inhibit

import (
	"slices"
	"strings"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// Rule is one inhibit_rules entry.
type Rule struct {
	Name           string
	Source, Target amlabels.Matchers
	Equal          []string
}

// NewRules converts an Alertmanager configuration's inhibit_rules,
// including the deprecated source_match(_re) and target_match(_re) forms.
func NewRules(cfg []amcommoncfg.InhibitRule) []Rule {
	out := make([]Rule, len(cfg))
	for i, c := range cfg {
		r := Rule{Name: c.Name, Equal: slices.Clone(c.Equal)}
		r.Source = append(equalMatchers(c.SourceMatch, c.SourceMatchRE), c.SourceMatchers...)
		r.Target = append(equalMatchers(c.TargetMatch, c.TargetMatchRE), c.TargetMatchers...)
		out[i] = r
	}
	return out
}

func equalMatchers(eq map[string]string, re amcommoncfg.MatchRegexps) amlabels.Matchers {
	var out amlabels.Matchers
	for n, v := range eq {
		m, _ := amlabels.NewMatcher(amlabels.MatchEqual, n, v) // validated by the config
		out = append(out, m)
	}
	for n, v := range re {
		m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, n, v.String())
		out = append(out, m)
	}
	return out
}

func matches(ms amlabels.Matchers, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Inhibitor keeps, for each rule, the alerts that can inhibit, indexed by
// their equal labels. It is not safe for concurrent use.
type Inhibitor struct {
	rules []*indexed
}

type indexed struct {
	Rule
	// sources maps the values of the equal labels to the source alerts
	// that have them.
	sources map[string]map[uint64]*source
}

type source struct {
	endsAt time.Time
	// twoSided: the source also matches the rule's target side.
	twoSided bool
}

// New returns an inhibitor for rules with no alerts yet.
func New(rules []Rule) *Inhibitor {
	ih := &Inhibitor{}
	for _, r := range rules {
		ih.rules = append(ih.rules, &indexed{Rule: r, sources: map[string]map[uint64]*source{}})
	}
	return ih
}

// Empty reports whether there are no rules at all.
func (ih *Inhibitor) Empty() bool { return len(ih.rules) == 0 }

func (r *indexed) key(ls labels.Labels) string {
	var b strings.Builder
	for _, n := range r.Equal {
		b.WriteString(ls.Get(n))
		b.WriteByte(0xff)
	}
	return b.String()
}

// Set records the current version of an alert (labels never change for a
// fingerprint; its end may).
func (ih *Inhibitor) Set(fp uint64, a *alerts.Alert) {
	for _, r := range ih.rules {
		if !matches(r.Source, a.Labels) {
			continue
		}
		k := r.key(a.Labels)
		b := r.sources[k]
		if b == nil {
			b = map[uint64]*source{}
			r.sources[k] = b
		}
		b[fp] = &source{endsAt: a.EndsAt, twoSided: matches(r.Target, a.Labels)}
	}
}

// Delete forgets an alert.
func (ih *Inhibitor) Delete(fp uint64, ls labels.Labels) {
	for _, r := range ih.rules {
		if !matches(r.Source, ls) {
			continue
		}
		k := r.key(ls)
		if b := r.sources[k]; b != nil {
			delete(b, fp)
			if len(b) == 0 {
				delete(r.sources, k)
			}
		}
	}
}

// Mutes returns the fingerprint of an alert that inhibits an alert with
// labels ls at now, and whether there is one.
func (ih *Inhibitor) Mutes(ls labels.Labels, now time.Time) (uint64, bool) {
	for _, r := range ih.rules {
		if !matches(r.Target, ls) {
			continue
		}
		excludeTwoSided := matches(r.Source, ls)
		best, found := uint64(0), false
		for fp, s := range r.sources[r.key(ls)] {
			if !s.endsAt.IsZero() && !s.endsAt.After(now) {
				continue // resolved
			}
			if excludeTwoSided && s.twoSided {
				continue
			}
			if !found || fp < best {
				best, found = fp, true
			}
		}
		if found {
			return best, true
		}
	}
	return 0, false
}

package routing

import (
	"slices"
	"strconv"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"
)

// Defaults of the root route, as in Alertmanager.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// Route is one node of the routing tree with its options resolved: a child
// inherits receiver, grouping and timers from its parent unless it sets
// them; time intervals are its own.
type Route struct {
	parent   *Route
	Receiver string
	// GroupBy is sorted; GroupByAll is group_by: ['...'].
	GroupBy        []string
	GroupByAll     bool
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// MuteTimeIntervals and ActiveTimeIntervals name time intervals of the
	// configuration.
	MuteTimeIntervals   []string
	ActiveTimeIntervals []string
	Matchers            amlabels.Matchers
	Continue            bool
	Routes              []*Route

	key, id string
}

// NewRoute builds the tree under cr; parent is nil for the root.
func NewRoute(cr *amconfig.Route, parent *Route) *Route {
	r := &Route{parent: parent, GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval}
	if parent != nil {
		r.Receiver, r.GroupBy, r.GroupByAll = parent.Receiver, parent.GroupBy, parent.GroupByAll
		r.GroupWait, r.GroupInterval, r.RepeatInterval = parent.GroupWait, parent.GroupInterval, parent.RepeatInterval
	}
	if cr.Receiver != "" {
		r.Receiver = cr.Receiver
	}
	if cr.GroupBy != nil {
		r.GroupBy = make([]string, len(cr.GroupBy))
		for i, n := range cr.GroupBy {
			r.GroupBy[i] = string(n)
		}
		slices.Sort(r.GroupBy)
		r.GroupBy = slices.Compact(r.GroupBy)
		r.GroupByAll = false
	} else if cr.GroupByAll {
		r.GroupByAll = true
	}
	if cr.GroupWait != nil {
		r.GroupWait = time.Duration(*cr.GroupWait)
	}
	if cr.GroupInterval != nil {
		r.GroupInterval = time.Duration(*cr.GroupInterval)
	}
	if cr.RepeatInterval != nil {
		r.RepeatInterval = time.Duration(*cr.RepeatInterval)
	}
	for _, name := range slices.Sorted(mapKeys(cr.Match)) {
		m, _ := amlabels.NewMatcher(amlabels.MatchEqual, name, cr.Match[name]) // validated by the config
		r.Matchers = append(r.Matchers, m)
	}
	for _, name := range slices.Sorted(mapKeys(cr.MatchRE)) {
		m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, name, cr.MatchRE[name].String())
		r.Matchers = append(r.Matchers, m)
	}
	r.Matchers = append(r.Matchers, cr.Matchers...)
	slices.SortStableFunc(r.Matchers, compareMatchers)
	r.MuteTimeIntervals, r.ActiveTimeIntervals = cr.MuteTimeIntervals, cr.ActiveTimeIntervals
	r.Continue = cr.Continue
	for i, c := range cr.Routes {
		child := NewRoute(c, r)
		child.id = r.ID() + "/" + child.Matchers.String() + "/" + strconv.Itoa(i)
		r.Routes = append(r.Routes, child)
	}
	return r
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compareMatchers orders matchers as Alertmanager sorts them: by name, then
// value, then type.
func compareMatchers(a, b *amlabels.Matcher) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	return int(a.Type) - int(b.Type)
}

// Matches reports whether every matcher of the route matches ls (a missing
// label is the empty string).
func (r *Route) Matches(ls labels.Labels) bool {
	for _, m := range r.Matchers {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Match returns the routes an alert with labels ls goes to: a depth-first,
// left-to-right search where a matching child stops the search among its
// siblings unless it has continue, and a node none of whose children match
// is itself the match.
func (r *Route) Match(ls labels.Labels) []*Route {
	if !r.Matches(ls) {
		return nil
	}
	var all []*Route
	for _, c := range r.Routes {
		m := c.Match(ls)
		all = append(all, m...)
		if m != nil && !c.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// Key is Alertmanager's key of the route: its matchers and its ancestors'
// joined by "/". It is the first half of a group key.
func (r *Route) Key() string {
	if r.key == "" {
		var b strings.Builder
		if r.parent != nil {
			b.WriteString(r.parent.Key())
			b.WriteByte('/')
		}
		b.WriteString(r.Matchers.String())
		r.key = b.String()
	}
	return r.key
}

// ID identifies the route uniquely in its tree (Key plus the position among
// siblings), so that two siblings with the same matchers keep apart groups.
func (r *Route) ID() string {
	if r.id == "" {
		return r.Matchers.String()
	}
	return r.id
}

// Walk visits the route and its descendants depth-first.
func (r *Route) Walk(visit func(*Route)) {
	visit(r)
	for _, c := range r.Routes {
		c.Walk(visit)
	}
}

// GroupLabels are the labels of ls that make its group under the route.
func (r *Route) GroupLabels(ls labels.Labels) labels.Labels {
	if r.GroupByAll {
		return ls
	}
	b := labels.NewScratchBuilder(len(r.GroupBy))
	for _, n := range r.GroupBy {
		if v := ls.Get(n); v != "" {
			b.Add(n, v)
		}
	}
	return b.Labels()
}

// GroupKey is Alertmanager's group key for the group with labels gl under
// the route, e.g. `{}/{severity="page"}:{service="api"}`.
func (r *Route) GroupKey(gl labels.Labels) string {
	return r.Key() + ":" + LabelSetString(gl)
}

// LabelSetString renders labels as Alertmanager renders a label set:
// `{a="1", b="2"}`.
func LabelSetString(ls labels.Labels) string {
	var b strings.Builder
	b.WriteByte('{')
	i := 0
	ls.Range(func(l labels.Label) {
		if i > 0 {
			b.WriteString(", ")
		}
		i++
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	})
	b.WriteByte('}')
	return b.String()
}

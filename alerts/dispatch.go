package alerts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Route decides what happens to the alerts it matches: how they are grouped
// and which escalation policy, if any, pages a human for them.
type Route struct {
	Name     string
	Matchers []*labels.Matcher
	// GroupBy lists the labels whose values make a group: alerts that share
	// them are one problem and produce one notification.
	GroupBy []string
	// GroupWait is how long a new group waits for more alerts before it notifies.
	GroupWait time.Duration
	// Policy names the escalation policy that pages for the route's groups; ""
	// means the alerts are shown but page nobody.
	Policy string
}

// ParseMatchers parses label matchers in PromQL selector syntax, e.g.
// `severity=~"page|critical"`.
func ParseMatchers(ss []string) ([]*labels.Matcher, error) {
	var out []*labels.Matcher
	for _, s := range ss {
		ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector("{" + s + "}")
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", s, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// Matches reports whether every matcher of the route matches ls.
func (r Route) Matches(ls labels.Labels) bool {
	for _, m := range r.Matchers {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// GroupState is the durable state of one alert group.
type GroupState struct {
	Key    string            `json:"key"`
	Route  string            `json:"route"`
	Labels map[string]string `json:"labels"`
	// FirstFiringAt is when the group first had a firing alert in this streak.
	FirstFiringAt time.Time `json:"first_firing_at"`
	// NotifiedAt is when the firing notification went out (zero: not yet).
	NotifiedAt time.Time `json:"notified_at,omitzero"`
}

// Notification is one message about one alert group.
type Notification struct {
	// Resolved is false for "the group is firing", true for "all resolved".
	Resolved bool
	Group    GroupState
	Route    Route
	// Alerts are the group's alerts at the time of the notification.
	Alerts []RuleAlert
}

// Dispatcher groups alerts by route and decides when a group notifies: once
// when it starts firing (after the route's group wait) and once when every
// alert of it has resolved — never once per evaluation.
type Dispatcher struct {
	routes []Route
	groups map[string]*GroupState
}

// NewDispatcher returns a dispatcher over routes; the first matching route
// wins and alerts matching none are grouped by alertname and page nobody.
func NewDispatcher(routes []Route) *Dispatcher {
	return &Dispatcher{routes: routes, groups: map[string]*GroupState{}}
}

// Restore puts back group states saved before a restart, so that groups
// already notified do not notify again.
func (d *Dispatcher) Restore(states []GroupState) {
	for _, g := range states {
		c := g
		d.groups[g.Key] = &c
	}
}

// Groups returns the current group states ordered by key.
func (d *Dispatcher) Groups() []GroupState {
	out := make([]GroupState, 0, len(d.groups))
	for _, k := range slices.Sorted(maps.Keys(d.groups)) {
		out = append(out, *d.groups[k])
	}
	return out
}

var fallback = Route{Name: "default", GroupBy: []string{"alertname"}}

func (d *Dispatcher) route(ls labels.Labels) Route {
	for _, r := range d.routes {
		if r.Matches(ls) {
			return r
		}
	}
	return fallback
}

// GroupKey returns the key of the group the labels fall in under route r.
func GroupKey(r Route, ls labels.Labels) (string, map[string]string) {
	vals := map[string]string{}
	var b strings.Builder
	b.WriteString(r.Name)
	b.WriteString(":{")
	for i, name := range r.GroupBy {
		v := ls.Get(name)
		vals[name] = v
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", name, v)
	}
	b.WriteByte('}')
	return b.String(), vals
}

// Update takes the alerts of one evaluation and returns the notifications due
// at now.
func (d *Dispatcher) Update(alerts []RuleAlert, now time.Time) []Notification {
	type group struct {
		route  Route
		labels map[string]string
		alerts []RuleAlert
		firing bool
	}
	current := map[string]*group{}
	for _, a := range alerts {
		r := d.route(a.Labels)
		key, vals := GroupKey(r, a.Labels)
		g := current[key]
		if g == nil {
			g = &group{route: r, labels: vals}
			current[key] = g
		}
		g.alerts = append(g.alerts, a)
		g.firing = g.firing || a.State == StateFiring
	}
	var out []Notification
	for _, key := range slices.Sorted(maps.Keys(current)) {
		g := current[key]
		st := d.groups[key]
		if !g.firing {
			continue
		}
		if st == nil {
			st = &GroupState{Key: key, Route: g.route.Name, Labels: g.labels, FirstFiringAt: now}
			d.groups[key] = st
		}
		if st.NotifiedAt.IsZero() && now.Sub(st.FirstFiringAt) >= g.route.GroupWait {
			st.NotifiedAt = now
			out = append(out, Notification{Group: *st, Route: g.route, Alerts: g.alerts})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(d.groups)) {
		st := d.groups[key]
		if g := current[key]; g != nil && g.firing {
			continue
		}
		delete(d.groups, key)
		if !st.NotifiedAt.IsZero() {
			n := Notification{Resolved: true, Group: *st, Route: d.routeByName(st.Route)}
			if g := current[key]; g != nil {
				n.Alerts = g.alerts
			}
			out = append(out, n)
		}
	}
	return out
}

func (d *Dispatcher) routeByName(name string) Route {
	for _, r := range d.routes {
		if r.Name == name {
			return r
		}
	}
	return fallback
}

// Package dispatch is Alertmanager's dispatcher with time passed in:
// alerts are sorted into aggregation groups per route, and each group
// flushes on Alertmanager's schedule — group_wait after it is created (at
// once for an alert older than that, until the group first flushes), then
// every group_interval. Empty groups are dropped by a periodic maintenance
// pass. The caller runs the notification stages on what a flush returns;
// group state is exported for the store, so timers survive a restart.
package dispatch

import (
	"cmp"
	"container/heap"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing"
)

// GroupState is the durable part of a group: what a restart needs to keep
// its schedule.
type GroupState struct {
	// ID identifies the group: its route's ID and its labels.
	ID       string        `json:"id"`
	RouteID  string        `json:"routeId"`
	Key      string        `json:"groupKey"`
	Receiver string        `json:"receiver"`
	Labels   labels.Labels `json:"labels"`
	// Next is when the group flushes next.
	Next time.Time `json:"next"`
	// Flushed is true once the group has flushed: from then on a new alert
	// waits for the next group_interval instead of flushing at once.
	Flushed bool `json:"flushed"`
}

// Group is one aggregation group.
type Group struct {
	GroupState
	Route  *routing.Route
	alerts map[uint64]*alerts.Alert
	index  int // in the dispatcher's queue
}

// Len is the number of alerts in the group.
func (g *Group) Len() int { return len(g.alerts) }

// Alerts returns the group's alerts in Alertmanager's notification order.
func (g *Group) Alerts() []*alerts.Alert {
	out := slices.Collect(maps.Values(g.alerts))
	slices.SortStableFunc(out, compareAlerts)
	return out
}

// Dispatcher holds the groups. It is not safe for concurrent use.
type Dispatcher struct {
	root    *routing.Route
	routes  map[string]*routing.Route
	groups  map[string]*Group
	queue   queue
	dirty   map[string]bool
	removed []string
}

// New returns a dispatcher for the routing tree under root.
func New(root *routing.Route) *Dispatcher {
	d := &Dispatcher{root: root, routes: map[string]*routing.Route{}, groups: map[string]*Group{}, dirty: map[string]bool{}}
	root.Walk(func(r *routing.Route) { d.routes[r.ID()] = r })
	return d
}

// Match returns the routes an alert with labels ls goes to.
func (d *Dispatcher) Match(ls labels.Labels) []*routing.Route { return d.root.Match(ls) }

// Restore puts back groups saved before a restart, empty until their alerts
// are inserted again. Groups of routes that no longer exist are dropped.
func (d *Dispatcher) Restore(states []GroupState) {
	for _, st := range states {
		r, ok := d.routes[st.RouteID]
		if !ok || r.Receiver != st.Receiver {
			d.removed = append(d.removed, st.ID)
			continue
		}
		g := &Group{GroupState: st, Route: r, alerts: map[uint64]*alerts.Alert{}}
		d.groups[st.ID] = g
		heap.Push(&d.queue, g)
	}
}

// Insert puts the current version of an alert into its group under each of
// routes (as returned by Match), creating groups as needed. A new group
// flushes group_wait after now; a group that has not flushed yet flushes at
// once when the alert started more than group_wait ago.
func (d *Dispatcher) Insert(fp uint64, a *alerts.Alert, routes []*routing.Route, now time.Time) {
	for _, r := range routes {
		gl := r.GroupLabels(a.Labels)
		id := groupID(r, gl)
		g := d.groups[id]
		if g == nil {
			g = &Group{GroupState: GroupState{ID: id, RouteID: r.ID(), Key: r.GroupKey(gl), Receiver: r.Receiver, Labels: gl, Next: now.Add(r.GroupWait)},
				Route: r, alerts: map[uint64]*alerts.Alert{}}
			d.groups[id] = g
			heap.Push(&d.queue, g)
			d.dirty[id] = true
		}
		g.alerts[fp] = a
		if !g.Flushed && a.StartsAt.Add(r.GroupWait).Before(now) && g.Next.After(now) {
			g.Next = now
			heap.Fix(&d.queue, g.index)
			d.dirty[id] = true
		}
	}
}

func groupID(r *routing.Route, gl labels.Labels) string {
	var b strings.Builder
	b.WriteString(r.ID())
	b.WriteByte(':')
	b.WriteString(routing.LabelSetString(gl))
	return b.String()
}

// Remove takes an alert out of every group (when it is forgotten).
func (d *Dispatcher) Remove(fp uint64, routes []*routing.Route, ls labels.Labels) {
	for _, r := range routes {
		if g := d.groups[groupID(r, r.GroupLabels(ls))]; g != nil {
			delete(g.alerts, fp)
		}
	}
}

// Next is when the earliest group flushes (zero with no groups).
func (d *Dispatcher) Next() time.Time {
	if len(d.queue) == 0 {
		return time.Time{}
	}
	return d.queue[0].Next
}

// Flush is one group's flush: the alerts to notify about, as copies in
// notification order, with the end of those not resolved at the flush
// cleared (they must not resolve while the notification is under way).
type Flush struct {
	Group  *Group
	At     time.Time
	Alerts []alerts.Alert
	fps    []uint64
}

// Due starts the flush of the groups due at now, earliest first, until
// their alerts number maxAlerts (0: no bound; at least one group is taken),
// and schedules each group's next flush group_interval after this one.
// Groups left due are taken by the next call. Empty groups are skipped
// (their timer keeps running, as in Alertmanager).
func (d *Dispatcher) Due(now time.Time, maxAlerts int) []*Flush {
	var out []*Flush
	taken := 0
	for len(d.queue) > 0 && !d.queue[0].Next.After(now) {
		g := d.queue[0]
		if maxAlerts > 0 && taken > 0 && taken+len(g.alerts) > maxAlerts {
			break
		}
		g.Next = now.Add(g.Route.GroupInterval)
		g.Flushed = true
		heap.Fix(&d.queue, 0)
		d.dirty[g.ID] = true
		if len(g.alerts) == 0 {
			continue
		}
		taken += len(g.alerts)
		f := &Flush{Group: g, At: now}
		for _, a := range g.Alerts() {
			c := *a
			if !c.ResolvedAt(now) {
				c.EndsAt = time.Time{}
			}
			f.Alerts = append(f.Alerts, c)
			f.fps = append(f.fps, c.Fingerprint())
		}
		out = append(out, f)
	}
	return out
}

// Done finishes a flush that was notified (or durably queued): resolved
// alerts that have not been received again since the flush leave the group.
// A failed flush is not Done, so its alerts are offered again next time.
func (d *Dispatcher) Done(f *Flush) {
	for i, c := range f.Alerts {
		cur, ok := f.Group.alerts[f.fps[i]]
		if ok && c.ResolvedAt(f.At) && cur.UpdatedAt.Equal(c.UpdatedAt) {
			delete(f.Group.alerts, f.fps[i])
		}
	}
}

// Retry makes a group whose flush could not be recorded flush again by at.
func (d *Dispatcher) Retry(g *Group, at time.Time) {
	if d.groups[g.ID] != g || !g.Next.After(at) {
		return
	}
	g.Next = at
	heap.Fix(&d.queue, g.index)
	d.dirty[g.ID] = true
}

// Maintain drops groups left empty, as Alertmanager does every 30 seconds.
func (d *Dispatcher) Maintain() {
	for id, g := range d.groups {
		if len(g.alerts) == 0 {
			heap.Remove(&d.queue, g.index)
			delete(d.groups, id)
			delete(d.dirty, id)
			d.removed = append(d.removed, id)
		}
	}
}

// Held returns the fingerprints of every alert some group holds.
func (d *Dispatcher) Held() map[uint64]bool {
	out := map[uint64]bool{}
	for _, g := range d.groups {
		for fp := range g.alerts {
			out[fp] = true
		}
	}
	return out
}

// Groups returns the groups ordered by receiver and key.
func (d *Dispatcher) Groups() []*Group {
	out := slices.Collect(maps.Values(d.groups))
	slices.SortFunc(out, func(a, b *Group) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Receiver, b.Receiver), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Len is the number of groups.
func (d *Dispatcher) Len() int { return len(d.groups) }

// TakeChanges returns the state of groups created or rescheduled and the
// IDs of groups removed since the last call, for the store.
func (d *Dispatcher) TakeChanges() (changed []GroupState, removed []string) {
	for id := range d.dirty {
		if g := d.groups[id]; g != nil {
			changed = append(changed, g.GroupState)
		}
	}
	clear(d.dirty)
	removed, d.removed = d.removed, nil
	slices.SortFunc(changed, func(a, b GroupState) int { return strings.Compare(a.ID, b.ID) })
	return changed, removed
}

// Reschedule marks groups as changed, and removed ones as removed, again
// (their state could not be written): the next TakeChanges returns them.
func (d *Dispatcher) Reschedule(gs []GroupState, removed []string) {
	for _, g := range gs {
		if d.groups[g.ID] != nil {
			d.dirty[g.ID] = true
		}
	}
	for _, id := range removed {
		if d.groups[id] == nil {
			d.removed = append(d.removed, id)
		}
	}
}

// compareAlerts orders alerts as Alertmanager's notifications list them:
// by job, then instance (alerts having them first), then by label set.
func compareAlerts(a, b *alerts.Alert) int {
	for _, k := range [...]string{"job", "instance"} {
		av, bv := a.Labels.Get(k), b.Labels.Get(k)
		switch {
		case av == "" && bv == "":
			continue
		case av == "":
			return 1
		case bv == "":
			return -1
		case av != bv:
			return strings.Compare(av, bv)
		}
	}
	return labelSetCompare(a.Labels, b.Labels)
}

// labelSetCompare is Alertmanager's LabelSet.Before as a comparison: fewer
// labels first; then, walking the names of both in order, the set lacking a
// name sorts first, else the smaller value.
func labelSetCompare(a, b labels.Labels) int {
	if c := a.Len() - b.Len(); c != 0 {
		return c
	}
	names := make([]string, 0, 2*a.Len())
	a.Range(func(l labels.Label) { names = append(names, l.Name) })
	b.Range(func(l labels.Label) { names = append(names, l.Name) })
	slices.Sort(names)
	for _, n := range names {
		if !a.Has(n) {
			return -1
		}
		if !b.Has(n) {
			return 1
		}
		if c := strings.Compare(a.Get(n), b.Get(n)); c != 0 {
			return c
		}
	}
	return 0
}

// queue is a min-heap of groups by their next flush.
type queue []*Group

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].Next.Equal(q[j].Next) {
		return q[i].Next.Before(q[j].Next)
	}
	return q[i].ID < q[j].ID
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	g := x.(*Group)
	g.index = len(*q)
	*q = append(*q, g)
}
func (q *queue) Pop() any {
	old := *q
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	g.index = -1
	return g
}

package pipeline

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing"
)

// entry is one alert the pipeline holds: its latest version (which the
// groups it belongs to point at) and the routes it matched.
type entry struct {
	alert  *alerts.Alert
	routes []*routing.Route
	dirty  bool
	// hist is the state the history last recorded (when histSet), and
	// source where the alert came from.
	hist    alerts.State
	histSet bool
	source  string
}

// index holds every alert by fingerprint, with the ones changed since the
// last write to the store, and enforces the alert limit. It is guarded by
// the pipeline's lock.
type index struct {
	byFP    map[uint64]*entry
	dirty   map[uint64]struct{}
	deleted []uint64
	max     int
	// refused counts alerts turned away by the limit, by alertname, since
	// the limit was last reached.
	refused      map[string]int
	refusedTotal int
	lastRefusal  time.Time
}

func newIndex(max int) *index {
	return &index{byFP: map[uint64]*entry{}, dirty: map[uint64]struct{}{}, max: max, refused: map[string]int{}}
}

// dropLabels removes the configured replica labels, so that the alerts of
// an HA pair of Prometheus servers are one alert.
func dropLabels(ls labels.Labels, names []string) labels.Labels {
	if len(names) == 0 {
		return ls
	}
	has := false
	for _, n := range names {
		if ls.Has(n) {
			has = true
			break
		}
	}
	if !has {
		return ls
	}
	return labels.NewBuilder(ls).Del(names...).Labels()
}

// put takes a received alert as Alertmanager does: merged with the one
// held when their active ranges overlap, else replacing it (an alert that
// fires again after it resolved starts anew). It returns the entry and
// whether it is new; nil when the alert limit refused it.
func (ix *index) put(fp uint64, a *alerts.Alert, now time.Time) (*entry, bool) {
	if e := ix.byFP[fp]; e != nil {
		old := e.alert
		if (a.EndsAt.After(old.StartsAt) && a.EndsAt.Before(old.EndsAt)) || (a.StartsAt.After(old.StartsAt) && a.StartsAt.Before(old.EndsAt)) {
			*e.alert = *old.Merge(a, now)
		} else {
			*e.alert = *a
		}
		ix.markDirty(fp, e)
		return e, false
	}
	if ix.max > 0 && len(ix.byFP) >= ix.max {
		ix.refused[a.Name()]++
		ix.refusedTotal++
		ix.lastRefusal = now
		return nil, false
	}
	c := *a
	e := &entry{alert: &c}
	ix.byFP[fp] = e
	ix.markDirty(fp, e)
	return e, true
}

func (ix *index) markDirty(fp uint64, e *entry) {
	if !e.dirty {
		e.dirty = true
		ix.dirty[fp] = struct{}{}
	}
}

// remove forgets an alert.
func (ix *index) remove(fp uint64) {
	if _, ok := ix.byFP[fp]; !ok {
		return
	}
	delete(ix.byFP, fp)
	delete(ix.dirty, fp)
	ix.deleted = append(ix.deleted, fp)
}

// takeDirty returns copies of up to max alerts changed since they were
// last taken, and the fingerprints forgotten, for the store.
func (ix *index) takeDirty(max int) ([]alerts.Alert, []uint64) {
	out := make([]alerts.Alert, 0, min(len(ix.dirty), max))
	for fp := range ix.dirty {
		if len(out) == max {
			break
		}
		e := ix.byFP[fp]
		e.dirty = false
		out = append(out, *e.alert)
		delete(ix.dirty, fp)
	}
	del := ix.deleted
	ix.deleted = nil
	return out, del
}

// undoTake puts back what takeDirty returned when writing it failed.
func (ix *index) undoTake(as []alerts.Alert, deleted []uint64) {
	for i := range as {
		fp := as[i].Fingerprint()
		if e := ix.byFP[fp]; e != nil {
			ix.markDirty(fp, e)
		}
	}
	ix.deleted = append(deleted, ix.deleted...)
}

// topRefused lists the alertnames refused most, at most n.
func (ix *index) topRefused(n int) []string {
	names := slices.Collect(maps.Keys(ix.refused))
	sort.Slice(names, func(i, j int) bool {
		if ix.refused[names[i]] != ix.refused[names[j]] {
			return ix.refused[names[i]] > ix.refused[names[j]]
		}
		return names[i] < names[j]
	})
	if len(names) > n {
		names = names[:n]
	}
	return names
}

// Package nflog is Alertmanager's notification log: for each integration
// and alert group, which alerts were firing and which resolved when it last
// notified. Deciding against it is what makes a group notify once per
// change, and once per repeat interval, rather than once per flush.
package nflog

import (
	"slices"
	"time"
)

// Key identifies one integration's log for one alert group.
type Key struct {
	// Receiver and Integration name the integration, e.g. "team-x" and
	// "webhook"; Index tells apart several of one kind in a receiver.
	Receiver    string `json:"receiver"`
	Integration string `json:"integration"`
	Index       int    `json:"index"`
	// GroupKey is Alertmanager's group key.
	GroupKey string `json:"groupKey"`
}

// Entry is the last notification of one group to one integration.
type Entry struct {
	Key
	// Firing and Resolved are the fingerprints notified, sorted.
	Firing    []uint64  `json:"firing"`
	Resolved  []uint64  `json:"resolved"`
	Timestamp time.Time `json:"timestamp"`
	// ExpiresAt is when the entry is forgotten: twice the repeat interval
	// after it was written, as Alertmanager keeps it.
	ExpiresAt time.Time `json:"expiresAt"`
}

// NewEntry records a notification at now of the given alerts.
func NewEntry(k Key, firing, resolved map[uint64]struct{}, now time.Time, repeat time.Duration) Entry {
	return Entry{Key: k, Firing: sortedKeys(firing), Resolved: sortedKeys(resolved), Timestamp: now, ExpiresAt: now.Add(2 * repeat)}
}

func sortedKeys(m map[uint64]struct{}) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func subset(sub map[uint64]struct{}, of []uint64) bool {
	for fp := range sub {
		if _, ok := slices.BinarySearch(of, fp); !ok {
			return false
		}
	}
	return true
}

// NeedsUpdate decides, as Alertmanager 0.25's dedup stage does, whether a
// group whose alerts are now firing and resolved must notify, given the last
// entry (nil if none): on the first firing alerts; on any alert firing that
// was not notified as firing; when everything resolved after firing was
// notified (even without send_resolved, so the log is cleared); with
// send_resolved, on a newly resolved alert; otherwise once repeat has passed.
func NeedsUpdate(e *Entry, firing, resolved map[uint64]struct{}, sendResolved bool, repeat time.Duration, now time.Time) bool {
	if e == nil {
		return len(firing) > 0
	}
	if !subset(firing, e.Firing) {
		return true
	}
	if len(firing) == 0 {
		return len(e.Firing) > 0
	}
	if sendResolved && !subset(resolved, e.Resolved) {
		return true
	}
	return e.Timestamp.Before(now.Add(-repeat))
}

// Reason says, in Alertmanager's words, why NeedsUpdate notifies: "first
// notification", "new alerts added", "all alerts resolved", "some alerts
// resolved" or "repeat interval elapsed". Templates may read it.
func Reason(e *Entry, firing, resolved map[uint64]struct{}, sendResolved bool) string {
	switch {
	case e == nil:
		return "first notification"
	case !subset(firing, e.Firing):
		return "new alerts added"
	case len(firing) == 0:
		return "all alerts resolved"
	case sendResolved && !subset(resolved, e.Resolved):
		return "some alerts resolved"
	}
	return "repeat interval elapsed"
}

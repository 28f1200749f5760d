package postmortem

import (
	"cmp"
	"slices"
	"time"
)

// ActionRef is an action item with the postmortem it belongs to.
type ActionRef struct {
	Action
	Postmortem string `json:"postmortem"`
	File       string `json:"file,omitempty"`
	// Overdue says it is outstanding past its due date.
	Overdue bool `json:"overdue,omitempty"`
}

// ActionFilter selects action items.
type ActionFilter struct {
	// Overdue keeps the outstanding ones past their due date; otherwise
	// every outstanding one is kept (All: done and dropped too).
	Overdue bool
	All     bool
	// Owner keeps one person's.
	Owner string
}

// ListActions lists the action items of docs that f keeps at at, the
// earliest due first (those with no due date last).
func ListActions(docs []Document, f ActionFilter, at time.Time) []ActionRef {
	out := []ActionRef{}
	for _, d := range docs {
		for _, a := range d.Actions {
			over := a.Overdue(at)
			switch {
			case f.Owner != "" && a.Owner != f.Owner:
			case f.Overdue && !over:
			case !f.All && !a.Status.Outstanding():
			default:
				out = append(out, ActionRef{Action: a, Postmortem: d.ID, File: d.File, Overdue: over})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ActionRef) int {
		if a.Due.IsZero() != b.Due.IsZero() {
			if a.Due.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(a.Due.Time().Compare(b.Due.Time()), cmp.Compare(a.Postmortem, b.Postmortem))
	})
	return out
}

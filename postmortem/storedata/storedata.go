// Package storedata reads what postmortems and the weekly review need
// from oncall's store: an incident, the incidents of a range, their pages
// with their delivery, and the alert history. It adapts a store.Reader to
// the small interfaces the postmortem packages declare.
package storedata

import (
	"context"
	"slices"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/store"
)

// Reader reads from a store.
type Reader struct {
	Store store.Reader
}

// Incident returns incident id.
func (r Reader) Incident(ctx context.Context, id int64) (incidents.Incident, error) {
	return r.Store.Incident(ctx, id)
}

// IncidentsBetween returns the incidents active at some time in
// [from, to): opened before to, and open or resolved at or after from.
func (r Reader) IncidentsBetween(ctx context.Context, from, to time.Time) ([]incidents.Incident, error) {
	all, err := r.Store.Incidents(ctx, store.IncidentFilter{Since: from})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(i incidents.Incident) bool { return !i.OpenedAt.Before(to) }), nil
}

// Transitions returns the alert transitions in [from, to], oldest first.
func (r Reader) Transitions(ctx context.Context, from, to time.Time) ([]alerts.Transition, error) {
	return r.Store.History(ctx, store.HistoryFilter{Since: from, Until: to})
}

// pageBatch is how many messages are read at a time, newest first.
const pageBatch = 1000

// pages returns the pages created at or after from that keep says to,
// oldest first, with their delivery state.
func (r Reader) pages(ctx context.Context, from time.Time, keep func(incidents.Page) bool) ([]incidents.Page, error) {
	for limit := pageBatch; ; limit *= 4 {
		ms, err := r.Store.Messages(ctx, store.MessageFilter{Kind: notify.KindPage, Limit: limit})
		if err != nil {
			return nil, err
		}
		// Newest first: once the oldest read is before from, all are in.
		if len(ms) < limit || (len(ms) > 0 && ms[len(ms)-1].CreatedAt.Before(from)) {
			var out []incidents.Page
			for _, m := range ms {
				if m.Page == nil || m.Page.CreatedAt.Before(from) {
					continue
				}
				p := *m.Page
				p.ID, p.SentAt, p.Attempts, p.LastError = m.ID, m.SentAt, m.Attempts, m.LastError
				if keep(p) {
					out = append(out, p)
				}
			}
			slices.Reverse(out)
			return out, nil
		}
	}
}

// Pages returns the pages created in [from, to), oldest first.
func (r Reader) Pages(ctx context.Context, from, to time.Time) ([]incidents.Page, error) {
	return r.pages(ctx, from, func(p incidents.Page) bool { return p.CreatedAt.Before(to) })
}

// IncidentPages returns the pages of incident id, oldest first.
func (r Reader) IncidentPages(ctx context.Context, id int64) ([]incidents.Page, error) {
	inc, err := r.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.pages(ctx, inc.OpenedAt, func(p incidents.Page) bool { return p.IncidentID == id })
}

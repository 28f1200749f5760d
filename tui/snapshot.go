package tui

import (
	"context"
	"errors"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
)

// snapshot is what the console knows of the server, refreshed as a whole.
type snapshot struct {
	alerts    []alerts.Alert
	incidents []incidents.Incident
	oncall    []oncall.Assignment
	pages     []incidents.Page
	// ready is the server's readiness (nil if it did not say).
	ready *health.Report
	// at is when the snapshot was taken; zero until the server answered
	// once: until then, the panes know nothing and must not claim calm.
	at time.Time
}

// known reports whether the server ever answered.
func (s *snapshot) known() bool { return !s.at.IsZero() }

// counts returns how many alerts fire (and are not muted), how many fire
// but are muted by a silence or an inhibition, and how many are pending.
func (s *snapshot) counts() (firing, muted, pending int) {
	for _, a := range s.alerts {
		switch {
		case a.Status.State == alerts.StateFiring && a.Status.Suppressed():
			muted++
		case a.Status.State == alerts.StateFiring:
			firing++
		case a.Status.State == alerts.StatePending:
			pending++
		}
	}
	return firing, muted, pending
}

// snapshotMsg carries one refresh.
type snapshotMsg struct {
	snap snapshot
	err  error
	// failed is true when the server did not answer at all.
	failed bool
}

// fetch asks the backend for everything the panes show, in one message.
func fetch(ctx context.Context, b Backend, now time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var m snapshotMsg
		var errs [5]error
		m.snap.alerts, errs[0] = b.Alerts(ctx)
		m.snap.incidents, errs[1] = b.Incidents(ctx)
		m.snap.oncall, errs[2] = b.OnCall(ctx)
		m.snap.pages, errs[3] = b.Pages(ctx, 20)
		var rep health.Report
		if rep, errs[4] = b.Ready(ctx); errs[4] == nil {
			m.snap.ready = &rep
		}
		m.snap.at = now
		m.err = errors.Join(errs[:]...)
		m.failed = errs[0] != nil && errs[1] != nil
		// Firing first, then pending, then resolved; newest first within.
		slices.SortStableFunc(m.snap.alerts, func(a, b alerts.Alert) int { return int(b.Status.State) - int(a.Status.State) })
		return m
	}
}

package pipeline

import (
	"context"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

// historyRetention is how long alert transitions are kept (postmortems and
// the weekly review read them).
const historyRetention = 400 * 24 * time.Hour

// record notes a transition of the alert of e, if its state changed since
// the history last recorded it: firing when it starts (at its start),
// resolved when it ends (at its end). Called with the lock held, as leader.
func (p *Pipeline) record(fp uint64, e *entry, source string, now time.Time) {
	e.source = source
	st := e.alert.StateAt(now)
	if e.histSet && e.hist == st {
		return
	}
	if !e.histSet && st == alerts.StateResolved {
		// Resolved before anyone saw it fire: nothing changed for us.
		e.hist, e.histSet = st, true
		return
	}
	at := e.alert.StartsAt
	if st == alerts.StateResolved {
		at = e.alert.EndsAt
	}
	if at.IsZero() {
		at = now
	}
	p.history = append(p.history, alerts.Transition{At: at, Fingerprint: fp, Labels: e.alert.Labels, State: st,
		Summary: e.alert.Annotations.Get("summary"), Source: source})
	e.hist, e.histSet = st, true
}

// recordResolved notes the alerts that ended since they were recorded
// firing, without being received again. Called with the lock held.
func (p *Pipeline) recordResolved(now time.Time) {
	for fp, e := range p.ix.byFP {
		if e.histSet && e.hist == alerts.StateFiring && e.alert.ResolvedAt(now) {
			p.record(fp, e, e.source, now)
		}
	}
}

// recordPending notes the rule alerts that began waiting out their `for`.
// Called with the lock held.
func (p *Pipeline) recordPending(pending []alerts.RuleAlert) {
	seen := make(map[uint64]bool, len(pending))
	for _, ra := range pending {
		fp := ra.Fingerprint()
		seen[fp] = true
		if !p.pendingFPs[fp] {
			p.history = append(p.history, alerts.Transition{At: ra.ActiveAt, Fingerprint: fp, Labels: ra.Labels, State: alerts.StatePending,
				Summary: ra.Annotations["summary"], Source: sourceRule})
		}
	}
	p.pendingFPs = seen
}

// takeHistory hands over the transitions to write.
func (p *Pipeline) takeHistory() []alerts.Transition {
	h := p.history
	p.history = nil
	return h
}

// expireHistory forgets transitions older than the retention.
func (p *Pipeline) expireHistory(ctx context.Context, now time.Time) error {
	_, err := p.opts.Store.ExpireHistory(ctx, now.Add(-historyRetention))
	return err
}

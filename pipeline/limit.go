package pipeline

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// updateLimitAlert raises, refreshes or ends the alert that says the limit
// is refusing alerts. It goes through the routing tree like any alert.
func (p *Pipeline) updateLimitAlert(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ix.refusedTotal == 0 {
		return
	}
	ls := labels.FromStrings(labels.AlertName, LimitAlertName, "severity", "critical")
	fp := alerts.Fingerprint(ls)
	e := p.ix.byFP[fp]
	endsAt := p.ix.lastRefusal.Add(limitHold)
	if e != nil && e.alert.EndsAt.Equal(endsAt) {
		return
	}
	a := &alerts.Alert{
		Labels: ls,
		Annotations: labels.FromStrings(
			"summary", fmt.Sprintf("oncall refused %d alerts: it holds its limit of %d", p.ix.refusedTotal, p.ix.max),
			"description", fmt.Sprintf("An alert storm reached alerts.max_alerts (%d). New alerts are counted and dropped until old ones resolve. Most refused: %v.", p.ix.max, p.ix.topRefused(5)),
		),
		StartsAt: now, EndsAt: endsAt, UpdatedAt: now,
	}
	if e == nil {
		// The summary of a storm is let in over the limit.
		c := *a
		e = &entry{alert: &c, routes: p.disp.Match(ls)}
		p.ix.byFP[fp] = e
		p.ix.markDirty(fp, e)
	} else {
		*e.alert = *e.alert.Merge(a, now)
		p.ix.markDirty(fp, e)
	}
	p.disp.Insert(fp, e.alert, e.routes, now)
}

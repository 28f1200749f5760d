package pipeline

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
)

// NotReadyAlertName is the alert oncall raises about itself while a
// readiness check fails: it cannot see (rules, metrics) or its pages do
// not leave (outbox). It is routed like any alert, so whoever the routing
// tree pages for severity="critical" learns that oncall is blind.
const NotReadyAlertName = "OncallNotReady"

// notReadyAfter is how long a check must fail before the alert fires:
// one failed scrape or query is not news.
const notReadyAfter = time.Minute

// watchdog raises, keeps up and resolves an OncallNotReady alert per
// failing check. The store and the loop itself are not watched this way:
// without them nothing could be paged, which the outside watches through
// /-/ready.
func (p *Pipeline) watchdog(ctx context.Context, now time.Time) {
	checks := p.Checks(ctx, now)
	var put []alerts.Alert
	p.mu.Lock()
	if p.failingSince == nil {
		p.failingSince = map[string]time.Time{}
	}
	for _, c := range checks {
		if c.Name == "pipeline" || c.Name == "store" {
			continue
		}
		since, failing := p.failingSince[c.Name]
		switch {
		case !c.OK && !failing:
			p.failingSince[c.Name] = now
		case !c.OK && now.Sub(since) >= notReadyAfter:
			put = append(put, notReady(c, since, now.Add(notReadyAfter), now))
		case c.OK && failing:
			delete(p.failingSince, c.Name)
			if now.Sub(since) >= notReadyAfter {
				put = append(put, notReady(c, since, now, now)) // resolved
			}
		}
	}
	p.mu.Unlock()
	if len(put) > 0 {
		p.put(now, put, sourceOncall, false)
	}
}

func notReady(c health.Check, since, endsAt, now time.Time) alerts.Alert {
	c = health.NewReport("", []health.Check{c}).Checks[0] // redacted
	return alerts.Alert{
		Labels: labels.FromStrings(labels.AlertName, NotReadyAlertName, "severity", "critical", "check", c.Name),
		Annotations: labels.FromStrings(
			"summary", "oncall is not ready: "+c.Name+" failing",
			"description", "Since "+since.UTC().Format(time.RFC3339)+": "+c.Reason+". Alerts oncall should see may be missing, or its pages may not leave.",
		),
		StartsAt: since, EndsAt: endsAt, UpdatedAt: now,
	}
}

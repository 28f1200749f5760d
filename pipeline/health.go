package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/oncallhq/oncall/health"
)

// outboxStuck is how old the oldest undelivered message may get before
// the pipeline is not ready: its pages are not reaching anyone.
const outboxStuck = 5 * time.Minute

// Role is "leader" or "standby".
func (p *Pipeline) Role() string {
	if p.Leader() {
		return "leader"
	}
	return "standby"
}

// Checks says whether the pipeline works: its loop runs, the store takes
// writes and, while it leads, rules are evaluated on time and the outbox
// drains.
func (p *Pipeline) Checks(ctx context.Context, now time.Time) []health.Check {
	p.mu.Lock()
	sn, leader := p.seen, p.leader
	p.mu.Unlock()
	out := []health.Check{
		health.Recent("pipeline", sn.step, nil, 6*leaseRenew, now),
		health.Recent("store", sn.store, sn.storeErr, 3*leaseRenew, now),
	}
	if p.opts.Checks != nil {
		out = append(out, p.opts.Checks(ctx, now)...)
	}
	if !leader {
		return out
	}
	if p.opts.Rules != nil {
		out = append(out, health.Recent("rules", sn.eval, sn.evalErr, 3*p.opts.EvaluationInterval, now))
	}
	n, oldest, err := p.opts.Store.OutboxBacklog(ctx)
	switch {
	case err != nil:
		out = append(out, health.Check{Name: "outbox", Reason: err.Error()})
	case n > 0 && now.Sub(oldest) > outboxStuck:
		out = append(out, health.Check{Name: "outbox", Reason: fmt.Sprintf("%d messages undelivered, the oldest for %s", n, now.Sub(oldest).Round(time.Second))})
	default:
		out = append(out, health.Check{Name: "outbox", OK: true, Reason: fmt.Sprintf("%d messages undelivered", n)})
	}
	return out
}

// storeResult records the outcome of a write to the store.
func (p *Pipeline) storeResult(now time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.seen.storeErr = err
		return
	}
	p.seen.store, p.seen.storeErr = now, nil
}

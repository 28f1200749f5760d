package pipeline

import (
	"context"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
)

// relayLoop delivers the outbox while this process leads: at once when a
// flush or an escalation queued something, else when the next retry is due.
func (p *Pipeline) relayLoop(ctx context.Context) {
	relay := notify.NewRelay(p.opts.Store, p.opts.Route, p.log)
	for {
		wait := time.Minute
		if p.Leader() {
			now := p.opts.Now()
			out, err := relay.Pass(ctx, now)
			p.m.delivered(out)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("outbox", "err", err)
				wait = 5 * time.Second
			} else if out.Sent+out.Retrying+out.Failed+out.Superseded > 0 {
				wait = 0 // there may be more than one batch
			} else if next, err := p.opts.Store.NextAttempt(ctx); err == nil && !next.IsZero() {
				wait = min(max(next.Sub(now), 0), time.Minute)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.relayWake:
			t.Stop()
		case <-t.C:
		}
	}
}

// rulesLoop evaluates oncall's own rules every evaluation interval while
// this process leads, and puts their firing and resolved alerts into the
// pipeline like alerts received from outside.
func (p *Pipeline) rulesLoop(ctx context.Context) {
	epoch := -1
	for {
		p.mu.Lock()
		leader, cur := p.leader, p.epoch
		p.mu.Unlock()
		if leader {
			if epoch != cur {
				if saved, err := p.opts.Store.RuleAlerts(ctx); err != nil {
					p.log.Warn("restore rule state", "err", err)
				} else {
					p.opts.Rules.Restore(saved)
				}
				epoch = cur
			}
			p.evaluate(ctx, p.opts.Now())
		}
		t := time.NewTimer(p.opts.EvaluationInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.rulesWake: // leadership changed: evaluate at once
			t.Stop()
		case <-t.C:
		}
	}
}

// failed counts the rule errors joined in err.
func failed(err error) int {
	if err == nil {
		return 0
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

// evaluate runs the rules once at now.
func (p *Pipeline) evaluate(ctx context.Context, now time.Time) {
	start := time.Now()
	ras, err := p.opts.Rules.Eval(ctx, now)
	p.m.evaluated(time.Since(start), ras, err)
	if err != nil {
		p.log.Warn("rule evaluation", "err", err)
	}
	p.mu.Lock()
	if failed(err) < len(p.opts.Rules.Rules()) || err == nil {
		p.seen.eval, p.seen.evalErr = now, nil
	} else {
		p.seen.evalErr = err // every rule failed: the source does not answer
	}
	p.mu.Unlock()
	// Firing alerts stay valid for four intervals (at least four minutes)
	// unless evaluated again, as Prometheus sends them.
	validFor := 4 * max(p.opts.EvaluationInterval, time.Minute)
	var routed, pending []alerts.Alert
	for _, ra := range ras {
		a := ra.Alert(now, validFor)
		if ra.State == alerts.StatePending {
			pending = append(pending, a)
			continue
		}
		routed = append(routed, a)
	}
	p.Put(now, routed)
	p.mu.Lock()
	p.pending = pending
	p.mu.Unlock()
	if err := p.opts.Store.ReplaceRuleAlerts(ctx, ras); err != nil && ctx.Err() == nil {
		p.log.Warn("save rule state", "err", err)
	}
}

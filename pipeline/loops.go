package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
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

// rulesLoop evaluates oncall's own rules, each group when it is due,
// while this process leads, and puts their firing and resolved alerts into
// the pipeline like alerts received from outside.
func (p *Pipeline) rulesLoop(ctx context.Context) {
	nextPoll := p.opts.Now()
	reload := false
	for {
		now := p.opts.Now()
		if reload || (p.opts.RuleFilesPoll > 0 && !now.Before(nextPoll)) {
			p.reload(now, reload)
			nextPoll, reload = now.Add(p.opts.RuleFilesPoll), false
		}
		wait := p.opts.EvaluationInterval
		if p.Leader() {
			p.evaluate(ctx, now)
			if next := p.opts.Rules.Next(); !next.IsZero() {
				wait = max(next.Sub(p.opts.Now()), 0)
			}
		}
		// Groups due within rulesBatch of each other run together, each
		// at its own slot (a little late, as a busy Prometheus runs them),
		// rather than one wake each.
		if wait > 0 {
			wait += min(rulesBatch, p.opts.EvaluationInterval/20)
		}
		if p.opts.RuleFilesPoll > 0 {
			wait = min(wait, max(nextPoll.Sub(p.opts.Now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.rulesWake: // leadership changed: evaluate at once
			t.Stop()
		case <-p.reloadRules:
			t.Stop()
			reload = true
		case <-t.C:
		}
	}
}

// rulesBatch is how long the rules loop waits past the next group's slot
// (at most a twentieth of the interval), so that the groups whose slots
// fall close together are evaluated in one round (concurrently) at their
// own timestamps.
const rulesBatch = 250 * time.Millisecond

// ReloadRules asks for the rule files to be read again at once (SIGHUP).
func (p *Pipeline) ReloadRules() { p.kick(p.reloadRules) }

// Rules are the rules in effect (none without rule files).
func (p *Pipeline) Rules() []alerts.Rule {
	if p.opts.Rules == nil {
		return nil
	}
	return p.opts.Rules.Rules()
}

// reload reads the rule files again if they changed; asked says someone
// asked (a signal), so the outcome is logged even when nothing changed.
func (p *Pipeline) reload(now time.Time, asked bool) {
	changed, err := p.opts.Rules.Reload(now)
	if err != nil {
		p.log.Error("rule reload failed: the last good rules stay in effect", "err", err)
	}
	if !changed && !asked {
		return
	}
	problems := p.opts.Rules.Problems()
	for _, pr := range problems {
		p.log.Error("rule file does not load: its broken groups keep their last good version or are not evaluated", "file", pr.File, "err", pr.Err)
	}
	p.log.Info("rules reloaded", "changed", changed, "rules", len(p.opts.Rules.Rules()), "problems", len(problems))
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

// evaluate runs the groups due at now; the first time in a leadership
// epoch it starts the rules anew from the state saved in the store.
func (p *Pipeline) evaluate(ctx context.Context, now time.Time) {
	p.mu.Lock()
	cur := p.epoch
	p.mu.Unlock()
	if p.rulesEpoch != cur {
		saved, err := p.opts.Store.RuleAlerts(ctx)
		if err != nil {
			p.log.Warn("restore rule state", "err", err)
			return
		}
		if err := p.opts.Rules.Start(now, saved); err != nil {
			p.log.Warn("start rules", "err", err)
			return
		}
		p.rulesEpoch = cur
		// Another leader may have saved since: save ours afresh.
		p.savedSum, p.savedAt, p.rulesGathered = [32]byte{}, time.Time{}, time.Time{}
	}
	start := time.Now()
	sent, err := p.opts.Rules.Eval(ctx, now)
	// What every alert of every group is (the pending list, their history,
	// the saved state) is gathered at most once a second: with a thousand
	// staggered groups, most wakes run a few of them, and gathering all
	// alerts each time cost more than evaluating. Alerts to send go out at
	// every wake.
	full := p.rulesGathered.IsZero() || now.Sub(p.rulesGathered) >= gatherEvery || now.Before(p.rulesGathered)
	var ras []alerts.RuleAlert
	if full {
		ras = p.opts.Rules.Alerts()
		p.rulesGathered = now
	}
	p.m.evaluated(time.Since(start), ras, full, err)
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
	if !full {
		p.put(now, sent, sourceRule, true)
		p.ruleHealth(ctx, now, err)
		return
	}
	pending, active := make([]alerts.RuleAlert, 0, len(ras)), make([]alerts.RuleAlert, 0, len(ras))
	for _, ra := range ras {
		switch ra.State {
		case alerts.StatePending:
			pending = append(pending, ra)
			active = append(active, ra)
		case alerts.StateFiring:
			active = append(active, ra)
		}
	}
	listed := make([]alerts.Alert, len(pending))
	for i, ra := range pending {
		listed[i] = ra.Alert(now, 0)
	}
	p.put(now, sent, sourceRule, true)
	p.mu.Lock()
	p.pending = listed
	if p.leader {
		p.recordPending(pending)
	}
	p.mu.Unlock()
	if sum := ruleStateSum(active); sum != p.savedSum || now.Sub(p.savedAt) >= ruleStateRefresh {
		if err := p.opts.Store.ReplaceRuleAlerts(ctx, active); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("save rule state", "err", err)
			}
		} else {
			p.savedSum, p.savedAt = sum, now
		}
	}
	p.ruleHealth(ctx, now, err)
}

// gatherEvery is how often evaluate gathers every rule alert.
const gatherEvery = time.Second

// ruleStateRefresh is how often the rule state is saved when no alert
// changed state: what a restart restores is when each alert became active
// (saved at once when it changes) and when it was last seen, which may be
// this old.
const ruleStateRefresh = time.Minute

// ruleStateSum digests what a restart restores of the active rule alerts:
// which they are, their state and their clocks.
func ruleStateSum(as []alerts.RuleAlert) [32]byte {
	h := sha256.New()
	var b [8]byte
	for _, a := range as {
		for _, v := range []int64{int64(a.Fingerprint()), int64(a.State), a.ActiveAt.UnixNano(), a.FiredAt.UnixNano(), a.KeepFiringSince.UnixNano(), a.ResolvedAt.UnixNano()} {
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/routing/nflog"
	"github.com/oncallhq/oncall/store"
)

// Integration kinds oncall delivers itself.
const (
	KindWebhook  = "webhook"
	KindConsole  = "console"
	KindIncident = "incident"
)

// integration is one way a receiver notifies.
type integration struct {
	kind         string // KindWebhook, KindConsole, KindIncident, or another of Alertmanager's (pagerduty, slack, …)
	index        int
	sendResolved bool
	policy       string
	severity     incidents.Severity
}

// integrationsOf lists, per receiver name, the integrations of the routing
// configuration plus oncall's own receivers attached to the same names.
func integrationsOf(cfg *routing.Config, own []Receiver, d incidents.Settings) (map[string][]integration, error) {
	var errs []error
	names := make([]string, len(own))
	for i, r := range own {
		names[i] = r.Name
	}
	if err := cfg.Validate(names); err != nil {
		errs = append(errs, err)
	}
	out := map[string][]integration{}
	for _, r := range cfg.AM.Receivers {
		for _, in := range routing.Integrations(r) {
			out[r.Name] = append(out[r.Name], integration{kind: in.Kind, index: in.Index, sendResolved: in.SendResolved})
		}
	}
	for _, r := range own {
		if r.Policy != "" {
			if _, err := d.People.Freeze(r.Policy); err != nil {
				errs = append(errs, fmt.Errorf("receiver %q: %w", r.Name, err))
			}
			out[r.Name] = append(out[r.Name], integration{kind: KindIncident, sendResolved: true, policy: r.Policy, severity: r.Severity})
		}
		if r.Console {
			out[r.Name] = append(out[r.Name], integration{kind: KindConsole, sendResolved: true})
		}
	}
	return out, errors.Join(errs...)
}

// Stage is one step of a flush, in the spirit of Alertmanager's: it takes
// the alerts that reached it and returns those that go on.
type Stage interface {
	Exec(ctx context.Context, f *dispatch.Flush, as []alerts.Alert) ([]alerts.Alert, error)
}

// Muter says whether an alert with labels ls is muted at now.
type Muter interface {
	Mutes(ls labels.Labels, now time.Time) bool
}

// MuterFunc is a Muter.
type MuterFunc func(ls labels.Labels, now time.Time) bool

// Mutes calls f.
func (f MuterFunc) Mutes(ls labels.Labels, now time.Time) bool { return f(ls, now) }

// MuteStage drops the alerts a Muter mutes.
type MuteStage struct{ Muter Muter }

// Exec implements Stage.
func (s MuteStage) Exec(_ context.Context, f *dispatch.Flush, as []alerts.Alert) ([]alerts.Alert, error) {
	out := as[:0:0]
	for i := range as {
		if !s.Muter.Mutes(as[i].Labels, f.At) {
			out = append(out, as[i])
		}
	}
	return out, nil
}

// TimeStage holds back every alert of a route inside one of its
// mute_time_intervals or outside its active_time_intervals.
type TimeStage struct{ Routing *routing.Config }

// Exec implements Stage.
func (s TimeStage) Exec(_ context.Context, f *dispatch.Flush, as []alerts.Alert) ([]alerts.Alert, error) {
	if s.Routing.Muted(f.Group.Route, f.At) {
		return nil, nil
	}
	return as, nil
}

// stages are the mute stages in Alertmanager's order: inhibition, time
// intervals, silences.
func (p *Pipeline) stages() []Stage {
	return []Stage{
		MuteStage{MuterFunc(func(ls labels.Labels, now time.Time) bool { _, ok := p.inhibitor.Mutes(ls, now); return ok })},
		TimeStage{p.opts.Routing},
		MuteStage{MuterFunc(func(ls labels.Labels, now time.Time) bool { return len(p.silencer.Mutes(ls, now)) > 0 })},
	}
}

// plan is what a round of flushes writes to the store, in one transaction.
type plan struct {
	entries  []nflog.Entry
	messages []notify.Message
	alarms   []alarm
}

type alarm struct {
	policy string
	incidents.Alarm
}

// flush runs every flush due at now through the stages and writes what
// they decide, in transactions of at most flushChunk alerts.
func (p *Pipeline) flush(ctx context.Context, now time.Time) error {
	for {
		n, err := p.flushSome(ctx, now)
		if err != nil || n == 0 {
			return err
		}
	}
}

// flushChunk bounds the alerts one round of flushes carries, so that the
// notifications of an alert storm are written, and held in memory, in
// parts.
const flushChunk = 20_000

// flushSome runs one round of due flushes and returns how many there were.
func (p *Pipeline) flushSome(ctx context.Context, now time.Time) (int, error) {
	p.mu.Lock()
	flushes := p.disp.Due(now, flushChunk)
	var pl plan
	for _, f := range flushes {
		if err := p.planFlush(ctx, f, &pl); err != nil {
			p.mu.Unlock()
			return 0, err
		}
	}
	if len(flushes) == 0 {
		p.mu.Unlock()
		return 0, nil
	}
	// The groups (new ones above all) and the alerts notified about are
	// durable before anything is sent, in the same transaction as the
	// log: a restart finds every group it notified for.
	groups, gone := p.disp.TakeChanges()
	// (The alerts as held, not the flush's copies, whose ends are cleared
	// for the notification.)
	var notified []alerts.Alert
	for _, f := range flushes {
		for i := range f.Alerts {
			if e := p.ix.byFP[f.Alerts[i].Fingerprint()]; e != nil {
				notified = append(notified, *e.alert)
			}
		}
	}
	p.mu.Unlock()
	start := time.Now()
	err := p.opts.Store.Update(ctx, func(tx store.Tx) error {
		if err := errors.Join(tx.PutGroups(ctx, groups), tx.DeleteGroups(ctx, gone), tx.PutAlerts(ctx, p.holder, notified)); err != nil {
			return err
		}
		msgs := pl.messages
		for _, a := range pl.alarms {
			inc, pages, err := incidents.Receive(ctx, tx, p.opts.Incidents, a.policy, a.Alarm, now)
			if err != nil {
				return err
			}
			if inc != nil && len(pages) > 0 && !pages[0].IsUpdate() {
				p.log.Info("incident opened", "incident", inc.Ref(), "title", inc.Title, "paged", inc.Escalation.Paged)
			}
			msgs = append(msgs, notify.Pages(pages)...)
		}
		if err := tx.PutNotificationLog(ctx, pl.entries); err != nil {
			return err
		}
		return tx.Enqueue(ctx, msgs)
	})
	p.m.flushed(len(flushes), time.Since(start), err)
	p.storeResult(now, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// Nothing was decided: the groups flush again soon.
		for _, f := range flushes {
			p.disp.Retry(f.Group, now.Add(retryFlush))
		}
		p.disp.Reschedule(groups, gone)
		return 0, fmt.Errorf("flush: %w", err)
	}
	for _, e := range pl.entries {
		p.nflog[e.Key] = e
	}
	for _, f := range flushes {
		p.disp.Done(f)
	}
	if len(pl.messages)+len(pl.alarms) > 0 {
		p.kick(p.relayWake)
	}
	return len(flushes), nil
}

// retryFlush is how soon a flush that could not be written is retried.
const retryFlush = 10 * time.Second

// planFlush runs one flush through the mute stages, then decides per
// integration against the notification log.
func (p *Pipeline) planFlush(ctx context.Context, f *dispatch.Flush, pl *plan) error {
	as := f.Alerts
	for _, s := range p.stages() {
		if len(as) == 0 {
			return nil
		}
		var err error
		if as, err = s.Exec(ctx, f, as); err != nil {
			return err
		}
	}
	if len(as) == 0 {
		return nil
	}
	firing, resolved := map[uint64]struct{}{}, map[uint64]struct{}{}
	var firingAlerts []alerts.Alert
	for i := range as {
		if as[i].ResolvedAt(f.At) {
			resolved[as[i].Fingerprint()] = struct{}{}
		} else {
			firing[as[i].Fingerprint()] = struct{}{}
			firingAlerts = append(firingAlerts, as[i])
		}
	}
	g := f.Group
	for _, in := range p.integrations[g.Receiver] {
		key := nflog.Key{Receiver: g.Receiver, Integration: in.kind, Index: in.index, GroupKey: g.Key}
		var prev *nflog.Entry
		if e, ok := p.nflog[key]; ok && e.ExpiresAt.After(f.At) {
			prev = &e
		}
		if !nflog.NeedsUpdate(prev, firing, resolved, in.sendResolved, g.Route.RepeatInterval, f.At) {
			continue
		}
		reason := nflog.Reason(prev, firing, resolved, in.sendResolved)
		pl.entries = append(pl.entries, nflog.NewEntry(key, firing, resolved, f.At, g.Route.RepeatInterval))
		send := as
		if !in.sendResolved {
			if len(firingAlerts) == 0 {
				continue // logged, so the log is cleared; nothing to say
			}
			send = firingAlerts
		}
		p.m.notification(in.kind)
		switch in.kind {
		case KindIncident:
			pl.alarms = append(pl.alarms, alarm{policy: in.policy, Alarm: incidents.Alarm{Receiver: g.Receiver, GroupKey: g.Key, Firing: firingAlerts, Severity: in.severity}})
		default:
			// The console, a webhook, or one of Alertmanager's
			// integrations (PagerDuty, Slack, email, …).
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\xff%s", g.Receiver, g.Key)
			group := fmt.Sprintf("n/%016x/%s/%d", h.Sum64(), in.kind, in.index)
			// A group emptied, dropped and made again flushes anew at the
			// same instant: the sequence keeps the keys apart.
			p.flushSeq++
			pl.messages = append(pl.messages, notify.Message{
				Key: fmt.Sprintf("%s/%d.%d", group, f.At.UnixNano(), p.flushSeq), Kind: notify.KindNotification, Supersede: group, CreatedAt: f.At,
				Notification: &notify.Notification{Receiver: g.Receiver, Integration: in.kind, Index: in.index, GroupKey: g.Key,
					GroupLabels: g.Labels, Alerts: send, At: f.At, Reason: reason},
			})
		}
	}
	return nil
}

// escalate pages the next step of every incident whose ack timeout passed.
func (p *Pipeline) escalate(ctx context.Context, now time.Time) error {
	ids, err := p.opts.Store.DueEscalations(ctx, now)
	if err != nil || len(ids) == 0 {
		return err
	}
	var errs []error
	paged := false
	for _, id := range ids {
		err := p.opts.Store.Update(ctx, func(tx store.Tx) error {
			inc, err := tx.Incident(ctx, id)
			if err != nil {
				return err
			}
			before, status, events := inc.Escalation.NextAt, inc.Status, len(inc.Timeline)
			pages := inc.Escalate(p.opts.Incidents, now)
			if len(pages) == 0 && inc.Escalation.NextAt.Equal(before) && inc.Status == status && len(inc.Timeline) == events && before.After(now) {
				return nil // not due after all: nothing to write
			}
			if len(pages) == 0 {
				if !inc.Escalation.NextAt.IsZero() && !inc.Escalation.NextAt.After(now) {
					// Nothing can escalate it (its policy is gone): stop, or it is due forever.
					inc.Escalation.NextAt = time.Time{}
					inc.Note(now, "error", fmt.Sprintf("escalation policy %q is not configured: escalation stopped", inc.Escalation.Policy))
				}
				return tx.UpdateIncident(ctx, inc)
			}
			p.log.Info("escalated", "incident", inc.Ref(), "step", inc.Escalation.StepName, "paged", inc.Escalation.Paged)
			paged = true
			if err := tx.UpdateIncident(ctx, inc); err != nil {
				return err
			}
			return tx.Enqueue(ctx, notify.Pages(pages))
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("escalate incident %d: %w", id, err))
		}
	}
	if paged {
		p.kick(p.relayWake)
	}
	return errors.Join(errs...)
}

// Package engine is oncall's spine at run time: each cycle it evaluates the
// rules, groups the alerts, opens incidents for paging groups, escalates the
// unacknowledged ones, persists all of it atomically with the pages it causes,
// and delivers the pages from the durable outbox.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/store"
)

// Store is the persistence the engine needs.
type Store interface {
	Load(ctx context.Context) (store.Snapshot, error)
	Apply(ctx context.Context, c store.Change) error
	PendingPages(ctx context.Context) ([]incidents.Page, error)
	MarkPage(ctx context.Context, p incidents.Page, sentAt time.Time) error
}

// Notifier delivers one page to a person. Delivery is at least once: a page
// whose Notify failed or was interrupted is offered again with the same Key.
type Notifier interface {
	Notify(ctx context.Context, p incidents.Page) error
}

// Options configure an Engine.
type Options struct {
	Rules     []alerts.Rule
	Source    alerts.Querier
	Routes    []alerts.Route
	Directory incidents.Directory
	// Policy is the escalation policy shown as "who is on call".
	Policy   string
	Store    Store
	Notifier Notifier
	Logger   *slog.Logger
	Metrics  *Metrics // optional
}

// Engine runs the evaluation and escalation loop. Its methods are safe for
// concurrent use; Step must be called from one goroutine at a time.
type Engine struct {
	opts   Options
	eval   *alerts.Evaluator
	disp   *alerts.Dispatcher
	log    *slog.Logger
	m      *Metrics
	stepMu sync.Mutex

	mu      sync.Mutex
	alerts  []alerts.RuleAlert
	open    map[int64]*incidents.Incident
	nextID  int64
	unsaved store.Change
	lastErr error
}

// New restores the engine's state from the store.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	snap, err := opts.Store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: restore state: %w", err)
	}
	e := &Engine{
		opts:   opts,
		eval:   alerts.NewEvaluator(opts.Rules, opts.Source),
		disp:   alerts.NewDispatcher(opts.Routes),
		log:    opts.Logger,
		m:      opts.Metrics,
		open:   map[int64]*incidents.Incident{},
		nextID: snap.MaxIncidentID + 1,
	}
	e.eval.Restore(snap.Alerts)
	e.disp.Restore(snap.Groups)
	e.alerts = e.eval.Alerts()
	for _, inc := range snap.Incidents {
		c := inc
		e.open[inc.ID] = &c
	}
	return e, nil
}

// Run calls Step every interval until ctx is done, and in between wakes
// exactly when an acknowledgement timeout expires, so escalation is not
// delayed to the next evaluation.
func (e *Engine) Run(ctx context.Context, interval time.Duration) error {
	nextEval := time.Now()
	for {
		now := time.Now()
		var err error
		if !now.Before(nextEval) {
			err = e.Step(ctx, now)
			nextEval = now.Add(interval)
		} else {
			err = e.Escalate(ctx, now)
		}
		if err != nil && ctx.Err() == nil {
			e.log.Warn("engine cycle", "err", err)
		}
		wake := nextEval
		if next := e.NextEscalation(); !next.IsZero() && next.Before(wake) {
			wake = next
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// NextEscalation is the earliest instant an open incident escalates unless
// acknowledged (zero if none will).
func (e *Engine) NextEscalation() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var next time.Time
	for _, inc := range e.open {
		at := inc.Escalation.NextAt
		if inc.Status == incidents.StatusTriggered && !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// Escalate pages the next step of every incident whose ack timeout expired,
// without evaluating rules, then persists and delivers.
func (e *Engine) Escalate(ctx context.Context, now time.Time) error {
	e.stepMu.Lock()
	defer e.stepMu.Unlock()
	e.mu.Lock()
	changed, pages := e.escalateLocked(now)
	e.unsaved.Incidents = mergeIncidents(e.unsaved.Incidents, changed)
	e.unsaved.Pages = append(e.unsaved.Pages, pages...)
	saveErr := e.saveLocked(ctx)
	e.mu.Unlock()
	return errors.Join(saveErr, e.Deliver(ctx, now))
}

func (e *Engine) escalateLocked(now time.Time) ([]incidents.Incident, []incidents.Page) {
	var changed []incidents.Incident
	var pages []incidents.Page
	for _, id := range slices.Sorted(maps.Keys(e.open)) {
		inc := e.open[id]
		if ps := inc.Escalate(e.opts.Directory, now); len(ps) > 0 {
			e.log.Info("escalated", "incident", inc.Ref(), "step", inc.Escalation.StepName, "paged", inc.Escalation.Paged)
			changed = append(changed, *inc)
			pages = append(pages, ps...)
		}
	}
	return changed, pages
}

// Step runs one cycle at now: evaluate, dispatch, escalate, persist, deliver.
// Rule errors are reported but do not stop the cycle.
func (e *Engine) Step(ctx context.Context, now time.Time) error {
	e.stepMu.Lock()
	defer e.stepMu.Unlock()
	start := time.Now()
	as, evalErr := e.eval.Eval(ctx, now)
	e.m.observeEval(time.Since(start), as, evalErr, len(e.opts.Rules))
	notes := e.disp.Update(as, now)

	e.mu.Lock()
	e.alerts = as
	var changed []incidents.Incident
	var pages []incidents.Page
	for _, n := range notes {
		inc, ps := e.handle(n, now)
		if inc != nil {
			changed = append(changed, *inc)
		}
		pages = append(pages, ps...)
	}
	esc, escPages := e.escalateLocked(now)
	changed, pages = append(changed, esc...), append(pages, escPages...)
	for _, inc := range changed {
		if !inc.Open() {
			delete(e.open, inc.ID)
		}
	}
	e.unsaved.Alerts = nonNil(as)
	e.unsaved.Groups = nonNil(e.disp.Groups())
	e.unsaved.Incidents = mergeIncidents(e.unsaved.Incidents, changed)
	e.unsaved.Pages = append(e.unsaved.Pages, pages...)
	saveErr := e.saveLocked(ctx)
	e.lastErr = errors.Join(evalErr, saveErr)
	e.mu.Unlock()

	deliverErr := e.Deliver(ctx, now)
	return errors.Join(evalErr, saveErr, deliverErr)
}

// saveLocked writes everything not yet saved; on failure it is kept and
// retried with the next cycle, so no page or incident update is lost.
func (e *Engine) saveLocked(ctx context.Context) error {
	if err := e.opts.Store.Apply(ctx, e.unsaved); err != nil {
		return fmt.Errorf("engine: save state: %w", err)
	}
	e.unsaved = store.Change{}
	return nil
}

// handle turns one group notification into incident changes and pages.
func (e *Engine) handle(n alerts.Notification, now time.Time) (*incidents.Incident, []incidents.Page) {
	var existing *incidents.Incident
	for _, inc := range e.open {
		if inc.Key == n.Group.Key {
			existing = inc
		}
	}
	if n.Resolved {
		if existing == nil {
			return nil, nil
		}
		if existing.Status == incidents.StatusTriggered {
			existing.Resolve("oncall", "every alert of the group resolved", now)
		} else {
			existing.Note(now, "alerts", "every alert of the group resolved; resolve the incident when done")
		}
		existing.AlertsFiring = 0
		return existing, nil
	}
	if n.Route.Policy == "" {
		e.log.Info("alert group firing, no policy pages for it", "group", n.Group.Key)
		return nil, nil
	}
	if existing != nil {
		// The group fired again while its incident is open: one problem, one page.
		existing.Note(now, "alerts", fmt.Sprintf("%d alerts firing again", firing(n.Alerts)))
		existing.AlertsFiring = firing(n.Alerts)
		return existing, nil
	}
	inc := newIncident(e.nextID, n, now)
	pages, err := inc.Start(e.opts.Directory, n.Route.Policy, now)
	if err != nil {
		e.log.Error("cannot page", "group", n.Group.Key, "err", err)
		inc.Note(now, "error", err.Error())
	}
	e.nextID++
	e.open[inc.ID] = inc
	e.log.Info("incident opened", "incident", inc.Ref(), "title", inc.Title, "paged", inc.Escalation.Paged)
	return inc, pages
}

func newIncident(id int64, n alerts.Notification, now time.Time) *incidents.Incident {
	inc := &incidents.Incident{ID: id, Key: n.Group.Key, OpenedAt: now, Status: incidents.StatusTriggered, AlertsFiring: firing(n.Alerts)}
	for _, a := range n.Alerts {
		if a.State != alerts.StateFiring {
			continue
		}
		if inc.Title == "" {
			inc.Title = a.Summary()
			inc.Summary = a.Annotations["description"]
			inc.Service = a.Labels.Get("service")
			inc.Severity = a.Severity()
		} else {
			inc.Summary += "\nalso: " + a.Summary()
		}
		if inc.RunbookURL == "" {
			inc.RunbookURL = a.Annotations["runbook_url"]
		}
	}
	if inc.Title == "" {
		inc.Title = n.Group.Key
	}
	inc.Summary = strings.TrimPrefix(inc.Summary, "\n")
	return inc
}

func firing(as []alerts.RuleAlert) int {
	n := 0
	for _, a := range as {
		if a.State == alerts.StateFiring {
			n++
		}
	}
	return n
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func mergeIncidents(old, changed []incidents.Incident) []incidents.Incident {
	for _, c := range changed {
		i := slices.IndexFunc(old, func(o incidents.Incident) bool { return o.ID == c.ID })
		if i >= 0 {
			old[i] = c
		} else {
			old = append(old, c)
		}
	}
	return old
}

// Deliver sends every pending page from the outbox. A failed page stays
// pending and is retried next time.
func (e *Engine) Deliver(ctx context.Context, now time.Time) error {
	pending, err := e.opts.Store.PendingPages(ctx)
	if err != nil {
		return fmt.Errorf("engine: read outbox: %w", err)
	}
	var errs []error
	for _, p := range pending {
		p.Attempts++
		if err := e.opts.Notifier.Notify(ctx, p); err != nil {
			p.LastError = err.Error()
			errs = append(errs, fmt.Errorf("page %s: %w", p.Key, err))
			e.m.page(false)
			if err := e.opts.Store.MarkPage(ctx, p, time.Time{}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		e.m.page(true)
		if err := e.opts.Store.MarkPage(ctx, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Alerts returns the alerts of the last evaluation.
func (e *Engine) Alerts() []alerts.RuleAlert {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.alerts)
}

// OpenIncidents returns the open incidents, oldest first.
func (e *Engine) OpenIncidents() []incidents.Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]incidents.Incident, 0, len(e.open))
	for _, id := range slices.Sorted(maps.Keys(e.open)) {
		out = append(out, *e.open[id])
	}
	return out
}

// OnCall returns the escalation chain of the main policy resolved at now.
func (e *Engine) OnCall(now time.Time) []oncall.Assignment {
	return e.opts.Directory.Chain(e.opts.Policy, now)
}

// LastError is the error of the last cycle, if any.
func (e *Engine) LastError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// ErrNotOpen is returned when acting on an incident that is not open.
var ErrNotOpen = errors.New("no open incident with that id")

// Acknowledge records that by owns incident id; its escalation stops.
func (e *Engine) Acknowledge(ctx context.Context, id int64, by string, now time.Time) (incidents.Incident, error) {
	return e.act(ctx, id, now, func(inc *incidents.Incident) error { return inc.Acknowledge(by, now) })
}

// Resolve closes incident id.
func (e *Engine) Resolve(ctx context.Context, id int64, by, why string, now time.Time) (incidents.Incident, error) {
	return e.act(ctx, id, now, func(inc *incidents.Incident) error { return inc.Resolve(by, why, now) })
}

func (e *Engine) act(ctx context.Context, id int64, now time.Time, f func(*incidents.Incident) error) (incidents.Incident, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.open[id]
	if !ok {
		return incidents.Incident{}, fmt.Errorf("incident %d: %w", id, ErrNotOpen)
	}
	c := *inc
	c.Timeline = slices.Clone(inc.Timeline)
	if err := f(&c); err != nil {
		return c, err
	}
	before := slices.Clone(e.unsaved.Incidents)
	e.unsaved.Incidents = mergeIncidents(e.unsaved.Incidents, []incidents.Incident{c})
	if err := e.saveLocked(ctx); err != nil {
		// Not durable: undo, so what the caller is told matches what survives.
		e.unsaved.Incidents = before
		return *inc, err
	}
	*inc = c
	if !c.Open() {
		delete(e.open, id)
	}
	return c, nil
}

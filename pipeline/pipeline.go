// Package pipeline runs oncall's spine as stages, with the store as the
// truth: sources (oncall's own rules, alerts posted from outside) → mute
// (inhibition, time intervals, silences) → dispatch (the routing tree, its
// groups and timers) → notify (the notification log, then incidents with
// their escalation, webhooks, the console) → the durable outbox, delivered
// by the relay. Everything a flush decides — log entries, incidents, pages,
// notifications, group schedules — is written in one transaction before
// anything is sent. Only the process holding the store's lease runs the
// stages; another process on the same store stands by, accepts alerts into
// the store and serves reads from it.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/routing/inhibit"
	"github.com/oncallhq/oncall/routing/nflog"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/store"
)

// Receiver is what oncall itself does for a receiver of the routing
// configuration, besides the integrations the configuration lists.
type Receiver struct {
	Name string
	// Policy, when set, opens an incident for a firing group and escalates
	// it through the named policy; Severity, when set, is the incident's
	// (otherwise the alert's severity label decides).
	Policy   string
	Severity incidents.Severity
	// Console writes the receiver's notifications to the console file.
	Console bool
}

// Evaluator is oncall's own rule evaluation, a source of alerts: Prometheus
// rule groups on the pipeline's clock (alerts.Engine).
type Evaluator interface {
	// Start begins anew at now, restoring the for-state of saved.
	Start(now time.Time, saved []alerts.RuleAlert) error
	// Next is when the next group is due.
	Next() time.Time
	// Eval evaluates the groups due at now and returns the alerts to
	// send, as Prometheus sends them to an Alertmanager.
	Eval(ctx context.Context, now time.Time) ([]alerts.Alert, error)
	// Alerts are the active alerts: pending, firing, recently resolved.
	Alerts() []alerts.RuleAlert
	// Rules are the rules in effect; Groups how their groups fare.
	Rules() []alerts.Rule
	Groups() []alerts.GroupState
	// Reload reads the rule files again if they changed, keeping the last
	// good version of what does not load; Problems says what that is.
	Reload(now time.Time) (bool, error)
	Problems() []alerts.FileProblem
}

// Options configure a pipeline.
type Options struct {
	Routing   *routing.Config
	Receivers []Receiver
	// Incidents are the people, policies and severities incidents use.
	Incidents incidents.Settings
	Store     store.Store
	// Route returns where outbox messages are delivered.
	Route notify.Router
	// Rules, when set, are evaluated every EvaluationInterval.
	Rules              Evaluator
	EvaluationInterval time.Duration
	// RuleFilesPoll is how often the rule files are checked for changes
	// (default 5s; negative: only on ReloadRules).
	RuleFilesPoll time.Duration
	// NoDataQuery, when set, is asked every few minutes whether the
	// metrics the alerting rules read have series (OncallRuleNoData).
	NoDataQuery alerts.Querier
	// WatchdogReceiver, when set, gets the always-firing OncallWatchdog
	// alert every WatchdogInterval (default 1m) while this process leads:
	// a dead man's switch outside oncall pages when it stops.
	WatchdogReceiver string
	WatchdogInterval time.Duration
	// ReplicaLabels are dropped from every alert received, so that an HA
	// pair of Prometheus servers pages once.
	ReplicaLabels []string
	// MaxAlerts bounds the alerts held; beyond it new alerts are refused,
	// counted and summarised by the OncallAlertLimitReached alert.
	MaxAlerts int
	Logger    *slog.Logger
	Metrics   *Metrics
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Checks are readiness checks of parts the pipeline depends on but
	// does not run (the metrics source); optional.
	Checks func(ctx context.Context, now time.Time) []health.Check
}

// Lease timing: the leader renews every leaseRenew; a lease not renewed
// for leaseTTL passes to another process.
const (
	leaseName  = "pipeline"
	leaseTTL   = 15 * time.Second
	leaseRenew = 5 * time.Second
	// writeEvery is how often alerts received are written to the store.
	writeEvery = time.Second
	// maintainEvery is Alertmanager's maintenance period.
	maintainEvery = 30 * time.Second
	// silencesEvery is how often silences are re-read from the store, so
	// that one made through another process applies.
	silencesEvery = 5 * time.Second
	// resolvedRetention keeps a resolved alert before it is forgotten.
	resolvedRetention = 15 * time.Minute
	// limitHold keeps the limit alert firing after the last refusal.
	limitHold = 5 * time.Minute
)

// LimitAlertName is the alert raised while the alert limit refuses alerts.
const LimitAlertName = "OncallAlertLimitReached"

// Pipeline is a running spine.
type Pipeline struct {
	opts         Options
	log          *slog.Logger
	m            *Metrics
	holder       string
	integrations map[string][]integration

	mu sync.Mutex
	state
	leader  bool
	epoch   int
	nflog   map[nflog.Key]nflog.Entry
	lastErr error
	next    dueTimes
	// pulled is when the newest alert a standby wrote was written, as the
	// store stamps it.
	pulled time.Time
	seen   seen
	// flushSeq numbers notifications, to keep their keys unique.
	flushSeq uint64
	// failingSince is when each failing readiness check began to fail.
	failingSince map[string]time.Time

	wake      chan struct{}
	relayWake chan struct{}
	rulesWake chan struct{}
	// rulesEpoch is the leadership epoch the rules were last started in
	// (touched by the rules loop only).
	rulesEpoch int
	// reloadRules asks the rules loop to read the rule files again.
	reloadRules chan struct{}
	// savedSum and savedAt are the digest of the rule state last saved,
	// and when (touched by the rules loop only).
	savedSum [32]byte
	// rulesGathered is when evaluate last gathered every rule alert.
	rulesGathered time.Time
	savedAt       time.Time

	// metaMu guards the state of the meta-alerts, which is that of one
	// leadership epoch; it is taken before mu, never after.
	metaMu    sync.Mutex
	meta      meta
	metaEpoch int
}

// seen is when the parts readiness watches last worked, and how they
// last failed.
type seen struct {
	step, store, eval time.Time
	storeErr, evalErr error
}

// dueTimes holds when periodic work is due.
type dueTimes struct {
	lease, write, maintain, silences, pull time.Time
}

// New builds a pipeline; it runs when Run is called.
func New(opts Options) (*Pipeline, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EvaluationInterval <= 0 {
		opts.EvaluationInterval = 15 * time.Second
	}
	if opts.WatchdogInterval <= 0 {
		opts.WatchdogInterval = time.Minute
	}
	if opts.RuleFilesPoll == 0 {
		opts.RuleFilesPoll = 5 * time.Second
	}
	ints, err := integrationsOf(opts.Routing, opts.Receivers, opts.Incidents)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	p := &Pipeline{
		opts: opts, log: opts.Logger, m: opts.Metrics, integrations: ints,
		holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		wake:   make(chan struct{}, 1), relayWake: make(chan struct{}, 1), rulesWake: make(chan struct{}, 1),
		reloadRules: make(chan struct{}, 1), meta: newMeta(),
	}
	p.reset()
	return p, nil
}

// state is what the pipeline holds in memory, and what alerts are listed
// from: the alerts, their groups, the inhibitions and silences.
type state struct {
	ix        *index
	disp      *dispatch.Dispatcher
	inhibitor *inhibit.Inhibitor
	silencer  *silence.Silencer
	// pending are the alerts of oncall's own rules waiting out their `for`.
	pending []alerts.Alert
	// pendingFPs are their fingerprints, for the history.
	pendingFPs map[uint64]bool
	// history holds transitions not yet written to the store.
	history []alerts.Transition
}

func newState(opts Options, sils []silence.Silence, now time.Time) state {
	return state{ix: newIndex(opts.MaxAlerts), disp: dispatch.New(opts.Routing.Root),
		inhibitor: inhibit.New(inhibit.NewRules(opts.Routing.AM.InhibitRules)), silencer: silence.NewSilencer(sils, now)}
}

// load puts alerts read from the store into the state, routed and grouped.
func (s *state) load(as []alerts.Alert, now time.Time) {
	for i := range as {
		a := &as[i]
		fp := a.Fingerprint()
		e := &entry{alert: a, routes: s.disp.Match(a.Labels)}
		s.ix.byFP[fp] = e
		s.inhibitor.Set(fp, a)
		s.disp.Insert(fp, a, e.routes, now)
		// What was recorded before: a restart records nothing again.
		e.hist, e.histSet = a.StateAt(now), true
	}
}

// reset empties the in-memory state (a standby holds none of it).
func (p *Pipeline) reset() {
	p.state = newState(p.opts, nil, time.Time{})
	p.nflog = map[nflog.Key]nflog.Entry{}
}

// Leader reports whether this process runs the pipeline.
func (p *Pipeline) Leader() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leader
}

// LastError is the error of the last cycle, if any.
func (p *Pipeline) LastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

func (p *Pipeline) kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// SilencesChanged makes the pipeline re-read silences now.
func (p *Pipeline) SilencesChanged() {
	p.mu.Lock()
	p.next.silences = time.Time{}
	p.mu.Unlock()
	p.kick(p.wake)
}

// IncidentsChanged makes the pipeline look at incidents' escalation
// timers and the outbox now: something acted on an incident.
func (p *Pipeline) IncidentsChanged() {
	p.kick(p.wake)
	p.kick(p.relayWake)
}

// Put receives alerts (already validated) at now. It returns how many the
// alert limit refused.
func (p *Pipeline) Put(now time.Time, as []alerts.Alert) int {
	return p.put(now, as, sourceReceived, true)
}

// Where alerts come from, as the history says.
const (
	sourceReceived = "received"
	sourceRule     = "rule"
	// sourceOncall is oncall's own alerts about itself.
	sourceOncall = "oncall"
)

// put receives alerts from source; count says they are new to this
// process (counted), not picked up from the store.
func (p *Pipeline) put(now time.Time, as []alerts.Alert, source string, count bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	refused := 0
	next := p.disp.Next()
	for i := range as {
		a := &as[i]
		a.Labels = dropLabels(a.Labels, p.opts.ReplicaLabels)
		fp := a.Fingerprint()
		e, isNew := p.ix.put(fp, a, now)
		if e == nil {
			refused++
			continue
		}
		if isNew {
			e.routes = p.disp.Match(e.alert.Labels)
		}
		p.inhibitor.Set(fp, e.alert)
		if p.leader {
			p.disp.Insert(fp, e.alert, e.routes, now)
			p.record(fp, e, source, now)
		}
	}
	if count {
		p.m.receivedAlerts(len(as), refused)
	}
	if p.leader && (next.IsZero() || p.disp.Next().Before(next)) {
		p.kick(p.wake)
	}
	return refused
}

// Run runs until ctx is done: it takes or renews the lease, and while it
// holds it evaluates rules, flushes groups, escalates incidents and
// delivers the outbox.
func (p *Pipeline) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { p.relayLoop(ctx) })
	if p.opts.Rules != nil {
		wg.Go(func() { p.rulesLoop(ctx) })
	}
	defer p.stepDown(context.WithoutCancel(ctx))
	for {
		now := p.opts.Now()
		err := p.Step(ctx, now)
		p.mu.Lock()
		p.lastErr, p.seen.step = err, now
		wakeAt := p.nextWake(ctx)
		p.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			p.log.Warn("pipeline cycle", "err", err)
		}
		t := time.NewTimer(wakeAt.Sub(p.opts.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// nextWake is when the loop must run again.
func (p *Pipeline) nextWake(ctx context.Context) time.Time {
	at := p.next.lease
	consider := func(t time.Time) {
		if !t.IsZero() && t.Before(at) {
			at = t
		}
	}
	consider(p.next.write)
	if p.leader {
		consider(p.disp.Next())
		consider(p.next.maintain)
		consider(p.next.silences)
		consider(p.next.pull)
		if t, err := p.opts.Store.NextEscalation(ctx); err == nil {
			consider(t)
		}
	}
	return at
}

// Step runs everything due at now once: the lease, then (as leader)
// flushes, escalations and periodic work; as a standby, writing received
// alerts to the store.
func (p *Pipeline) Step(ctx context.Context, now time.Time) error {
	var errs []error
	p.mu.Lock()
	leaseDue, writeDue := !now.Before(p.next.lease), !now.Before(p.next.write)
	p.mu.Unlock()
	if leaseDue {
		if err := p.tickLease(ctx, now); err != nil {
			errs = append(errs, err)
		}
	}
	p.mu.Lock()
	leader := p.leader
	p.mu.Unlock()
	if leader {
		p.updateLimitAlert(now)
		p.watchdog(ctx, now)
		if p.opts.WatchdogReceiver != "" {
			if err := p.heartbeat(ctx, now); err != nil {
				errs = append(errs, err)
			}
		}
		if err := p.refreshSilences(ctx, now); err != nil {
			errs = append(errs, err)
		}
		if err := p.pullAlerts(ctx, now); err != nil {
			errs = append(errs, err)
		}
		if err := p.flush(ctx, now); err != nil {
			errs = append(errs, err)
		}
		if err := p.escalate(ctx, now); err != nil {
			errs = append(errs, err)
		}
		if err := p.periodic(ctx, now); err != nil {
			errs = append(errs, err)
		}
	} else if writeDue {
		if err := p.writeAlerts(ctx, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refreshSilences re-reads silences from the store when due, so that a
// silence made through any process applies.
func (p *Pipeline) refreshSilences(ctx context.Context, now time.Time) error {
	p.mu.Lock()
	due := !now.Before(p.next.silences)
	p.mu.Unlock()
	if !due {
		return nil
	}
	sils, err := p.opts.Store.Silences(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.silencer = silence.NewSilencer(sils, now)
	p.next.silences = now.Add(silencesEvery)
	p.mu.Unlock()
	return nil
}

// periodic runs the write-behind and maintenance when due.
func (p *Pipeline) periodic(ctx context.Context, now time.Time) error {
	var errs []error
	p.mu.Lock()
	maintainDue, writeDue := !now.Before(p.next.maintain), !now.Before(p.next.write)
	if maintainDue {
		p.next.maintain = now.Add(maintainEvery)
	}
	p.mu.Unlock()
	if maintainDue {
		p.maintain(now)
		if _, err := p.opts.Store.ExpireNotificationLog(ctx, now); err != nil {
			errs = append(errs, err)
		}
		if _, err := silence.New(p.opts.Store, func() time.Time { return now }).GC(ctx); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, p.expireHistory(ctx, now))
	}
	if writeDue {
		errs = append(errs, p.writeAlerts(ctx, now))
	}
	return errors.Join(errs...)
}

// maintain drops empty groups, expired log entries and alerts resolved
// long enough ago that no group holds them.
func (p *Pipeline) maintain(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordResolved(now)
	p.disp.Maintain()
	for k, e := range p.nflog {
		if !e.ExpiresAt.After(now) {
			delete(p.nflog, k)
		}
	}
	held := p.disp.Held()
	for fp, e := range p.ix.byFP {
		if e.alert.ResolvedAt(now.Add(-resolvedRetention)) && !held[fp] {
			p.inhibitor.Delete(fp, e.alert.Labels)
			p.ix.remove(fp)
		}
	}
	if p.ix.refusedTotal > 0 && now.Sub(p.ix.lastRefusal) > limitHold+resolvedRetention {
		clear(p.ix.refused)
		p.ix.refusedTotal = 0
	}
	p.m.setAlerts(len(p.ix.byFP), p.disp.Len())
}

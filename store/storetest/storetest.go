// Package storetest is the conformance suite of store.Store: every
// implementation runs Run and must pass it unchanged.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/routing/nflog"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/store"
)

// Opener opens one store location: the first call creates it empty, later
// calls (after Close) open the same store again.
type Opener func() (store.Store, error)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// Run runs the suite; newStore returns an opener for a fresh location.
func Run(t *testing.T, newStore func(t *testing.T) Opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, open Opener)
	}{
		{"Identity", testIdentity},
		{"Alerts", testAlerts},
		{"RuleAlerts", testRuleAlerts},
		{"History", testHistory},
		{"GroupsAndNotificationLog", testGroupsAndLog},
		{"Silences", testSilences},
		{"Incidents", testIncidents},
		{"ConcurrentIncidentIDs", testConcurrentIDs},
		{"UpdateIsAtomic", testAtomic},
		{"Outbox", testOutbox},
		{"Lease", testLease},
		{"Checklists", testChecklists},
		{"Chat", testChat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, newStore(t)) })
	}
}

func mustOpen(t *testing.T, open Opener) store.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reopen(t *testing.T, s store.Store, open Opener) store.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return mustOpen(t, open)
}

func testIdentity(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	id := s.Identity()
	if len(id) < 8 || strings.Contains(id, "/") {
		t.Fatalf("identity %q: want a random token", id)
	}
	if s = reopen(t, s, open); s.Identity() != id {
		t.Errorf("identity changed across reopen: %q → %q", id, s.Identity())
	}
}

func testAlerts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "A", "service", "api"), Annotations: labels.FromStrings("summary", "s"),
		StartsAt: t0, EndsAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Second), GeneratorURL: "http://prom/graph", Timeout: true,
		Status: alerts.Status{State: alerts.StateFiring, SilencedBy: []string{"x"}}}
	b := alerts.Alert{Labels: labels.FromStrings("alertname", "B"), StartsAt: t0}
	before := time.Now().Add(-time.Second)
	if err := s.PutAlerts(ctx, "standby", []alerts.Alert{a, b}); err != nil {
		t.Fatal(err)
	}
	// What another writer wrote is there for the leader to pick up; its own
	// writes are not.
	if got, newest, err := s.AlertsWrittenSince(ctx, before, "leader"); err != nil || len(got) != 2 || newest.Before(before) {
		t.Fatalf("written by the standby: %d alerts, newest %v, %v", len(got), newest, err)
	}
	if got, _, _ := s.AlertsWrittenSince(ctx, before, "standby"); len(got) != 0 {
		t.Errorf("a writer's own alerts: %d", len(got))
	}
	a.EndsAt = t0.Add(2 * time.Hour)
	if err := s.PutAlerts(ctx, "leader", []alerts.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.AlertsWrittenSince(ctx, before, "leader"); len(got) != 1 || got[0].Name() != "B" {
		t.Errorf("after the leader rewrote A: %v", got)
	}
	if _, newest, _ := s.AlertsWrittenSince(ctx, time.Now().Add(time.Hour), ""); !newest.IsZero() {
		t.Errorf("nothing newer: newest %v", newest)
	}
	s = reopen(t, s, open)
	got, err := s.Alerts(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("alerts: %v, %v", got, err)
	}
	var ga alerts.Alert
	for _, g := range got {
		if g.Name() == "A" {
			ga = g
		}
	}
	if !labels.Equal(ga.Labels, a.Labels) || !labels.Equal(ga.Annotations, a.Annotations) || !ga.StartsAt.Equal(a.StartsAt) ||
		!ga.EndsAt.Equal(a.EndsAt) || !ga.UpdatedAt.Equal(a.UpdatedAt) || ga.GeneratorURL != a.GeneratorURL || !ga.Timeout {
		t.Errorf("alert A came back as %+v", ga)
	}
	if ga.Status.State != alerts.StateResolved || ga.Status.SilencedBy != nil {
		t.Errorf("status is computed, not stored: %+v", ga.Status)
	}
	if err := s.DeleteAlerts(ctx, []uint64{a.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Alerts(ctx); len(got) != 1 || got[0].Name() != "B" {
		t.Errorf("after delete: %v", got)
	}
}

func testHistory(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	tr := func(min int, name string, st alerts.State) alerts.Transition {
		ls := labels.FromStrings("alertname", name, "service", "api")
		return alerts.Transition{At: t0.Add(time.Duration(min) * time.Minute), Fingerprint: alerts.Fingerprint(ls), Labels: ls, State: st, Source: "rule", Summary: name + " summary"}
	}
	in := []alerts.Transition{tr(0, "Down", alerts.StatePending), tr(1, "Down", alerts.StateFiring), tr(2, "Slow", alerts.StateFiring), tr(5, "Down", alerts.StateResolved)}
	if err := s.AppendHistory(ctx, in); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	all, err := s.History(ctx, store.HistoryFilter{})
	if err != nil || len(all) != 4 || all[0].State != alerts.StatePending || !all[3].At.Equal(t0.Add(5*time.Minute)) || all[1].Fingerprint != in[1].Fingerprint || all[2].Summary != "Slow summary" {
		t.Fatalf("history %+v, %v", all, err)
	}
	if got, _ := s.History(ctx, store.HistoryFilter{Name: "Down", Since: t0.Add(time.Minute)}); len(got) != 2 || got[0].State != alerts.StateFiring {
		t.Errorf("Down since +1m: %+v", got)
	}
	if got, _ := s.History(ctx, store.HistoryFilter{Limit: 2}); len(got) != 2 || got[0].Name() != "Slow" || got[1].State != alerts.StateResolved {
		t.Errorf("the newest two, oldest first: %+v", got)
	}
	if got, _ := s.History(ctx, store.HistoryFilter{Until: t0.Add(time.Minute)}); len(got) != 2 {
		t.Errorf("until +1m: %+v", got)
	}
	if n, err := s.ExpireHistory(ctx, t0.Add(2*time.Minute)); err != nil || n != 2 {
		t.Errorf("expired %d, %v", n, err)
	}
}

func testRuleAlerts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	ra := alerts.RuleAlert{Rule: "X", Labels: labels.FromStrings("alertname", "X"), State: alerts.StateFiring, ActiveAt: t0, FiredAt: t0}
	if err := s.ReplaceRuleAlerts(ctx, []alerts.RuleAlert{ra, {Rule: "Y", Labels: labels.FromStrings("alertname", "Y")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRuleAlerts(ctx, []alerts.RuleAlert{ra}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	got, err := s.RuleAlerts(ctx)
	if err != nil || len(got) != 1 || got[0].State != alerts.StateFiring || !got[0].FiredAt.Equal(t0) {
		t.Errorf("rule alerts: %+v, %v", got, err)
	}
}

func testGroupsAndLog(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	g := dispatch.GroupState{ID: `{}:{service="api"}`, RouteID: "{}", Key: `{}:{service="api"}`, Receiver: "r", Labels: labels.FromStrings("service", "api"), Next: t0, Flushed: true}
	if err := s.PutGroups(ctx, []dispatch.GroupState{g, {ID: "other", Next: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroups(ctx, []string{"other"}); err != nil {
		t.Fatal(err)
	}
	e := nflog.NewEntry(nflog.Key{Receiver: "r", Integration: "webhook", GroupKey: g.Key}, map[uint64]struct{}{1: {}}, nil, t0, time.Hour)
	old := nflog.NewEntry(nflog.Key{Receiver: "r", Integration: "webhook", Index: 1, GroupKey: g.Key}, nil, nil, t0.Add(-3*time.Hour), time.Hour)
	if err := s.PutNotificationLog(ctx, []nflog.Entry{e, old}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	gs, err := s.Groups(ctx)
	if err != nil || len(gs) != 1 || !gs[0].Next.Equal(t0) || !gs[0].Flushed || !labels.Equal(gs[0].Labels, g.Labels) {
		t.Errorf("groups: %+v, %v", gs, err)
	}
	if n, err := s.ExpireNotificationLog(ctx, t0); err != nil || n != 1 {
		t.Errorf("expired %d entries (%v), want the old one", n, err)
	}
	es, err := s.NotificationLog(ctx)
	if err != nil || len(es) != 1 || es[0].Key != e.Key || len(es[0].Firing) != 1 || !es[0].Timestamp.Equal(t0) {
		t.Errorf("log: %+v, %v", es, err)
	}
}

func testSilences(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, "service", "api|web")
	sil := silence.Silence{ID: "s1", Matchers: amlabels.Matchers{m}, StartsAt: t0, EndsAt: t0.Add(time.Hour), UpdatedAt: t0, CreatedBy: "ana", Comment: "deploy"}
	if err := s.PutSilence(ctx, sil); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	got, err := s.Silence(ctx, "s1")
	if err != nil || got.CreatedBy != "ana" || len(got.Matchers) != 1 || !got.Matches(labels.FromStrings("service", "web")) {
		t.Fatalf("silence: %+v, %v", got, err)
	}
	if _, err := s.Silence(ctx, "nope"); !errors.Is(err, silence.ErrNotFound) {
		t.Errorf("unknown silence: %v", err)
	}
	if err := s.DeleteSilences(ctx, []string{"s1"}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Silences(ctx); len(all) != 0 {
		t.Errorf("after delete: %v", all)
	}
}

func testIncidents(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	a := incidents.Incident{Key: "k1", Title: "one", OpenedAt: t0, Status: incidents.StatusTriggered, Escalation: incidents.Escalation{NextAt: t0.Add(time.Minute)}}
	b := incidents.Incident{Key: "k2", Title: "two", OpenedAt: t0, Status: incidents.StatusTriggered, Escalation: incidents.Escalation{NextAt: t0.Add(2 * time.Minute)}}
	for _, inc := range []*incidents.Incident{&a, &b} {
		if err := s.CreateIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
	}
	if a.ID <= 0 || b.ID <= a.ID {
		t.Fatalf("ids %d, %d: want increasing", a.ID, b.ID)
	}
	if next, err := s.NextEscalation(ctx); err != nil || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next escalation %v, %v", next, err)
	}
	if due, _ := s.DueEscalations(ctx, t0.Add(90*time.Second)); len(due) != 1 || due[0] != a.ID {
		t.Errorf("due %v, want [%d]", due, a.ID)
	}
	a.Acknowledge(incidents.Settings{}, incidents.Actor{Name: "ana"}, t0.Add(30*time.Second))
	if err := s.UpdateIncident(ctx, a); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueEscalations(ctx, t0.Add(time.Hour)); len(due) != 1 || due[0] != b.ID {
		t.Errorf("an acknowledged incident does not escalate: due %v", due)
	}
	// An acknowledgement that expires (the policy's ack timeout) is due.
	a.Escalation.NextAt = t0.Add(30 * time.Minute)
	if err := s.UpdateIncident(ctx, a); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueEscalations(ctx, t0.Add(time.Hour)); len(due) != 2 || due[0] != b.ID || due[1] != a.ID {
		t.Errorf("an expiring acknowledgement is due: %v", due)
	}
	a.Escalation.NextAt = time.Time{}
	// Further alert groups linked to an incident find it too.
	a.Links = []string{"k9"}
	if err := s.UpdateIncident(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.OpenIncident(ctx, "k9"); err != nil || !ok || got.ID != a.ID {
		t.Errorf("linked group k9: %+v %v %v", got.ID, ok, err)
	}
	b.Resolve(incidents.Actor{Name: "ana"}, "", t0.Add(time.Minute))
	if err := s.UpdateIncident(ctx, b); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	if got, ok, err := s.OpenIncident(ctx, "k1"); err != nil || !ok || got.AckedBy != "ana" {
		t.Errorf("open incident k1: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.OpenIncident(ctx, "k2"); ok {
		t.Error("a resolved incident is not open")
	}
	if open, _ := s.Incidents(ctx, store.IncidentFilter{OpenOnly: true}); len(open) != 1 || open[0].ID != a.ID {
		t.Errorf("open incidents: %+v", open)
	}
	if all, _ := s.Incidents(ctx, store.IncidentFilter{Limit: 1}); len(all) != 1 || all[0].ID != b.ID {
		t.Errorf("newest incident: %+v", all)
	}
	// Since keeps the incidents active since: those still open, and
	// those resolved since (b was resolved a minute in).
	if got, _ := s.Incidents(ctx, store.IncidentFilter{Since: t0.Add(2 * time.Minute)}); len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("since: %+v", got)
	}
	if got, _ := s.Incidents(ctx, store.IncidentFilter{Since: t0.Add(time.Minute)}); len(got) != 2 {
		t.Errorf("since b was resolved: %d incidents", len(got))
	}
	if _, err := s.Incident(ctx, 999); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	if err := s.UpdateIncident(ctx, incidents.Incident{ID: 999}); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("updating an unknown incident: %v", err)
	}
	c := incidents.Incident{Key: "k3", OpenedAt: t0}
	if err := s.CreateIncident(ctx, &c); err != nil || c.ID <= b.ID {
		t.Errorf("id after reopen %d, want more than %d (%v)", c.ID, b.ID, err)
	}
}

func testConcurrentIDs(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[int64]bool{}
	for i := range 8 {
		wg.Go(func() {
			inc := incidents.Incident{Key: fmt.Sprint(i), OpenedAt: t0}
			if err := s.CreateIncident(ctx, &inc); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[inc.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 8 {
		t.Errorf("8 concurrent incidents got %d distinct ids", len(ids))
	}
}

func testAtomic(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		inc := incidents.Incident{Key: "k", OpenedAt: t0}
		if err := tx.CreateIncident(ctx, &inc); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, []notify.Message{{Key: "m", Kind: notify.KindPage, CreatedAt: t0}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v", err)
	}
	if all, _ := s.Incidents(ctx, store.IncidentFilter{}); len(all) != 0 {
		t.Errorf("a failed update left incidents: %+v", all)
	}
	if ms, _ := s.Messages(ctx, store.MessageFilter{}); len(ms) != 0 {
		t.Errorf("a failed update left messages: %+v", ms)
	}
}

func testOutbox(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	page := &incidents.Page{Key: "INC-1/p1/ana", Target: "ana", Subject: "x"}
	msgs := []notify.Message{
		{Key: "INC-1/p1/ana", Kind: notify.KindPage, Page: page, CreatedAt: t0},
		{Key: "n1", Kind: notify.KindNotification, Supersede: "g", Notification: &notify.Notification{Receiver: "r", GroupKey: "g"}, CreatedAt: t0},
	}
	if err := s.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msgs[0].Key, s.Identity()+"/") || msgs[0].ID == 0 || msgs[1].ID <= msgs[0].ID {
		t.Fatalf("enqueued keys/ids: %q %d %d; keys begin with the store identity", msgs[0].Key, msgs[0].ID, msgs[1].ID)
	}
	// A key that exists is an error, and the whole batch is refused.
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.Enqueue(ctx, []notify.Message{{Key: "fresh", Kind: notify.KindPage, CreatedAt: t0}, {Key: "INC-1/p1/ana", Kind: notify.KindPage, CreatedAt: t0}})
	})
	if err == nil {
		t.Fatal("a duplicate key was accepted: it would silently drop a page")
	}
	if all, _ := s.Messages(ctx, store.MessageFilter{}); len(all) != 2 {
		t.Fatalf("messages after a refused batch: %d", len(all))
	}
	if n, oldest, err := s.OutboxBacklog(ctx); err != nil || n != 2 || !oldest.Equal(t0) {
		t.Errorf("backlog %d from %v (%v), want 2 from %v", n, oldest, err, t0)
	}
	pending, err := s.PendingMessages(ctx, t0, 10)
	if err != nil || len(pending) != 2 || pending[0].Page == nil || pending[0].Page.Target != "ana" || pending[1].Notification.GroupKey != "g" {
		t.Fatalf("pending: %+v, %v", pending, err)
	}
	pending[0].SentAt, pending[0].Attempts = t0.Add(time.Second), 1
	pending[1].Attempts, pending[1].LastError, pending[1].NextAttemptAt = 1, "refused", t0.Add(time.Minute)
	if err := s.MarkMessages(ctx, pending); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, open)
	if p, _ := s.PendingMessages(ctx, t0.Add(30*time.Second), 10); len(p) != 0 {
		t.Errorf("nothing is due before the retry: %+v", p)
	}
	if next, err := s.NextAttempt(ctx); err != nil || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next attempt %v, %v", next, err)
	}
	if p, _ := s.PendingMessages(ctx, t0.Add(time.Minute), 10); len(p) != 1 || p[0].LastError != "refused" || p[0].Attempts != 1 {
		t.Errorf("due retry: %+v", p)
	}
	if m, err := s.Message(ctx, msgs[0].Key); err != nil || m.ID != msgs[0].ID || m.Page == nil || !m.SentAt.Equal(t0.Add(time.Second)) {
		t.Errorf("message by key: %+v, %v", m, err)
	}
	if _, err := s.Message(ctx, s.Identity()+"/nothing"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("an unknown key: %v, want notify.ErrNotFound", err)
	}
	pages, err := s.Messages(ctx, store.MessageFilter{Kind: notify.KindPage, Limit: 5})
	if err != nil || len(pages) != 1 || !pages[0].SentAt.Equal(t0.Add(time.Second)) || pages[0].Pending() {
		t.Errorf("sent pages: %+v, %v", pages, err)
	}
	if next, _ := (func() (time.Time, error) {
		p, _ := s.PendingMessages(ctx, t0.Add(time.Hour), 10)
		p[0].Superseded = true
		if err := s.MarkMessages(ctx, p); err != nil {
			return time.Time{}, err
		}
		return s.NextAttempt(ctx)
	})(); !next.IsZero() {
		t.Errorf("nothing pending, next attempt %v", next)
	}
}

func testLease(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	take := func(holder string, at time.Duration) bool {
		ok, err := s.AcquireLease(ctx, "pipeline", holder, 10*time.Second, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("a", 0) {
		t.Fatal("a free lease is taken")
	}
	if take("b", 5*time.Second) {
		t.Error("a running lease is not taken by another holder")
	}
	if h, until, err := s.Lease(ctx, "pipeline"); err != nil || h != "a" || !until.Equal(t0.Add(10*time.Second)) {
		t.Errorf("lease holder %q until %v (%v)", h, until, err)
	}
	if !take("a", 8*time.Second) {
		t.Error("the holder renews")
	}
	if take("b", 17*time.Second) {
		t.Error("the renewed lease still runs")
	}
	if !take("b", 18*time.Second) {
		t.Error("an expired lease is taken")
	}
	if err := s.ReleaseLease(ctx, "pipeline", "a"); err != nil {
		t.Fatal(err)
	}
	if take("a", 19*time.Second) {
		t.Error("releasing someone else's lease does nothing")
	}
	if err := s.ReleaseLease(ctx, "pipeline", "b"); err != nil {
		t.Fatal(err)
	}
	if !take("a", 19*time.Second) {
		t.Error("a released lease is free")
	}
	if h, _, err := s.Lease(ctx, "other"); err != nil || h != "" {
		t.Errorf("unknown lease: %q, %v", h, err)
	}
}

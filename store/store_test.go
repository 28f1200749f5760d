package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestSQLiteSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state", "oncall.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	a := alerts.RuleAlert{Rule: "X", Labels: labels.FromStrings("alertname", "X", "service", "mm"), State: alerts.StateFiring, ActiveAt: t0, FiredAt: t0}
	g := alerts.GroupState{Key: `page:{service="mm"}`, Route: "page", FirstFiringAt: t0, NotifiedAt: t0}
	inc := incidents.Incident{ID: 1, Key: g.Key, Title: "X", OpenedAt: t0, Escalation: incidents.Escalation{Policy: "default", Step: 1, NextAt: t0.Add(time.Minute)}}
	page := incidents.Page{Key: "INC-1/r0/s0/alice", IncidentID: 1, Target: "alice", CreatedAt: t0}
	if err := s.Apply(ctx, Change{Alerts: []alerts.RuleAlert{a}, Groups: []alerts.GroupState{g}, Incidents: []incidents.Incident{inc}, Pages: []incidents.Page{page}}); err != nil {
		t.Fatal(err)
	}
	// The same page again (a retried cycle) is not queued twice.
	if err := s.Apply(ctx, Change{Pages: []incidents.Page{page}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Alerts) != 1 || snap.Alerts[0].State != alerts.StateFiring || !labels.Equal(snap.Alerts[0].Labels, a.Labels) {
		t.Errorf("alerts = %+v", snap.Alerts)
	}
	if len(snap.Groups) != 1 || !snap.Groups[0].NotifiedAt.Equal(t0) {
		t.Errorf("groups = %+v", snap.Groups)
	}
	if len(snap.Incidents) != 1 || snap.Incidents[0].Escalation.Step != 1 || snap.MaxIncidentID != 1 {
		t.Errorf("incidents = %+v max %d", snap.Incidents, snap.MaxIncidentID)
	}
	pending, err := s.PendingPages(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if err := s.MarkPage(ctx, pending[0], t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.PendingPages(ctx); len(pending) != 0 {
		t.Errorf("page still pending after delivery")
	}
	recent, _ := s.RecentPages(ctx, 10)
	if len(recent) != 1 || !recent[0].SentAt.Equal(t0.Add(time.Second)) {
		t.Errorf("recent = %+v", recent)
	}
	// Resolving moves the incident out of the open set.
	inc.Status = incidents.StatusResolved
	if err := s.Apply(ctx, Change{Incidents: []incidents.Incident{inc}}); err != nil {
		t.Fatal(err)
	}
	snap, _ = s.Load(ctx)
	if len(snap.Incidents) != 0 || snap.MaxIncidentID != 1 {
		t.Errorf("after resolve: %+v", snap)
	}
	if _, err := s.Incident(ctx, 99); err == nil {
		t.Error("want not found")
	}
}

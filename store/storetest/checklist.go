package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/store"
)

// testChecklists: runs and records are kept per service and checklist,
// with their IDs, filtered as asked, and survive a reopen whole.
func testChecklists(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	run := func(svc string, at time.Time, outcome checklist.Outcome) *checklist.Run {
		return &checklist.Run{Checklist: "prod", Title: "Production readiness", Service: svc, Level: "silver", LevelReason: "tier 2",
			Achieved: "bronze", Outcome: outcome, At: at, By: "alice", Levels: []string{"bronze", "silver", "gold"},
			Results: []checklist.Result{
				{Check: "enforces-ssl", Title: "Enforces SSL access", Level: "bronze", Kind: checklist.KindProbe, Required: true, Status: checklist.Pass,
					Summary: "ok", Source: "probe", Duration: 12 * time.Millisecond,
					Links: []checklist.Link{{Name: "redirect", Status: checklist.Pass, Detail: "301"}, {Name: "hsts", Status: checklist.Warn, Detail: "short"}}},
				{Check: "security-audit", Title: "Security audit", Level: "silver", Kind: checklist.KindExternal, Required: true, Status: checklist.NotReported},
			}}
	}
	r1, r2, r3 := run("api", t0, checklist.OutcomeFail), run("api", t0.Add(time.Hour), checklist.OutcomePass), run("web", t0.Add(2*time.Hour), checklist.OutcomeFail)
	for _, r := range []*checklist.Run{r1, r2, r3} {
		if err := s.AddChecklistRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if r1.ID == 0 || r2.ID <= r1.ID || r3.ID <= r2.ID {
		t.Fatalf("run IDs %d, %d, %d: want increasing", r1.ID, r2.ID, r3.ID)
	}
	rec := func(kind checklist.RecordKind, check, svc string, at time.Time, ttl time.Duration) *checklist.Record {
		return &checklist.Record{Kind: kind, Checklist: "prod", Check: check, Service: svc, Status: checklist.Pass, By: "bob", At: at,
			Expires: at.Add(ttl), Text: "why", EvidenceURL: "https://wiki.example.com/x", Source: "cli"}
	}
	old := rec(checklist.RecordAttestation, "credentials-rotation", "api", t0.Add(-48*time.Hour), 24*time.Hour)
	current := rec(checklist.RecordAttestation, "credentials-rotation", "api", t0, 90*24*time.Hour)
	waiver := rec(checklist.RecordWaiver, "staging-parity", "api", t0, 30*24*time.Hour)
	other := rec(checklist.RecordResult, "security-audit", "web", t0, 24*time.Hour)
	otherList := rec(checklist.RecordAttestation, "x", "api", t0, time.Hour)
	otherList.Checklist = "custom"
	for _, r := range []*checklist.Record{old, current, waiver, other, otherList} {
		if err := s.AddChecklistRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if old.ID == 0 || current.ID <= old.ID {
		t.Fatalf("record IDs %d, %d", old.ID, current.ID)
	}

	s = reopen(t, s, open)
	runs, err := s.ChecklistRuns(ctx, store.ChecklistRunFilter{Checklist: "prod", Service: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != r2.ID || runs[1].ID != r1.ID {
		t.Fatalf("api's runs: %+v, want %d then %d (newest first)", ids(runs), r2.ID, r1.ID)
	}
	got := runs[1]
	if got.Outcome != checklist.OutcomeFail || !got.At.Equal(t0) || got.By != "alice" || len(got.Results) != 2 ||
		len(got.Results[0].Links) != 2 || got.Results[0].Links[1].Status != checklist.Warn || got.Results[0].Duration != 12*time.Millisecond {
		t.Errorf("run read back: %+v", got)
	}
	if all, _ := s.ChecklistRuns(ctx, store.ChecklistRunFilter{}); len(all) != 3 {
		t.Errorf("every run: %d, want 3", len(all))
	}
	if last, _ := s.ChecklistRuns(ctx, store.ChecklistRunFilter{Service: "api", Limit: 1}); len(last) != 1 || last[0].ID != r2.ID {
		t.Errorf("api's last run: %v", ids(last))
	}
	recs, err := s.ChecklistRecords(ctx, store.ChecklistRecordFilter{Checklist: "prod", Service: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].ID != old.ID || recs[1].ID != current.ID || recs[2].ID != waiver.ID {
		t.Fatalf("api's prod records: %+v", recs)
	}
	if r := recs[1]; r.Kind != checklist.RecordAttestation || r.Check != "credentials-rotation" || r.EvidenceURL != "https://wiki.example.com/x" ||
		!r.Expires.Equal(t0.Add(90*24*time.Hour)) || r.By != "bob" || r.Text != "why" || r.Source != "cli" {
		t.Errorf("record read back: %+v", r)
	}
	cur, _ := s.ChecklistRecords(ctx, store.ChecklistRecordFilter{Checklist: "prod", Service: "api", CurrentAt: t0.Add(time.Minute)})
	if len(cur) != 2 || cur[0].ID != current.ID || cur[1].ID != waiver.ID {
		t.Errorf("records current a minute after t0: %+v (the expired one must not count)", cur)
	}
	if w, _ := s.ChecklistRecords(ctx, store.ChecklistRecordFilter{Kind: checklist.RecordWaiver}); len(w) != 1 || w[0].ID != waiver.ID {
		t.Errorf("waivers: %+v", w)
	}
	if c, _ := s.ChecklistRecords(ctx, store.ChecklistRecordFilter{Checklist: "custom"}); len(c) != 1 || c[0].Check != "x" {
		t.Errorf("custom checklist's records: %+v", c)
	}
}

func ids(runs []checklist.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

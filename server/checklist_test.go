package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store/sqlite"
)

// checklistServer is the API over a real store, with the built-in
// checklists and one custom one.
func checklistServer(t *testing.T, path string) (*client.Client, string, func()) {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	custom, err := checklist.Parse("launch.yaml", []byte("name: launch\nchecks: [{id: demo, title: Demo day, kind: external}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := server.Handler(server.Options{Store: st, Token: "s3cret", Now: func() time.Time { return t0 },
		Catalog:    catalog.Catalog{Services: []catalog.Service{{Name: "mm", Tier: 2}, {Name: "search", Tier: 1}}},
		Checklists: func() ([]checklist.Checklist, error) { return append(checklist.Builtin(), custom), nil }})
	srv := httptest.NewServer(h)
	c, err := client.New(srv.URL, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL, func() { srv.Close(); st.Close() }
}

func TestChecklistAPI(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "oncall.db")
	c, url, stop := checklistServer(t, path)
	cls, err := c.Checklists(ctx)
	if err != nil || len(cls) != 2 || cls[0].Name != "prod" || len(cls[0].Checks) != 10 || cls[1].Name != "launch" {
		t.Fatalf("checklists: %+v %v", cls, err)
	}

	// A CI job pushes a result; a person attests and waives.
	rec, err := c.AddChecklistRecord(ctx, "prod", checklist.Request{Kind: checklist.RecordResult, Check: "security-audit", Service: "mm", Status: checklist.Pass,
		By: "ci", EvidenceURL: "https://jira.example.com/SEC-1", Source: "security-ci"})
	if err != nil || rec.ID == 0 || rec.Source != "security-ci" || !rec.Expires.Equal(t0.Add(365*24*time.Hour)) {
		t.Fatalf("pushed result: %+v %v", rec, err)
	}
	if _, err := c.AddChecklistRecord(ctx, "prod", checklist.Request{Kind: checklist.RecordAttestation, Check: "credentials-rotation", Service: "mm", By: "ana",
		EvidenceURL: "https://wiki.example.com/creds", ExpiresIn: "30d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddChecklistRecord(ctx, "prod", checklist.Request{Kind: checklist.RecordWaiver, Check: "enforces-ssl", Service: "mm", By: "ana",
		Text: "internal until the LB moves", ExpiresIn: "14d"}); err != nil {
		t.Fatal(err)
	}
	// Refusals name what is valid.
	for _, tc := range []struct {
		req  checklist.Request
		name string
		want string
	}{
		{checklist.Request{Kind: checklist.RecordAttestation, Check: "uses-ssl", Service: "mm", By: "ana"}, "prod", `unknown check "uses-ssl" in checklist prod (checks: alerts-a-human, enforces-ssl,`},
		{checklist.Request{Kind: checklist.RecordAttestation, Check: "lifecycle-board", Service: "matchmaking", By: "ana"}, "prod", `unknown service "matchmaking" in the catalogue (services: mm, search)`},
		{checklist.Request{Kind: checklist.RecordWaiver, Check: "enforces-ssl", Service: "mm", By: "ana", ExpiresIn: "1d"}, "prod", "a waiver needs a reason"},
		{checklist.Request{Kind: checklist.RecordResult, Check: "enforces-ssl", Service: "mm", By: "ci", Status: checklist.Pass}, "prod", "only an external check takes a pushed result"},
		{checklist.Request{Kind: checklist.RecordResult, Check: "demo", Service: "mm", By: "ci", Status: checklist.Pass}, "nope", `unknown checklist "nope" (checklists: prod, launch)`},
	} {
		_, err := c.AddChecklistRecord(ctx, tc.name, tc.req)
		var ce *client.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tc.want) {
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
			continue
		}
		if want := map[bool]int{true: 404, false: 400}[tc.name == "nope"]; ce.Status != want {
			t.Errorf("%+v: HTTP %d, want %d", tc.req, ce.Status, want)
		}
	}

	// The CLI evaluates with the server's records and posts the run.
	recs, err := c.ChecklistRecords(ctx, "prod", "mm", true)
	if err != nil || len(recs) != 3 {
		t.Fatalf("records: %+v %v", recs, err)
	}
	cl := cls[0]
	svc := catalog.Service{Name: "mm", Tier: 2}
	first := checklist.Evaluate(cl, svc, "silver", "tier 2", map[string]checklist.Result{"enforces-ssl": {Status: checklist.Fail, Summary: "no HSTS"}}, recs, t0)
	first.At = t0.Add(-time.Hour)
	if first, err = c.AddChecklistRun(ctx, first); err != nil || first.ID == 0 {
		t.Fatalf("post run: %+v %v", first, err)
	}
	if r, _ := first.Result("enforces-ssl"); r.Status != checklist.Waived {
		t.Errorf("the waiver counts: %+v", r)
	}
	second := checklist.Evaluate(cl, svc, "silver", "tier 2", nil, recs, t0)
	if second, err = c.AddChecklistRun(ctx, second); err != nil {
		t.Fatal(err)
	}
	other := checklist.Evaluate(cl, catalog.Service{Name: "search", Tier: 1}, "gold", "tier 1", nil, nil, t0)
	if _, err := c.AddChecklistRun(ctx, other); err != nil {
		t.Fatal(err)
	}
	bad := second
	bad.Results = append(bad.Results, checklist.Result{Check: "made-up"})
	if _, err := c.AddChecklistRun(ctx, bad); err == nil || !strings.Contains(err.Error(), `unknown check "made-up"`) {
		t.Errorf("a run with a made-up check: %v", err)
	}
	bad = second
	bad.Service = "ghost"
	if _, err := c.AddChecklistRun(ctx, bad); err == nil || !strings.Contains(err.Error(), `unknown service "ghost"`) {
		t.Errorf("a run of an unknown service: %v", err)
	}
	runs, err := c.ChecklistRuns(ctx, "prod", "mm", 0)
	if err != nil || len(runs) != 2 || runs[0].ID != second.ID || runs[1].ID != first.ID {
		t.Fatalf("mm's runs, newest first: %+v %v", runs, err)
	}
	latest, err := c.LatestChecklistRuns(ctx, "prod")
	if err != nil || len(latest) != 2 || latest[0].Service != "search" || latest[1].ID != second.ID {
		t.Errorf("latest per service: %+v %v", latest, err)
	}

	// Every route wants the token.
	resp, err := http.Get(url + "/api/v1/checklists")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", resp.StatusCode)
	}
	// A raw POST: what a CI job sends.
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/checklists/launch/results",
		strings.NewReader(`{"check": "demo", "service": "search", "status": "pass", "by": "ci", "evidence_url": "https://ci.example.com/1"}`))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pushed checklist.Record
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &pushed) != nil || pushed.Source != "api" {
		t.Errorf("raw push: HTTP %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}

	// Nothing is lost across a restart.
	stop()
	c, _, stop = checklistServer(t, path)
	defer stop()
	if runs, _ := c.ChecklistRuns(ctx, "prod", "mm", 0); len(runs) != 2 || len(runs[1].Results) != 10 {
		t.Errorf("runs after a restart: %d", len(runs))
	}
	if recs, _ := c.ChecklistRecords(ctx, "prod", "mm", false); len(recs) != 3 {
		t.Errorf("records after a restart: %d", len(recs))
	}
}

// What the console reads: the newest run of every checklist for every
// service, one service's runs of every checklist with its records.
func TestChecklistReadinessForTheConsole(t *testing.T) {
	ctx := context.Background()
	c, _, stop := checklistServer(t, filepath.Join(t.TempDir(), "oncall.db"))
	defer stop()
	cls, err := c.Checklists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prod, launch := cls[0], cls[1]
	mm, search := catalog.Service{Name: "mm", Tier: 2}, catalog.Service{Name: "search", Tier: 1}
	post := func(cl checklist.Checklist, svc catalog.Service, at time.Time) checklist.Run {
		t.Helper()
		run := checklist.Evaluate(cl, svc, cl.DefaultLevel, "default", nil, nil, at)
		run, err := c.AddChecklistRun(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	old := post(prod, mm, t0.Add(-3*time.Hour))
	newer := post(prod, mm, t0.Add(-2*time.Hour))
	s := post(prod, search, t0.Add(-time.Hour))
	l := post(launch, mm, t0.Add(-30*time.Minute))
	if _, err := c.AddChecklistRecord(ctx, "launch", checklist.Request{Kind: checklist.RecordResult, Check: "demo", Service: "mm", Status: checklist.Pass, By: "ci"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddChecklistRecord(ctx, "prod", checklist.Request{Kind: checklist.RecordWaiver, Check: "enforces-ssl", Service: "search", By: "ana", Text: "internal", ExpiresIn: "1d"}); err != nil {
		t.Fatal(err)
	}
	ids := func(runs []checklist.Run) []int64 {
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	latest, err := c.ReadinessRuns(ctx, "", 0)
	if got, want := ids(latest), []int64{l.ID, s.ID, newer.ID}; err != nil || !slices.Equal(got, want) {
		t.Errorf("latest of every checklist and service: %v %v, want %v", got, err, want)
	}
	hist, err := c.ReadinessRuns(ctx, "mm", 1)
	if got, want := ids(hist), []int64{l.ID, newer.ID}; err != nil || !slices.Equal(got, want) {
		t.Errorf("mm's runs, one of each checklist: %v %v, want %v", got, err, want)
	}
	hist, _ = c.ReadinessRuns(ctx, "mm", 0)
	if got, want := ids(hist), []int64{l.ID, newer.ID, old.ID}; !slices.Equal(got, want) {
		t.Errorf("mm's runs: %v, want %v", got, want)
	}
	recs, err := c.ReadinessRecords(ctx, "mm")
	if err != nil || len(recs) != 1 || recs[0].Checklist != "launch" || recs[0].Service != "mm" {
		t.Errorf("mm's records: %+v %v", recs, err)
	}
}

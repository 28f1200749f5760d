package server_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The postmortem endpoints: an incident's pages with their delivery, the
// incidents and the pages of a range, and clear errors for bad ranges.
func TestPostmortemEndpoints(t *testing.T) {
	ctx := context.Background()
	f := setup(t, "s3cret")
	if code, body := f.do(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm", "severity", "page")+"]"); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	f.step(t0.Add(time.Second))
	f.step(t0.Add(2 * time.Second))
	open, err := f.c.Incidents(ctx)
	if err != nil || len(open) != 1 {
		t.Fatalf("incidents: %v %v", open, err)
	}
	pages, err := f.c.IncidentPages(ctx, open[0].ID)
	if err != nil || len(pages) != 1 || pages[0].Target != "alice" || pages[0].SentAt.IsZero() {
		t.Fatalf("incident pages: %+v %v", pages, err)
	}
	in, err := f.c.PagesBetween(ctx, t0, t0.Add(time.Hour))
	if err != nil || len(in) != 1 {
		t.Errorf("pages of the hour: %+v %v", in, err)
	}
	if later, err := f.c.PagesBetween(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil || len(later) != 0 {
		t.Errorf("pages of the next hour: %+v %v", later, err)
	}
	incs, err := f.c.IncidentsBetween(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil || len(incs) != 1 {
		t.Errorf("incidents of the hour: %+v %v", incs, err)
	}
	if before, err := f.c.IncidentsBetween(ctx, t0.Add(-2*time.Hour), t0.Add(-time.Hour)); err != nil || len(before) != 0 {
		t.Errorf("incidents before: %+v %v", before, err)
	}
	trs, err := f.c.HistoryBetween(ctx, t0, t0.Add(time.Hour))
	if err != nil || len(trs) == 0 || trs[0].Name() != "Down" {
		t.Errorf("history of the hour: %+v %v", trs, err)
	}
	for path, want := range map[string]string{
		"/api/v1/postmortem/incidents":                                               "from and to are required",
		"/api/v1/postmortem/incidents?from=2026-01-01T00:00:00Z":                     "from and to are required",
		"/api/v1/postmortem/pages":                                                   "give incident, or from and to",
		"/api/v1/postmortem/pages?incident=x":                                        "is not an incident number",
		"/api/v1/postmortem/pages?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z": "must be after from",
	} {
		if code, body := f.do(t, "GET", path, ""); code != 400 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %s, want 400 with %q", path, code, body, want)
		}
	}
	if code, body := f.do(t, "GET", "/api/v1/postmortem/pages?incident=99", ""); code != 404 {
		t.Errorf("pages of an unknown incident: %d %s", code, body)
	}
}

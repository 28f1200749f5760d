package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/incidents"
)

// Checklists returns the server's readiness checklists.
func (c *Client) Checklists(ctx context.Context) ([]checklist.Checklist, error) {
	var out []checklist.Checklist
	return out, c.do(ctx, http.MethodGet, "/api/v1/checklists", nil, nil, &out)
}

// ChecklistRuns returns the runs of a checklist, newest first: one
// service's ("" for all), at most limit (0: the server's default).
func (c *Client) ChecklistRuns(ctx context.Context, name, service string, limit int) ([]checklist.Run, error) {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []checklist.Run
	return out, c.do(ctx, http.MethodGet, "/api/v1/checklists/"+url.PathEscape(name)+"/runs", q, nil, &out)
}

// LatestChecklistRuns returns the newest run of a checklist for each
// service (what the console shows).
func (c *Client) LatestChecklistRuns(ctx context.Context, name string) ([]checklist.Run, error) {
	var out []checklist.Run
	return out, c.do(ctx, http.MethodGet, "/api/v1/checklists/"+url.PathEscape(name)+"/runs", url.Values{"latest": {"1"}}, nil, &out)
}

// AddChecklistRun stores a run on the server and returns it with its ID.
func (c *Client) AddChecklistRun(ctx context.Context, run checklist.Run) (checklist.Run, error) {
	var out checklist.Run
	return out, c.do(ctx, http.MethodPost, "/api/v1/checklists/"+url.PathEscape(run.Checklist)+"/runs", nil, run, &out)
}

// ChecklistRecords returns a checklist's records for a service ("" for
// all), oldest first; current keeps those that count now.
func (c *Client) ChecklistRecords(ctx context.Context, name, service string, current bool) ([]checklist.Record, error) {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if current {
		q.Set("current", "1")
	}
	var out []checklist.Record
	return out, c.do(ctx, http.MethodGet, "/api/v1/checklists/"+url.PathEscape(name)+"/records", q, nil, &out)
}

// AddChecklistRecord records an attestation, a waiver or a pushed result
// (by req.Kind) and returns the record kept. An unknown check or service
// is refused with the valid ones.
func (c *Client) AddChecklistRecord(ctx context.Context, name string, req checklist.Request) (checklist.Record, error) {
	path := map[checklist.RecordKind]string{checklist.RecordAttestation: "attestations", checklist.RecordWaiver: "waivers", checklist.RecordResult: "results"}[req.Kind]
	if path == "" {
		path = "results"
	}
	var out checklist.Record
	return out, c.do(ctx, http.MethodPost, "/api/v1/checklists/"+url.PathEscape(name)+"/"+path, nil, req, &out)
}

// IncidentsSince returns the incidents active at some time since since,
// newest first (up to 1000): what the drill probe reads.
func (c *Client) IncidentsSince(ctx context.Context, since time.Time) ([]incidents.Incident, error) {
	var out []incidents.Incident
	q := url.Values{"all": {"1"}, "limit": {"1000"}, "since": {since.UTC().Format(time.RFC3339)}}
	return out, c.do(ctx, http.MethodGet, "/api/v1/incidents", q, nil, &out)
}

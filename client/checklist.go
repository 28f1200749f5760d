package client

import (
	"context"
	"net/http"
	"net/url"
	"slices"
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

// ReadinessRuns returns runs of every checklist, newest first: with
// service "", the newest run of each checklist for each service (the
// console's list); otherwise that service's runs, at most limit of each
// checklist (its history).
func (c *Client) ReadinessRuns(ctx context.Context, service string, limit int) ([]checklist.Run, error) {
	cls, err := c.Checklists(ctx)
	if err != nil {
		return nil, err
	}
	var out []checklist.Run
	for _, cl := range cls {
		var runs []checklist.Run
		if service == "" {
			runs, err = c.LatestChecklistRuns(ctx, cl.Name)
		} else {
			runs, err = c.ChecklistRuns(ctx, cl.Name, service, limit)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	slices.SortStableFunc(out, func(a, b checklist.Run) int { return b.At.Compare(a.At) })
	return out, nil
}

// ReadinessRecords returns the attestations, waivers and pushed results
// of every checklist that count now for service ("" for every service).
func (c *Client) ReadinessRecords(ctx context.Context, service string) ([]checklist.Record, error) {
	cls, err := c.Checklists(ctx)
	if err != nil {
		return nil, err
	}
	var out []checklist.Record
	for _, cl := range cls {
		recs, err := c.ChecklistRecords(ctx, cl.Name, service, true)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
)

func postmortemRange(from, to time.Time) url.Values {
	return url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
}

// IncidentsBetween returns the incidents active at some time in
// [from, to): open, or resolved at or after from, and opened before to.
func (c *Client) IncidentsBetween(ctx context.Context, from, to time.Time) ([]incidents.Incident, error) {
	var out []incidents.Incident
	return out, c.do(ctx, http.MethodGet, "/api/v1/postmortem/incidents", postmortemRange(from, to), nil, &out)
}

// PagesBetween returns the pages created in [from, to), oldest first,
// with their delivery.
func (c *Client) PagesBetween(ctx context.Context, from, to time.Time) ([]incidents.Page, error) {
	var out []incidents.Page
	return out, c.do(ctx, http.MethodGet, "/api/v1/postmortem/pages", postmortemRange(from, to), nil, &out)
}

// IncidentPages returns the pages of incident id, oldest first, with
// their delivery.
func (c *Client) IncidentPages(ctx context.Context, id int64) ([]incidents.Page, error) {
	var out []incidents.Page
	q := url.Values{"incident": {strconv.FormatInt(id, 10)}}
	return out, c.do(ctx, http.MethodGet, "/api/v1/postmortem/pages", q, nil, &out)
}

// HistoryLimit is the most alert transitions the server answers at once.
const HistoryLimit = 10_000

// HistoryBetween lists the alert transitions in [from, to], oldest first
// (the newest HistoryLimit of them).
func (c *Client) HistoryBetween(ctx context.Context, from, to time.Time) ([]alerts.Transition, error) {
	q := postmortemRange(from, to)
	q = url.Values{"since": q["from"], "until": q["to"], "limit": {strconv.Itoa(HistoryLimit)}}
	var out []alerts.Transition
	return out, c.do(ctx, http.MethodGet, "/api/v1/alerts/history", q, nil, &out)
}

// ChatMessages lists what incident id's chat channel said from from to to
// (either zero: unbounded), oldest first.
func (c *Client) ChatMessages(ctx context.Context, id int64, from, to time.Time) ([]chat.Message, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	var out []chat.Message
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d/chat", id), q, nil, &out)
}

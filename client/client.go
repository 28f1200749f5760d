// Package client is the Go client of oncall's HTTP API, used by the TUI and
// the CLI.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// Client talks to one oncall server.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client for the server at baseURL, sending token as a bearer
// token when it is not empty.
func New(baseURL, token string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("server url %q: not an absolute URL", baseURL)
	}
	return &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// Error is an error response from the server.
type Error struct {
	Status int
	Msg    string
	// Body is the response body as sent.
	Body string
}

// Error renders the server's message and the HTTP status.
func (e *Error) Error() string { return fmt.Sprintf("server: %s (HTTP %d)", e.Msg, e.Status) }

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("oncall server %s: %w", c.base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return &Error{Status: resp.StatusCode, Msg: errorMessage(b), Body: string(b)}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("oncall server %s: bad response to %s: %w", c.base.Host, path, err)
	}
	return nil
}

// errorMessage reads the message of an error body: oncall's {"error"},
// Alertmanager's JSON string or {"message"}, else the text itself.
func errorMessage(b []byte) string {
	var eb struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	var str string
	switch {
	case json.Unmarshal(b, &eb) == nil && eb.Error != "":
		return eb.Error
	case eb.Message != "":
		return eb.Message
	case json.Unmarshal(b, &str) == nil && str != "":
		return str
	}
	return string(bytes.TrimSpace(b))
}

// Healthy checks that the server process answers (/-/healthy).
func (c *Client) Healthy(ctx context.Context) error {
	var h struct {
		Server string `json:"server"`
	}
	if err := c.do(ctx, http.MethodGet, "/-/healthy", nil, nil, &h); err != nil {
		return err
	}
	if h.Server != "oncall" {
		return fmt.Errorf("%s answers, but is not an oncall server", c.base.Host)
	}
	return nil
}

// Ready returns the server's readiness report (/-/ready): whether its
// store, sources, evaluation and outbox work, and why not.
func (c *Client) Ready(ctx context.Context) (health.Report, error) {
	var r health.Report
	err := c.do(ctx, http.MethodGet, "/-/ready", nil, nil, &r)
	var ce *Error
	if errors.As(err, &ce) && ce.Status == http.StatusServiceUnavailable {
		// Not ready is an answer, not a failure: the report says why.
		if jerr := json.Unmarshal([]byte(ce.Body), &r); jerr == nil {
			return r, nil
		}
	}
	return r, err
}

// Alerts returns the current alerts with their status: firing, pending
// (oncall's own rules) and recently resolved.
func (c *Client) Alerts(ctx context.Context) ([]alerts.Alert, error) {
	var out []alerts.Alert
	return out, c.do(ctx, http.MethodGet, "/api/v1/alerts", nil, nil, &out)
}

// Rules returns the alerting rules the server evaluates.
func (c *Client) Rules(ctx context.Context) ([]alerts.Rule, error) {
	var out []alerts.Rule
	return out, c.do(ctx, http.MethodGet, "/api/v1/rules", nil, nil, &out)
}

// History lists alert transitions, oldest first: since (zero: all kept)
// bounds them, name keeps one alertname's, limit the newest so many.
func (c *Client) History(ctx context.Context, since time.Time, name string, limit int) ([]alerts.Transition, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if name != "" {
		q.Set("alert", name)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []alerts.Transition
	err := c.do(ctx, http.MethodGet, "/api/v1/alerts/history", q, nil, &out)
	return out, err
}

// Incidents returns the open incidents.
func (c *Client) Incidents(ctx context.Context) ([]incidents.Incident, error) {
	var out []incidents.Incident
	return out, c.do(ctx, http.MethodGet, "/api/v1/incidents", nil, nil, &out)
}

// AllIncidents returns up to limit incidents, open or not, newest first.
func (c *Client) AllIncidents(ctx context.Context, limit int) ([]incidents.Incident, error) {
	var out []incidents.Incident
	q := url.Values{"all": {"1"}, "limit": {strconv.Itoa(limit)}}
	return out, c.do(ctx, http.MethodGet, "/api/v1/incidents", q, nil, &out)
}

// OnCall returns the escalation chain resolved to people now.
func (c *Client) OnCall(ctx context.Context) ([]schedule.Assignment, error) {
	var out []schedule.Assignment
	return out, c.do(ctx, http.MethodGet, "/api/v1/oncall", nil, nil, &out)
}

// Pages returns the last limit pages, newest first.
func (c *Client) Pages(ctx context.Context, limit int) ([]incidents.Page, error) {
	var out []incidents.Page
	return out, c.do(ctx, http.MethodGet, "/api/v1/pages", url.Values{"limit": {strconv.Itoa(limit)}}, nil, &out)
}

// Logs returns up to limit buffered log entries after sequence number after.
func (c *Client) Logs(ctx context.Context, after uint64, limit int) ([]logs.Entry, error) {
	var out []logs.Entry
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(limit)}}
	return out, c.do(ctx, http.MethodGet, "/api/v1/logs", q, nil, &out)
}

// TailLogs returns the newest entries after sequence number after, at most
// limit: a reader that fell behind skips ahead.
func (c *Client) TailLogs(ctx context.Context, after uint64, limit int) ([]logs.Entry, error) {
	var out []logs.Entry
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(limit)}, "tail": {"1"}}
	return out, c.do(ctx, http.MethodGet, "/api/v1/logs", q, nil, &out)
}

// Ack acknowledges incident id as by.
func (c *Client) Ack(ctx context.Context, id int64, by string) error {
	_, err := c.Act(ctx, id, "ack", Action{By: by, Source: "console"})
	return err
}

// Resolve resolves incident id as by.
func (c *Client) Resolve(ctx context.Context, id int64, by string) error {
	_, err := c.Act(ctx, id, "resolve", Action{By: by, Source: "console"})
	return err
}

// Incident returns one incident.
func (c *Client) Incident(ctx context.Context, id int64) (incidents.Incident, error) {
	var out incidents.Incident
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", id), nil, nil, &out)
}

// Action is what an action on an incident carries; each action reads the
// fields it needs (see the server's ActRequest).
type Action struct {
	By       string `json:"by"`
	Source   string `json:"source,omitempty"`
	Why      string `json:"why,omitempty"`
	Text     string `json:"text,omitempty"`
	Public   bool   `json:"public,omitempty"`
	Title    string `json:"title,omitempty"`
	Role     string `json:"role,omitempty"`
	User     string `json:"user,omitempty"`
	Severity string `json:"severity,omitempty"`
	Owner    string `json:"owner,omitempty"`
	Into     int64  `json:"into,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// Act runs action on incident id (ack, escalate, mitigate, resolve,
// reopen, assign, update, note, severity, channel, tasks, merge, or
// "tasks/N/done") and returns the incident after it.
func (c *Client) Act(ctx context.Context, id int64, action string, a Action) (incidents.Incident, error) {
	var out incidents.Incident
	return out, c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/%s", id, action), nil, a, &out)
}

// Declaration is an incident declared by hand (see the server's
// DeclareRequest).
type Declaration struct {
	Title     string `json:"title"`
	Summary   string `json:"summary,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Service   string `json:"service,omitempty"`
	Policy    string `json:"policy,omitempty"`
	NoPage    bool   `json:"no_page,omitempty"`
	Drill     bool   `json:"drill,omitempty"`
	Commander string `json:"commander,omitempty"`
	By        string `json:"by"`
	Source    string `json:"source,omitempty"`
}

// Declare opens an incident by hand.
func (c *Client) Declare(ctx context.Context, d Declaration) (incidents.Incident, error) {
	var out incidents.Incident
	return out, c.do(ctx, http.MethodPost, "/api/v1/incidents", nil, d, &out)
}

// Who asks who is on call at at (zero: now) for a policy, a service's
// policy or schedules (all empty: the main policy).
func (c *Client) Who(ctx context.Context, at time.Time, policy, service string, schedules ...string) (schedule.Who, error) {
	q := url.Values{}
	if !at.IsZero() {
		q.Set("at", at.UTC().Format(time.RFC3339))
	}
	if policy != "" {
		q.Set("policy", policy)
	}
	if service != "" {
		q.Set("service", service)
	}
	for _, s := range schedules {
		q.Add("schedule", s)
	}
	var out schedule.Who
	return out, c.do(ctx, http.MethodGet, "/api/v1/who", q, nil, &out)
}

// Shifts returns who the schedule puts on call at offset over [from, to).
func (c *Client) Shifts(ctx context.Context, name string, from, to time.Time, offset int) ([]schedule.Span, error) {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}, "offset": {strconv.Itoa(offset)}}
	var out []schedule.Span
	return out, c.do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(name)+"/shifts", q, nil, &out)
}

// LogSource reads a server's log buffer as a logs.Source: everything it
// holds, then, when followed, new lines as they arrive (polled every 500ms).
type LogSource struct {
	Client *Client
}

// Name is the server's address.
func (s *LogSource) Name() string { return "oncall " + s.Client.base.Host }

// Stream implements logs.Source.
func (s *LogSource) Stream(ctx context.Context, follow bool, emit func([]logs.Entry) error) error {
	const page = 5000
	var after uint64
	for {
		es, err := s.Client.Logs(ctx, after, page)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(es) > 0 {
			after = es[len(es)-1].Seq
			if err := emit(es); err != nil {
				return err
			}
		}
		if len(es) == page {
			continue
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

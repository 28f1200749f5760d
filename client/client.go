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
	"github.com/oncallhq/oncall/incidents/oncall"
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
func (c *Client) OnCall(ctx context.Context) ([]oncall.Assignment, error) {
	var out []oncall.Assignment
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
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/ack", id), nil, map[string]string{"by": by}, nil)
}

// Resolve resolves incident id as by.
func (c *Client) Resolve(ctx context.Context, id int64, by string) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/resolve", id), nil, map[string]string{"by": by}, nil)
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

package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Loki reads logs from a Grafana Loki HTTP API (the scale path: Loki keeps
// the logs of the whole fleet, oncall queries them).
type Loki struct {
	base   *url.URL
	token  string
	tenant string
	http   *http.Client
}

// NewLoki returns a client for the Loki at baseURL; token, when set, is sent
// as a bearer token and tenant as X-Scope-OrgID.
func NewLoki(baseURL, token, tenant string) (*Loki, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("loki url %q: want http(s)://host[:port]", baseURL)
	}
	return &Loki{base: u, token: token, tenant: tenant, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// lokiResponse is the documented shape of /loki/api/v1/query_range for
// log queries.
type lokiResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// QueryRange runs a LogQL log query over [start, end) and returns up to
// limit entries, oldest first. Stream labels become fields (service from the
// service, app or job label); each line is parsed like a file's.
func (l *Loki) QueryRange(ctx context.Context, logql string, start, end time.Time, limit int) ([]Entry, error) {
	q := url.Values{
		"query":     {logql},
		"start":     {strconv.FormatInt(start.UnixNano(), 10)},
		"end":       {strconv.FormatInt(end.UnixNano(), 10)},
		"limit":     {strconv.Itoa(limit)},
		"direction": {"forward"},
	}
	u := l.base.JoinPath("/loki/api/v1/query_range")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	if l.tenant != "" {
		req.Header.Set("X-Scope-OrgID", l.tenant)
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loki %s: %w", l.base.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("loki %s: %w", l.base.Host, err)
	}
	var r lokiResponse
	if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != http.StatusOK || r.Status != "success" {
		msg := r.Error
		if msg == "" {
			msg = string(body)
			if len(msg) > 200 {
				msg = msg[:200]
			}
		}
		return nil, fmt.Errorf("loki %s: query %q: HTTP %d: %s", l.base.Host, logql, resp.StatusCode, msg)
	}
	if r.Data.ResultType != "streams" {
		return nil, fmt.Errorf("loki %s: query %q is a metric query (%s); want a log query", l.base.Host, logql, r.Data.ResultType)
	}
	var out []Entry
	for _, st := range r.Data.Result {
		out = append(out, streamEntries(st.Stream, st.Values)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// streamEntries turns one Loki stream's [nanoseconds, line] pairs into
// entries: each line is parsed like a file's, and the stream labels become
// fields (service from the service, app or job label).
func streamEntries(stream map[string]string, values [][2]string) []Entry {
	var out []Entry
	for _, v := range values {
		ns, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			continue
		}
		e, _ := ParseLine([]byte(v[1]))
		if e.Time.IsZero() {
			e.Time = time.Unix(0, ns).UTC()
		}
		for k, val := range stream {
			switch {
			case (k == "service" || k == "app" || k == "job" || k == "service_name") && e.Service == "":
				e.Service = val
			case k == "level" && e.Level == LevelUnknown:
				e.Level = ParseLevel(val)
			default:
				if e.Fields == nil {
					e.Fields = map[string]string{}
				}
				if _, ok := e.Fields[k]; !ok {
					e.Fields[k] = val
				}
			}
		}
		e.Source = "loki"
		out = append(out, e)
	}
	return out
}

// lokiTailMessage is the documented shape of a /loki/api/v1/tail frame.
type lokiTailMessage struct {
	Streams []struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	} `json:"streams"`
	DroppedEntries []struct {
		Labels    map[string]string `json:"labels"`
		Timestamp string            `json:"timestamp"`
	} `json:"dropped_entries"`
}

// Tail follows a LogQL query live over Loki's WebSocket tail API from start,
// calling fn with each batch and the number of entries Loki reports it
// dropped (it drops when the client reads too slowly). It returns nil when
// ctx ends or Loki closes the stream normally.
func (l *Loki) Tail(ctx context.Context, logql string, start time.Time, fn func(es []Entry, dropped int) error) error {
	u := l.base.JoinPath("/loki/api/v1/tail")
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.RawQuery = url.Values{"query": {logql}, "start": {strconv.FormatInt(start.UnixNano(), 10)}, "limit": {"1000"}}.Encode()
	h := http.Header{}
	if l.token != "" {
		h.Set("Authorization", "Bearer "+l.token)
	}
	if l.tenant != "" {
		h.Set("X-Scope-OrgID", l.tenant)
	}
	conn, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPHeader: h, HTTPClient: l.http})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("loki %s: tail %q: HTTP %d: %w", l.base.Host, logql, resp.StatusCode, err)
		}
		return fmt.Errorf("loki %s: tail %q: %w", l.base.Host, logql, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	for {
		var msg lokiTailMessage
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if ctx.Err() != nil || websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				return nil
			}
			return fmt.Errorf("loki %s: tail %q: %w", l.base.Host, logql, err)
		}
		var es []Entry
		for _, st := range msg.Streams {
			es = append(es, streamEntries(st.Stream, st.Values)...)
		}
		sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
		if err := fn(es, len(msg.DroppedEntries)); err != nil {
			return err
		}
	}
}

package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// StreamIdle is how long a stream may go without a byte before it is taken
// for dead: the server sends a ping after 15 s of silence.
const StreamIdle = 45 * time.Second

// maxStreamEvent bounds the data of one event (a state of many alerts is
// several MB; this is far beyond any real one).
const maxStreamEvent = 1 << 30

// StreamOptions choose where the log part of a stream starts.
type StreamOptions struct {
	// LogsAfter resumes the logs after this sequence number: a client that
	// reconnects passes the last one it has. Zero starts with LogsBacklog.
	LogsAfter uint64
	// LogsBacklog is how many of the newest buffered lines to start with
	// when LogsAfter is zero (zero: only lines that arrive later; the server
	// caps it at 100,000).
	LogsBacklog int
}

// StreamState is one state event; a nil field did not change.
type StreamState struct {
	// Alerts are the current alerts, as Alerts returns them.
	Alerts *[]alerts.Alert
	// Groups are the dispatch groups, their alerts by fingerprint.
	Groups *[]StreamGroup
	// Incidents are the open incidents, oldest first, as Incidents returns them.
	Incidents *[]incidents.Incident
	// OnCall is the escalation chain, as OnCall returns it.
	OnCall *[]schedule.Assignment
	// Pages are the newest 20 pages, as Pages returns them.
	Pages *[]incidents.Page
	// Ready is the server's readiness report, as Ready returns it.
	Ready *health.Report
	// Rules are the alerting rules, as Rules returns them.
	Rules *[]alerts.Rule
	// Services are the service catalogue.
	Services *[]catalog.Service
	// At is the server's time of the state.
	At time.Time
}

// StreamGroup is one dispatch group of a state event.
type StreamGroup struct {
	// Receiver is the receiver the group notifies.
	Receiver string
	// Key identifies the group within its route.
	Key string
	// Labels are the group's group_by labels.
	Labels labels.Labels
	// Fingerprints identify the group's alerts (alerts.Alert.Fingerprint)
	// among StreamState.Alerts.
	Fingerprints []uint64
}

// UnmarshalJSON reads a group as the stream writes it, fingerprints as 16
// hex digits.
func (g *StreamGroup) UnmarshalJSON(b []byte) error {
	var j struct {
		Receiver     string        `json:"receiver"`
		Key          string        `json:"groupKey"`
		Labels       labels.Labels `json:"labels"`
		Fingerprints []string      `json:"fingerprints"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*g = StreamGroup{Receiver: j.Receiver, Key: j.Key, Labels: j.Labels, Fingerprints: make([]uint64, len(j.Fingerprints))}
	for i, s := range j.Fingerprints {
		fp, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return fmt.Errorf("group %q: fingerprint %q: %w", j.Key, s, err)
		}
		g.Fingerprints[i] = fp
	}
	return nil
}

// StreamEvent is one push: a state change or a batch of log lines.
type StreamEvent struct {
	// State is set for a state event.
	State *StreamState
	// Logs are set for a logs event: new lines in sequence order.
	Logs []logs.Entry
}

// errStreamIdle cancels a stream that went quiet for StreamIdle.
var errStreamIdle = errors.New("stream idle")

// Stream reads the server's stream (GET /api/v1/stream) until ctx ends, the
// connection fails or emit returns an error; it returns that error (nil
// when ctx ended). The first state event has every field set. A stream
// without a byte for StreamIdle is cut and reported as dead; a stream the
// server ends is an error too, so a caller reconnects (with LogsAfter).
// An error answer is an *Error.
func (c *Client) Stream(ctx context.Context, opts StreamOptions, emit func(StreamEvent) error) error {
	q := url.Values{}
	if opts.LogsAfter > 0 {
		q.Set("logs_after", strconv.FormatUint(opts.LogsAfter, 10))
	} else if opts.LogsBacklog > 0 {
		q.Set("logs_backlog", strconv.Itoa(opts.LogsBacklog))
	}
	u := c.base.JoinPath("/api/v1/stream")
	u.RawQuery = q.Encode()

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(StreamIdle, func() { cancel(errStreamIdle) })
	defer idle.Stop()

	req, err := http.NewRequestWithContext(sctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// c.http has an overall timeout, which would cut the stream: the idle
	// timer bounds it instead.
	hc := &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	fail := func(err error) error {
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(context.Cause(sctx), errStreamIdle):
			return fmt.Errorf("oncall server %s: stream: nothing received for %s, the connection is dead", c.base.Host, StreamIdle)
		}
		return fmt.Errorf("oncall server %s: stream: %w", c.base.Host, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		// As do reads an error answer.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return &Error{Status: resp.StatusCode, Msg: errorMessage(b), Body: string(b)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("oncall server %s: stream answered with %q, not text/event-stream", c.base.Host, resp.Header.Get("Content-Type"))
	}
	body := &activeReader{r: resp.Body, active: func() { idle.Reset(StreamIdle) }}
	var emitErr, badEvent error
	err = readEvents(body, func(event string, data []byte) error {
		var ev StreamEvent
		switch event {
		case "state":
			var st streamStateJSON
			if err := json.Unmarshal(data, &st); err != nil {
				badEvent = fmt.Errorf("oncall server %s: stream: bad state event: %w", c.base.Host, err)
				return badEvent
			}
			ev.State = (*StreamState)(&st)
		case "logs":
			if err := json.Unmarshal(data, &ev.Logs); err != nil {
				badEvent = fmt.Errorf("oncall server %s: stream: bad logs event: %w", c.base.Host, err)
				return badEvent
			}
			if len(ev.Logs) == 0 {
				return nil
			}
		default: // an event of a newer server
			return nil
		}
		// The time emit takes is not the server's silence.
		idle.Stop()
		emitErr = emit(ev)
		idle.Reset(StreamIdle)
		return emitErr
	})
	switch {
	case emitErr != nil:
		return emitErr
	case badEvent != nil:
		return badEvent
	case err == nil && ctx.Err() == nil && context.Cause(sctx) == nil:
		return fmt.Errorf("oncall server %s: stream: closed by the server", c.base.Host)
	}
	return fail(err)
}

// streamStateJSON is the wire shape of StreamState.
type streamStateJSON struct {
	Alerts    *[]alerts.Alert        `json:"alerts"`
	Groups    *[]StreamGroup         `json:"groups"`
	Incidents *[]incidents.Incident  `json:"incidents"`
	OnCall    *[]schedule.Assignment `json:"oncall"`
	Pages     *[]incidents.Page      `json:"pages"`
	Ready     *health.Report         `json:"ready"`
	Rules     *[]alerts.Rule         `json:"rules"`
	Services  *[]catalog.Service     `json:"services"`
	At        time.Time              `json:"at"`
}

// activeReader calls active on every read that returns bytes.
type activeReader struct {
	r      io.Reader
	active func()
}

func (a *activeReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.active()
	}
	return n, err
}

// readEvents parses Server-Sent Events from r and calls dispatch with each
// event's type ("message" when unnamed) and data (its data lines joined
// with "\n"). Lines end with LF, CRLF or CR and may be of any length;
// comments and fields other than event and data are ignored; an event
// without data is not dispatched. It returns the first error of r or of
// dispatch, and nil at EOF.
func readEvents(r io.Reader, dispatch func(event string, data []byte) error) error {
	lr := lineReader{br: bufio.NewReaderSize(r, 64<<10)}
	var event string
	var data []byte
	hasData := false
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil // an event not ended by a blank line is dropped
		}
		if err != nil {
			return err
		}
		if len(line) == 0 {
			if hasData {
				if event == "" {
					event = "message"
				}
				if err := dispatch(event, data); err != nil {
					return err
				}
			}
			event, data, hasData = "", data[:0], false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found {
			value = bytes.TrimPrefix(value, []byte{' '})
		}
		switch string(field) {
		case "event":
			event = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			if len(data)+len(value) > maxStreamEvent {
				return fmt.Errorf("an event of more than %d bytes", maxStreamEvent)
			}
			data = append(data, value...)
			hasData = true
		}
	}
}

// lineReader reads lines of any length ended by LF, CRLF or CR.
type lineReader struct {
	br     *bufio.Reader
	line   []byte
	skipLF bool // the last line ended with CR: a LF right after belongs to it
}

// next returns the next line without its end; it is valid until the next
// call. A last line without an end is returned with io.EOF.
func (l *lineReader) next() ([]byte, error) {
	l.line = l.line[:0]
	for {
		if _, err := l.br.Peek(1); err != nil {
			if err == io.EOF && len(l.line) > 0 {
				return l.line, io.EOF
			}
			return nil, err
		}
		buf, _ := l.br.Peek(l.br.Buffered())
		if l.skipLF {
			l.skipLF = false
			if buf[0] == '\n' {
				l.br.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			if len(l.line)+len(buf) > maxStreamEvent {
				return nil, fmt.Errorf("a line of more than %d bytes", maxStreamEvent)
			}
			l.line = append(l.line, buf...)
			l.br.Discard(len(buf))
			continue
		}
		l.line = append(l.line, buf[:i]...)
		l.skipLF = buf[i] == '\r'
		l.br.Discard(i + 1)
		return l.line, nil
	}
}

package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// sseServer answers every stream request with body, then holds the
// connection open until the request ends.
func sseServer(t *testing.T, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/stream" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "wrong request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect streams until want events arrived, then cancels; it returns the
// events and what Stream returned.
func collect(t *testing.T, c *Client, want int) ([]StreamEvent, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []StreamEvent
	err := c.Stream(ctx, StreamOptions{}, func(ev StreamEvent) error {
		got = append(got, ev)
		if len(got) == want {
			cancel()
		}
		return nil
	})
	return got, err
}

// A state event of 10,000 alerts is one data line of several MB.
func TestStreamLargeState(t *testing.T) {
	const n = 10_000
	var b strings.Builder
	b.WriteString(`event: state` + "\n" + `data: {"alerts":[`)
	var fps []string
	for i := range n {
		a := alerts.Alert{Labels: labels.FromStrings("alertname", "Down", "instance", fmt.Sprintf("host-%05d:9100", i), "job", "node", "severity", "page"),
			Annotations: labels.FromStrings("summary", strings.Repeat("the host does not answer ", 10), "runbook", "https://runbooks.example/down"),
			StartsAt:    time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Status: alerts.Status{State: alerts.StateFiring, Receivers: []string{"pager"}}}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(a.AppendJSON(nil))
		fps = append(fps, fmt.Sprintf(`"%016x"`, a.Fingerprint()))
	}
	b.WriteString(`],"groups":[{"receiver":"pager","groupKey":"{}:{}","labels":{"job":"node"},"fingerprints":[` + strings.Join(fps, ",") + `]}]`)
	b.WriteString(`,"at":"2026-11-23T10:00:01.5Z"}` + "\n\n")
	if b.Len() < 4<<20 {
		t.Fatalf("the event is only %d bytes", b.Len())
	}
	got, err := collect(t, sseServer(t, b.String()), 1)
	if err != nil || len(got) != 1 || got[0].State == nil {
		t.Fatalf("got %d events, %v", len(got), err)
	}
	st := got[0].State
	if st.Alerts == nil || len(*st.Alerts) != n || (*st.Alerts)[n-1].Labels.Get("instance") != "host-09999:9100" || st.Incidents != nil {
		t.Fatalf("alerts: %v", st.Alerts != nil)
	}
	gs := *st.Groups
	if len(gs) != 1 || len(gs[0].Fingerprints) != n || gs[0].Fingerprints[n-1] != (*st.Alerts)[n-1].Fingerprint() || gs[0].Labels.Get("job") != "node" {
		t.Fatalf("groups: %d", len(gs))
	}
	if !st.At.Equal(time.Date(2026, 11, 23, 10, 0, 1, 5e8, time.UTC)) {
		t.Fatalf("at %v", st.At)
	}
}

// Server-Sent Events as the standard has them: LF, CRLF and CR line ends,
// data of several lines joined with "\n", comments, fields without a value,
// events of other types and events without data, which are skipped.
func TestStreamParsesEvents(t *testing.T) {
	body := ": hello\n\n" +
		"retry: 1000\r\nevent: state\r\ndata: {\"rules\":[{\"name\":\"A\"}],\r\ndata:\"at\":\"2026-11-23T10:00:00Z\"}\r\n\r\n" +
		"event: future\ndata: {}\n\n" +
		"event: logs\rdata: [{\"seq\":7,\"message\":\"x\"}]\r\r" +
		"event: state\ndata\n\n" + // empty data: decodes as no JSON
		"event: logs\n\n" + // no data: nothing
		"id: 3\nevent: logs\ndata: [{\"seq\":8,\"message\":\"y\"},\ndata: {\"seq\":9,\"message\":\"z\"}]\n\n"
	got, err := collect(t, sseServer(t, body), 3)
	// The empty state is a bad event: the stream stops there.
	if err == nil || !strings.Contains(err.Error(), "bad state event") || len(got) != 2 {
		t.Fatalf("events %+v, %v", got, err)
	}
	if got[0].State == nil || got[0].State.Rules == nil || (*got[0].State.Rules)[0].Name != "A" || got[0].State.Alerts != nil ||
		got[0].State.At.Hour() != 10 {
		t.Fatalf("state %+v", got[0].State)
	}
	if len(got[1].Logs) != 1 || got[1].Logs[0].Seq != 7 {
		t.Fatalf("logs %+v", got[1])
	}

	got, err = collect(t, sseServer(t, strings.Replace(body, "event: state\ndata\n\n", "", 1)), 3)
	if err != nil || len(got) != 3 || len(got[2].Logs) != 2 || got[2].Logs[1].Message != "z" {
		t.Fatalf("events %+v, %v", got, err)
	}
}

// What emit returns ends the stream; an error answer is an *Error; a
// stream the server ends is an error, so the caller reconnects.
func TestStreamErrors(t *testing.T) {
	c := sseServer(t, "event: logs\ndata: [{\"seq\":1}]\n\n")
	stop := errors.New("stop")
	if err := c.Stream(t.Context(), StreamOptions{}, func(StreamEvent) error { return stop }); err != stop {
		t.Fatalf("emit's error: %v", err)
	}

	bad, _ := New(c.URL(), "wrong")
	var ce *Error
	if err := bad.Stream(t.Context(), StreamOptions{}, func(StreamEvent) error { return nil }); !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || !strings.Contains(ce.Msg, "wrong request") {
		t.Fatalf("error answer: %v", err)
	}

	var mu sync.Mutex
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		query = r.URL.RawQuery
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		io.WriteString(w, "event: logs\ndata: [{\"seq\":1}]\n\n")
	}))
	defer srv.Close()
	c, _ = New(srv.URL, "")
	n := 0
	err := c.Stream(t.Context(), StreamOptions{LogsAfter: 41, LogsBacklog: 10}, func(StreamEvent) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "closed by the server") || n != 1 {
		t.Fatalf("ended stream: %v after %d events", err, n)
	}
	sent := func() string {
		mu.Lock()
		defer mu.Unlock()
		return query
	}
	if q := sent(); q != "logs_after=41" {
		t.Fatalf("query %q", q)
	}
	c.Stream(t.Context(), StreamOptions{LogsBacklog: 10}, func(StreamEvent) error { return nil })
	if q := sent(); q != "logs_backlog=10" {
		t.Fatalf("query %q", q)
	}
}

// pipeTransport answers with a stream whose bytes the test sends; reads end
// when the request is cancelled, as a real connection's do.
type pipeTransport struct{ bytes chan string }

func (p pipeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: &pipeBody{ctx: r.Context(), in: p.bytes}, Request: r}, nil
}

type pipeBody struct {
	ctx context.Context
	in  chan string
	buf string
}

func (b *pipeBody) Read(p []byte) (int, error) {
	if b.buf == "" {
		select {
		case s := <-b.in:
			b.buf = s
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *pipeBody) Close() error { return nil }

// A stream is dead after 45 s without a byte, however long it lived; pings
// keep it alive, and no overall timeout cuts it.
func TestStreamIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := New("http://oncall.test", "")
		in := make(chan string)
		c.http.Transport = pipeTransport{in}
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- c.Stream(t.Context(), StreamOptions{}, func(StreamEvent) error { return nil }) }()
		// Two minutes of pings every 15 s: alive, past the client's 30 s timeout.
		for range 8 {
			time.Sleep(15 * time.Second)
			select {
			case in <- ": ping\n\n":
			case err := <-done:
				t.Fatalf("ended after %s of pings: %v", time.Since(start), err)
			}
		}
		last := time.Now()
		time.Sleep(StreamIdle - time.Millisecond)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("ended %s after the last byte: %v", time.Since(last), err)
		default:
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "dead") || time.Since(start) != 2*time.Minute+StreamIdle {
				t.Fatalf("after %s: %v", time.Since(start), err)
			}
		default:
			t.Fatalf("alive %s after the last byte", time.Since(last))
		}
	})
}

// Cancelling the context ends a quiet stream with nil.
func TestStreamCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := New("http://oncall.test", "")
		c.http.Transport = pipeTransport{make(chan string)}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Stream(ctx, StreamOptions{}, func(StreamEvent) error { return nil }) }()
		time.Sleep(10 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("cancelled: %v", err)
		}
	})
}

// The time emit takes is not silence of the server.
func TestStreamSlowEmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := New("http://oncall.test", "")
		in := make(chan string)
		c.http.Transport = pipeTransport{in}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		n := 0
		go func() {
			done <- c.Stream(ctx, StreamOptions{}, func(StreamEvent) error {
				n++
				time.Sleep(2 * time.Minute) // a console busy drawing
				return nil
			})
		}()
		in <- "event: logs\ndata: [{\"seq\":1}]\n\n"
		time.Sleep(2*time.Minute + StreamIdle - time.Second)
		select {
		case in <- ": ping\n\n":
		case err := <-done:
			t.Fatalf("ended while emit ran: %v", err)
		}
		cancel()
		if err := <-done; err != nil || n != 1 {
			t.Fatalf("%d events, %v", n, err)
		}
	})
}

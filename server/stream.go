package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// The stream's defaults and bounds.
const (
	// defaultStreamInterval is how often the shared state is rebuilt.
	defaultStreamInterval = time.Second
	// defaultLogInterval is how often each subscriber polls the log buffer.
	defaultLogInterval = 100 * time.Millisecond
	// streamPing is the silence after which a comment keeps the connection
	// visibly alive.
	streamPing = 15 * time.Second
	// streamWriteTimeout bounds each write to a subscriber that stopped
	// reading.
	streamWriteTimeout = 30 * time.Second
	// streamLogBatch bounds the log entries of one event.
	streamLogBatch = 5000
	// maxLogBacklog bounds logs_backlog.
	maxLogBacklog = 100_000
	// streamPages is how many of the newest pages the state carries.
	streamPages = 20
)

// stateKeys are the keys of a state event, in the order they are written;
// "at" comes last and is not among them: it never counts as a change.
var stateKeys = [...]string{"alerts", "groups", "incidents", "oncall", "pages", "ready", "rules", "services"}

// snapshot is the state encoded once per interval and shared by every
// subscriber: each key's JSON and its digest, which a subscriber compares
// with the digest of what it sent last.
type snapshot struct {
	at   []byte // `"<RFC 3339 nano>"`
	keys [len(stateKeys)]snapKey
}

type snapKey struct {
	json []byte
	sum  [sha256.Size]byte
	err  error // the key could not be built: it is left out
}

// buildSnapshot encodes every key of the state at one instant, each with the
// code of the endpoint that serves it alone.
func (a *api) buildSnapshot(ctx context.Context) *snapshot {
	now := a.o.Now()
	s := &snapshot{at: fmt.Appendf(nil, "%q", now.Format(time.RFC3339Nano))}
	builders := [len(stateKeys)]func() ([]byte, error){
		func() ([]byte, error) { return a.alertsJSON(ctx, now) },
		func() ([]byte, error) {
			gs, err := a.o.Pipeline.Groups(ctx, now)
			if err != nil {
				return nil, err
			}
			return appendGroups(nil, gs), nil
		},
		func() ([]byte, error) {
			return marshal(a.listIncidents(ctx, store.IncidentFilter{OpenOnly: true}))
		},
		func() ([]byte, error) { return json.Marshal(a.onCallAt(now)) },
		func() ([]byte, error) { return marshal(a.recentPages(ctx, streamPages)) },
		func() ([]byte, error) {
			// A passing check's reason says how long ago it passed, which
			// changes every second: the stream sends only that it passes.
			r := a.readiness(ctx, now)
			for i := range r.Checks {
				if r.Checks[i].OK {
					r.Checks[i].Reason = "ok"
				}
			}
			return json.Marshal(r)
		},
		func() ([]byte, error) { return json.Marshal(a.ruleList()) },
		func() ([]byte, error) { return json.Marshal(nonNil(a.o.Catalog.Services)) },
	}
	for i, build := range builders {
		b, err := safely(build)
		if err != nil {
			s.keys[i].err = err
			continue
		}
		s.keys[i] = snapKey{json: b, sum: sha256.Sum256(b)}
	}
	return s
}

// safely runs build, turning a panic into an error: the hub's goroutine is
// not a handler, which net/http would recover.
func safely(build func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return build()
}

func marshal[T any](v T, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// appendGroups writes the dispatch groups without their alerts' bodies:
// receiver, key, labels and the fingerprints of the alerts, which the
// "alerts" key carries in full.
func appendGroups(b []byte, gs []alerts.Group) []byte {
	b = append(b, '[')
	for i := range gs {
		g := &gs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"receiver":`...)
		b = alerts.AppendJSONString(b, g.Receiver)
		b = append(b, `,"groupKey":`...)
		b = alerts.AppendJSONString(b, g.Key)
		b = append(b, `,"labels":`...)
		b = alerts.AppendLabelsJSON(b, g.Labels)
		b = append(b, `,"fingerprints":[`...)
		for j := range g.Alerts {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `"%016x"`, g.Alerts[j].Fingerprint())
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

// hub builds the state once per interval while anyone subscribes and hands
// the newest snapshot to every subscriber. Its one goroutine runs from the
// first subscription to the last unsubscription, which waits for it.
type hub struct {
	interval time.Duration
	build    func(context.Context) *snapshot
	logger   func(key string, err error)

	mu     sync.Mutex
	subs   map[chan *snapshot]struct{}
	latest *snapshot
	stop   context.CancelFunc
	done   chan struct{}
	failed [len(stateKeys)]string // the last error of each key, logged once
}

// subscribe returns a channel that holds the newest snapshot not yet
// received (the current one at once, if there is one) and the function that
// ends the subscription.
func (h *hub) subscribe() (<-chan *snapshot, func()) {
	ch := make(chan *snapshot, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	if h.latest != nil {
		ch <- h.latest
	}
	if h.stop == nil {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		h.stop, h.done = stop, done
		go h.run(ctx, done)
	}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		var wait chan struct{}
		if len(h.subs) == 0 && h.stop != nil {
			h.stop()
			wait = h.done
			h.stop, h.done, h.latest = nil, nil, nil
		}
		h.mu.Unlock()
		if wait != nil {
			<-wait
		}
	}
}

func (h *hub) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		s := h.build(ctx)
		h.mu.Lock()
		if ctx.Err() != nil {
			h.mu.Unlock()
			return
		}
		h.report(s)
		h.latest = s
		for ch := range h.subs {
			select { // the subscriber has not taken the previous one: replace it
			case <-ch:
			default:
			}
			ch <- s
		}
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// report logs a key that starts failing, fails differently or recovers.
func (h *hub) report(s *snapshot) {
	for i, k := range s.keys {
		msg := ""
		if k.err != nil {
			msg = k.err.Error()
		}
		if msg != h.failed[i] {
			h.failed[i] = msg
			h.logger(stateKeys[i], k.err)
		}
	}
}

// streamHandler serves GET /api/v1/stream: Server-Sent Events pushing the
// console's state ("state": the keys that changed) and new log lines
// ("logs"), with a ": ping" comment after 15 s of silence.
func (a *api) streamHandler() http.HandlerFunc {
	interval, logEvery := a.o.StreamInterval, a.o.LogInterval
	if interval <= 0 {
		interval = defaultStreamInterval
	}
	if logEvery <= 0 {
		logEvery = defaultLogInterval
	}
	h := &hub{interval: interval, build: a.buildSnapshot, subs: map[chan *snapshot]struct{}{},
		logger: func(key string, err error) {
			if err != nil {
				a.o.Logger.Warn("stream: state key unavailable", "key", key, "err", err)
			} else {
				a.o.Logger.Info("stream: state key available again", "key", key)
			}
		}}
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var after uint64
		var backlog int
		if v := q.Get("logs_after"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("logs_after %q: not a sequence number", v))
				return
			}
			after = n
		}
		if v := q.Get("logs_backlog"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Errorf("logs_backlog %q: not a count of lines", v))
				return
			}
			backlog = min(n, maxLogBacklog)
		}
		s := &subscriber{w: w, rc: http.NewResponseController(w), logs: a.o.Logs}
		// The server's WriteTimeout would cut the stream: each write gets its
		// own deadline instead.
		if err := s.rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		if err := s.rc.Flush(); err != nil {
			return
		}
		s.serve(r.Context(), a.o.Done, h, after, backlog, logEvery)
	}
}

// subscriber is one stream: what it sent last of each key, and where its
// logs are.
type subscriber struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	logs   LogReader
	sent   [len(stateKeys)][sha256.Size]byte // digests of what was sent
	has    [len(stateKeys)]bool
	cursor uint64
	buf    []byte
}

func (s *subscriber) serve(ctx context.Context, done <-chan struct{}, h *hub, after uint64, backlog int, logEvery time.Duration) {
	states, unsubscribe := h.subscribe()
	defer unsubscribe()
	ping := time.NewTimer(streamPing)
	defer ping.Stop()
	var logTick <-chan time.Time
	if s.logs != nil {
		if err := s.startLogs(after, backlog); err != nil {
			return
		}
		t := time.NewTicker(logEvery)
		defer t.Stop()
		logTick = t.C
	}
	for {
		var sent bool
		var err error
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case snap := <-states:
			sent, err = s.sendState(snap)
		case <-logTick:
			sent, err = s.sendLogs()
		case <-ping.C:
			err = s.write([]byte(": ping\n\n"))
			ping.Reset(streamPing)
		}
		if err != nil {
			return
		}
		if sent {
			ping.Reset(streamPing)
		}
	}
}

// startLogs places the log cursor: after the given sequence number, else
// after the newest backlog lines, which it sends.
func (s *subscriber) startLogs(after uint64, backlog int) error {
	if after > 0 {
		s.cursor = after
		_, err := s.sendLogs()
		return err
	}
	if backlog == 0 {
		if newest := s.logs.Tail(0, 1); len(newest) > 0 {
			s.cursor = newest[len(newest)-1].Seq
		}
		return nil
	}
	es := s.logs.Tail(0, backlog)
	for len(es) > 0 {
		n := min(len(es), streamLogBatch)
		if err := s.writeLogs(es[:n]); err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

// sendLogs sends the lines after the cursor, in events of at most
// streamLogBatch, and at most maxLogBacklog lines a poll.
func (s *subscriber) sendLogs() (sent bool, err error) {
	for range maxLogBacklog / streamLogBatch {
		es := s.logs.After(s.cursor, streamLogBatch)
		if len(es) == 0 {
			return sent, nil
		}
		if err := s.writeLogs(es); err != nil {
			return sent, err
		}
		sent = true
		if len(es) < streamLogBatch {
			return sent, nil
		}
	}
	return sent, nil
}

func (s *subscriber) writeLogs(es []logs.Entry) error {
	b, err := json.Marshal(es)
	if err != nil {
		return err
	}
	s.cursor = es[len(es)-1].Seq
	s.buf = append(append(append(s.buf[:0], "event: logs\ndata: "...), b...), "\n\n"...)
	return s.write(s.buf)
}

// sendState sends the keys of snap whose JSON differs from what this
// subscriber was sent last (all of them the first time), with "at"; nothing
// when only "at" changed.
func (s *subscriber) sendState(snap *snapshot) (sent bool, err error) {
	parts := [][]byte{[]byte("event: state\ndata: {")}
	for i := range snap.keys {
		k := &snap.keys[i]
		if k.err != nil || (s.has[i] && s.sent[i] == k.sum) {
			continue
		}
		parts = append(parts, []byte(`"`+stateKeys[i]+`":`), k.json, []byte{','})
	}
	if len(parts) == 1 {
		return false, nil
	}
	parts = append(parts, []byte(`"at":`), snap.at, []byte("}\n\n"))
	if err := s.write(parts...); err != nil {
		return false, err
	}
	for i := range snap.keys {
		if snap.keys[i].err == nil {
			s.sent[i], s.has[i] = snap.keys[i].sum, true
		}
	}
	return true, nil
}

// write writes parts within streamWriteTimeout and flushes them.
func (s *subscriber) write(parts ...[]byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	for _, p := range parts {
		if _, err := s.w.Write(p); err != nil {
			return err
		}
	}
	return s.rc.Flush()
}

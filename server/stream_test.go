package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// streamFixture is the fixture's store and pipeline behind a handler with a
// log buffer, rules and a clock safe to read from the stream's goroutines.
type streamFixture struct {
	*fixture
	h     http.Handler
	ring  *logs.Ring
	calls atomic.Int64  // Pipeline.Alerts calls
	done  chan struct{} // Options.Done: closed at shutdown

	mu    sync.Mutex
	clock time.Time
	ticks time.Duration
}

// countingPipeline counts how often the state is read.
type countingPipeline struct {
	server.Pipeline
	n *atomic.Int64
}

func (p countingPipeline) Alerts(ctx context.Context, now time.Time) ([]alerts.Alert, error) {
	p.n.Add(1)
	return p.Pipeline.Alerts(ctx, now)
}

var streamRules = []alerts.Rule{{Name: "Down", Expr: "up == 0", For: time.Minute, Group: "g", File: "rules.yml", Line: 3}}

func setupStream(t *testing.T) *streamFixture {
	t.Helper()
	return setupStreamDone(t, nil)
}

// setupStreamDone is setupStream with Options.Done: a channel made outside
// a synctest bubble must not be, as waiting on it inside one never
// settles.
func setupStreamDone(t *testing.T, done chan struct{}) *streamFixture {
	t.Helper()
	sf := &streamFixture{fixture: setup(t, "s3cret"), ring: logs.NewRing(0), clock: t0, done: done}
	rc, err := routing.Parse("am.yml", []byte(amYAML))
	if err != nil {
		t.Fatal(err)
	}
	sf.h = server.Handler(server.Options{
		Pipeline: countingPipeline{sf.p, &sf.calls}, Store: sf.st, Routing: rc, Source: &source{}, Token: "s3cret",
		Logs: sf.ring, Rules: func() []alerts.Rule { return streamRules }, Now: sf.now, Done: sf.done,
		Incidents: fixtureSettings(), OnCallPolicy: "default",
	})
	return sf
}

// now moves a nanosecond a call, so every snapshot has its own "at", while
// the readiness reasons ("ok 0s ago") stay put.
func (sf *streamFixture) now() time.Time {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.ticks++
	return sf.clock.Add(sf.ticks)
}

func (sf *streamFixture) stepAt(at time.Time) {
	sf.step(at)
	sf.mu.Lock()
	sf.clock, sf.ticks = at, 0
	sf.mu.Unlock()
}

// call serves one ordinary request in-process.
func (sf *streamFixture) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Content-Type", "application/json")
	sf.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// sseRecorder is an in-memory ResponseWriter and Flusher: only flushed
// bytes count as sent.
type sseRecorder struct {
	mu      sync.Mutex
	header  http.Header
	code    int
	pending bytes.Buffer
	flushed bytes.Buffer
}

func (r *sseRecorder) Header() http.Header { return r.header }
func (r *sseRecorder) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.code == 0 {
		r.code = code
	}
}
func (r *sseRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending.Write(b)
}
func (r *sseRecorder) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending.WriteTo(&r.flushed)
}

type sseEvent struct {
	name string // "ping" for the comment
	data string
}

// take returns the complete events flushed since the last call.
func (r *sseRecorder) take(t *testing.T) []sseEvent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sseEvent
	for {
		text := r.flushed.String()
		block, _, ok := strings.Cut(text, "\n\n")
		if !ok {
			return out
		}
		r.flushed.Next(len(block) + 2)
		var ev sseEvent
		for line := range strings.SplitSeq(block, "\n") {
			switch {
			case line == ": ping":
				ev.name = "ping"
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if ev.data != "" {
					t.Fatalf("an event of several data lines: %q", block)
				}
				ev.data = strings.TrimPrefix(line, "data: ")
			default:
				t.Fatalf("unexpected line %q in %q", line, block)
			}
		}
		out = append(out, ev)
	}
}

// open starts a stream request; closing cancels its context and waits for
// the handler to return (at the latest when the test ends, so a failed test
// reports its failure rather than a blocked bubble).
func (sf *streamFixture) open(t *testing.T, query string) (rec *sseRecorder, closeStream func()) {
	ctx, cancel := context.WithCancel(context.Background())
	rec = &sseRecorder{header: http.Header{}}
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	done := make(chan struct{})
	go func() {
		defer close(done)
		sf.h.ServeHTTP(rec, req)
	}()
	closeStream = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(closeStream)
	return rec, closeStream
}

// stateKeys returns the keys of a state event, sorted.
func stateKeys(t *testing.T, ev sseEvent) (map[string]json.RawMessage, []string) {
	t.Helper()
	if ev.name != "state" {
		t.Fatalf("event %q, want state", ev.name)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		t.Fatalf("state %q: %v", ev.data, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m, keys
}

func onlyStates(t *testing.T, evs []sseEvent) []sseEvent {
	t.Helper()
	for _, ev := range evs {
		if ev.name != "state" {
			t.Fatalf("events %v: want only state events", evs)
		}
	}
	return evs
}

// The state part of the stream: the first event has every key, each as the
// endpoint serving it alone writes it; then only what changed, nothing when
// nothing did (a ping after 15 s of silence), and the handler returns when
// the request ends.
func TestStreamState(t *testing.T) {
	sf := setupStream(t)
	synctest.Test(t, func(t *testing.T) {
		rec, closeStream := sf.open(t, "")
		synctest.Wait()
		if rec.code != http.StatusOK || rec.header.Get("Content-Type") != "text/event-stream" || rec.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("answer %d %v", rec.code, rec.header)
		}
		evs := onlyStates(t, rec.take(t))
		if len(evs) != 1 {
			t.Fatalf("first events %v, want one state", evs)
		}
		first, keys := stateKeys(t, evs[0])
		if want := []string{"alerts", "at", "groups", "incidents", "oncall", "pages", "ready", "rules", "services"}; !slices.Equal(keys, want) {
			t.Fatalf("first state keys %v, want %v", keys, want)
		}
		for key, path := range map[string]string{"alerts": "/api/v1/alerts", "incidents": "/api/v1/incidents", "oncall": "/api/v1/oncall",
			"pages": "/api/v1/pages?limit=20", "rules": "/api/v1/rules"} {
			_, body := sf.call(t, "GET", path, "")
			if string(first[key]) != strings.TrimSuffix(body, "\n") {
				t.Errorf("%s = %s, GET %s = %s", key, first[key], path, body)
			}
		}
		// Readiness as /-/ready says it, but a passing check only says
		// "ok": its age would change the key every second.
		_, body := sf.call(t, "GET", "/-/ready", "")
		var want, got health.Report
		json.Unmarshal([]byte(body), &want)
		json.Unmarshal(first["ready"], &got)
		for i := range want.Checks {
			if want.Checks[i].OK {
				want.Checks[i].Reason = "ok"
			}
		}
		if !reflect.DeepEqual(got, want) || len(got.Checks) == 0 {
			t.Errorf("ready = %s, /-/ready = %s", first["ready"], body)
		}
		if string(first["rules"]) == "[]" {
			t.Errorf("rules empty: %s", first["rules"])
		}

		// Nothing changes: no state event, a ping 15 s after the last send.
		time.Sleep(15*time.Second - time.Millisecond)
		synctest.Wait()
		if evs := rec.take(t); len(evs) != 0 {
			t.Fatalf("nothing changed, sent %v", evs)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if evs := rec.take(t); len(evs) != 1 || evs[0].name != "ping" {
			t.Fatalf("after 15 s of silence %v, want a ping", evs)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if evs := rec.take(t); len(evs) != 1 || evs[0].name != "ping" {
			t.Fatalf("after 30 s of silence %v, want a second ping", evs)
		}

		// An alert arrives and the pipeline steps: alerts and groups change
		// (and the incident it opens, its page), on-call and rules do not.
		if code, body := sf.call(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm", "severity", "page")+"]"); code != 200 {
			t.Fatalf("post: %d %s", code, body)
		}
		sf.stepAt(t0.Add(time.Second))
		time.Sleep(time.Second)
		synctest.Wait()
		evs = onlyStates(t, rec.take(t))
		if len(evs) != 1 {
			t.Fatalf("after an alert %v, want one state event", evs)
		}
		m, keys := stateKeys(t, evs[0])
		for _, k := range []string{"alerts", "groups", "incidents", "pages", "at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("after an alert, no %q in %v", k, keys)
			}
		}
		for _, k := range []string{"oncall", "rules"} {
			if _, ok := m[k]; ok {
				t.Errorf("after an alert, %q sent again though unchanged", k)
			}
		}
		var as []alerts.Alert
		if err := json.Unmarshal(m["alerts"], &as); err != nil || len(as) != 1 || as[0].Name() != "Down" {
			t.Fatalf("alerts %s: %v", m["alerts"], err)
		}
		var gs []struct {
			Receiver     string            `json:"receiver"`
			Key          string            `json:"groupKey"`
			Labels       map[string]string `json:"labels"`
			Fingerprints []string          `json:"fingerprints"`
		}
		if err := json.Unmarshal(m["groups"], &gs); err != nil || len(gs) != 1 || gs[0].Receiver != "pager" || gs[0].Labels["service"] != "mm" ||
			gs[0].Key == "" || !slices.Equal(gs[0].Fingerprints, []string{fmt.Sprintf("%016x", as[0].Fingerprint())}) {
			t.Fatalf("groups %s: %v", m["groups"], err)
		}
		var at time.Time
		if err := json.Unmarshal(m["at"], &at); err != nil || at.Before(t0.Add(time.Second)) || at.Nanosecond() == 0 {
			t.Fatalf("at %s: %v", m["at"], err)
		}

		// A few more intervals with only "at" moving: nothing.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if evs := rec.take(t); len(evs) != 0 {
			t.Fatalf("only the time moved, sent %v", evs)
		}

		// Acknowledging the incident changes the incidents alone.
		var incs []struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(m["incidents"], &incs)
		if len(incs) != 1 {
			t.Fatalf("incidents %s", m["incidents"])
		}
		if code, body := sf.call(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", incs[0].ID), `{"by":"alice"}`); code != 200 {
			t.Fatalf("ack: %d %s", code, body)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		evs = onlyStates(t, rec.take(t))
		if len(evs) != 1 {
			t.Fatalf("after an ack %v, want one state event", evs)
		}
		m, keys = stateKeys(t, evs[0])
		if !slices.Equal(keys, []string{"at", "incidents"}) || !strings.Contains(string(m["incidents"]), `"alice"`) {
			t.Fatalf("after an ack: %v %s", keys, m["incidents"])
		}

		// A second subscriber starts with everything, the first gets nothing.
		rec2, closeStream2 := sf.open(t, "")
		synctest.Wait()
		if evs := onlyStates(t, rec2.take(t)); len(evs) != 1 {
			t.Fatalf("second subscriber: %v", evs)
		} else if _, keys := stateKeys(t, evs[0]); len(keys) != 9 {
			t.Fatalf("second subscriber's first state: %v", keys)
		}
		if evs := rec.take(t); len(evs) != 0 {
			t.Fatalf("first subscriber got %v", evs)
		}
		closeStream2()
		closeStream() // returns: the handler ended with its request
	})
}

// The state is built once per interval however many subscribe, and not at
// all while no one does.
func TestStreamSharesTheState(t *testing.T) {
	sf := setupStream(t)
	synctest.Test(t, func(t *testing.T) {
		var recs []*sseRecorder
		var closers []func()
		for range 5 {
			rec, c := sf.open(t, "")
			recs, closers = append(recs, rec), append(closers, c)
			time.Sleep(300 * time.Millisecond)
		}
		synctest.Wait()
		start := sf.calls.Load()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := sf.calls.Load() - start; n > 11 {
			t.Errorf("5 subscribers for 10 intervals read the alerts %d times, want at most 11", n)
		}
		for i, rec := range recs {
			if evs := rec.take(t); len(evs) == 0 || evs[0].name != "state" {
				t.Errorf("subscriber %d: %v", i, evs)
			}
		}
		for _, c := range closers {
			c()
		}
		idle := sf.calls.Load()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := sf.calls.Load(); n != idle {
			t.Errorf("without subscribers, the state was read %d times", n-idle)
		}
		// A new subscriber gets a fresh state at once.
		rec, c := sf.open(t, "")
		synctest.Wait()
		if evs := rec.take(t); len(evs) != 1 || evs[0].name != "state" || sf.calls.Load() != idle+1 {
			t.Errorf("resubscribed: %v after %d reads", evs, sf.calls.Load()-idle)
		}
		c()
	})
}

// logSeqs returns the sequence numbers of the logs events, one slice each.
func logSeqs(t *testing.T, evs []sseEvent) [][]uint64 {
	t.Helper()
	var out [][]uint64
	for _, ev := range evs {
		if ev.name != "logs" {
			continue
		}
		var es []logs.Entry
		if err := json.Unmarshal([]byte(ev.data), &es); err != nil {
			t.Fatalf("logs %q: %v", ev.data, err)
		}
		seqs := make([]uint64, len(es))
		for i, e := range es {
			seqs[i] = e.Seq
			if e.Message != fmt.Sprintf("line %d", e.Seq) {
				t.Fatalf("entry %d: %+v", e.Seq, e)
			}
		}
		out = append(out, seqs)
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func (sf *streamFixture) addLines(n int) {
	for range n {
		sf.ring.Add(logs.Entry{Message: fmt.Sprintf("line %d", sf.ring.Len()+1)})
	}
}

// The log part: a backlog of the newest lines, then every new line in
// order, at most 5000 an event, polled every 100 ms; a reconnecting client
// resumes after the last line it has.
func TestStreamLogs(t *testing.T) {
	sf := setupStream(t)
	sf.addLines(10)
	synctest.Test(t, func(t *testing.T) {
		rec, closeStream := sf.open(t, "?logs_backlog=3")
		synctest.Wait()
		if got := logSeqs(t, rec.take(t)); len(got) != 1 || !slices.Equal(got[0], []uint64{8, 9, 10}) {
			t.Fatalf("backlog of 3: %v", got)
		}
		sf.addLines(2)
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := logSeqs(t, rec.take(t)); len(got) != 1 || !slices.Equal(got[0], []uint64{11, 12}) {
			t.Fatalf("two new lines: %v", got)
		}
		sf.addLines(12_000) // 13…12012
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		got := logSeqs(t, rec.take(t))
		if len(got) != 3 || len(got[0]) != 5000 || len(got[1]) != 5000 || !slices.Equal(slices.Concat(got...), seqRange(13, 12_012)) {
			t.Fatalf("12000 new lines in events of %d…", len(got))
		}
		closeStream()

		// Resuming after 12010.
		rec, closeStream = sf.open(t, "?logs_after=12010&logs_backlog=5")
		synctest.Wait()
		if got := logSeqs(t, rec.take(t)); len(got) != 1 || !slices.Equal(got[0], []uint64{12_011, 12_012}) {
			t.Fatalf("resumed after 12010: %v", got)
		}
		closeStream()

		// No backlog: only lines that arrive later.
		rec, closeStream = sf.open(t, "?logs_after=0")
		synctest.Wait()
		if got := logSeqs(t, rec.take(t)); len(got) != 0 {
			t.Fatalf("without a backlog: %v", got)
		}
		sf.addLines(1)
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := logSeqs(t, rec.take(t)); len(got) != 1 || !slices.Equal(got[0], []uint64{12_013}) {
			t.Fatalf("a new line: %v", got)
		}
		closeStream()

		// A backlog beyond the cap is the cap; beyond the buffer, all of it.
		rec, closeStream = sf.open(t, "?logs_backlog=99999999")
		synctest.Wait()
		got = logSeqs(t, rec.take(t))
		if len(got) != 3 || !slices.Equal(slices.Concat(got...), seqRange(1, 12_013)) {
			t.Fatalf("whole buffer in %d events", len(got))
		}
		closeStream()
	})
}

// failingPages is a store whose outbox cannot be read.
type failingPages struct{ store.Store }

func (failingPages) Messages(context.Context, store.MessageFilter) ([]notify.Message, error) {
	return nil, errors.New("disk on fire")
}

// A key that cannot be built (here the pages, from a store that cannot
// read its outbox) is left out; the rest of the state still flows.
func TestStreamKeyFailing(t *testing.T) {
	sf := setupStream(t)
	rc, _ := routing.Parse("am.yml", []byte(amYAML))
	sf.h = server.Handler(server.Options{Pipeline: sf.p, Store: failingPages{sf.st}, Routing: rc, Source: &source{}, Token: "s3cret", Now: sf.now})
	synctest.Test(t, func(t *testing.T) {
		rec, closeStream := sf.open(t, "")
		synctest.Wait()
		evs := onlyStates(t, rec.take(t))
		if len(evs) != 1 {
			t.Fatalf("events %v", evs)
		}
		if _, keys := stateKeys(t, evs[0]); !slices.Equal(keys, []string{"alerts", "at", "groups", "incidents", "oncall", "ready", "rules", "services"}) {
			t.Fatalf("keys %v", keys)
		}
		if code, body := sf.call(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm")+"]"); code != 200 {
			t.Fatalf("post: %d %s", code, body)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if evs := onlyStates(t, rec.take(t)); len(evs) != 1 || !strings.Contains(evs[0].data, `"alerts":[{`) {
			t.Fatalf("after an alert: %v", evs)
		}
		closeStream()
	})
}

func TestStreamBadParameters(t *testing.T) {
	sf := setupStream(t)
	for _, q := range []string{"logs_after=x", "logs_after=-1", "logs_backlog=-5", "logs_backlog=1.5", "logs_backlog=x"} {
		code, body := sf.call(t, "GET", "/api/v1/stream?"+q, "")
		var eb server.ErrorBody
		if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &eb) != nil || eb.Error == "" {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	rec := httptest.NewRecorder()
	sf.h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/stream", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", rec.Code)
	}
}

// The real client over a real connection: the first state, then a log line
// written after it; a wrong token; cancelling.
func TestStreamEndToEnd(t *testing.T) {
	sf := setupStream(t)
	if code, body := sf.call(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm", "severity", "page")+"]"); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	sf.stepAt(t0.Add(time.Second))
	srv := httptest.NewServer(sf.h)
	defer srv.Close()

	bad, _ := client.New(srv.URL, "wrong")
	var ce *client.Error
	if err := bad.Stream(t.Context(), client.StreamOptions{}, func(client.StreamEvent) error { return nil }); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}

	c, _ := client.New(srv.URL, "s3cret")
	ctx, cancel := context.WithCancel(t.Context())
	events := make(chan client.StreamEvent)
	result := make(chan error, 1)
	go func() {
		result <- c.Stream(ctx, client.StreamOptions{}, func(ev client.StreamEvent) error {
			select {
			case events <- ev:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	next := func() client.StreamEvent {
		select {
		case ev := <-events:
			return ev
		case err := <-result:
			t.Fatalf("stream ended: %v", err)
		}
		panic("unreachable")
	}
	ev := next()
	st := ev.State
	if st == nil || st.Alerts == nil || st.Groups == nil || st.Incidents == nil || st.OnCall == nil || st.Pages == nil || st.Ready == nil || st.Rules == nil {
		t.Fatalf("first event %+v", ev)
	}
	if len(*st.Alerts) != 1 || (*st.Alerts)[0].Name() != "Down" || len(*st.Incidents) != 1 || len(*st.Rules) != 1 || (*st.Rules)[0].Name != "Down" ||
		len(*st.Groups) != 1 || !slices.Equal((*st.Groups)[0].Fingerprints, []uint64{(*st.Alerts)[0].Fingerprint()}) || st.At.Before(t0) {
		t.Fatalf("first state %+v", st)
	}
	sf.ring.Add(logs.Entry{Message: "written later", Level: logs.LevelError})
	for {
		ev := next()
		if ev.Logs == nil {
			continue // a state event: the readiness may move
		}
		if len(ev.Logs) != 1 || ev.Logs[0].Message != "written later" || ev.Logs[0].Seq != 1 {
			t.Fatalf("logs %+v", ev.Logs)
		}
		break
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatalf("cancelled stream: %v", err)
	}
}

// String keeps a failure's message short.
func (e sseEvent) String() string {
	if len(e.data) > 200 {
		return fmt.Sprintf("%s(%s…)", e.name, e.data[:200])
	}
	return fmt.Sprintf("%s(%s)", e.name, e.data)
}

// A shutting-down server ends its streams at once, so it need not wait
// for consoles to hang up.
func TestStreamEndsAtShutdown(t *testing.T) {
	sf := setupStreamDone(t, make(chan struct{}))
	srv := httptest.NewServer(sf.h)
	defer srv.Close()
	c, _ := client.New(srv.URL, "s3cret")
	got := make(chan error, 1)
	first := make(chan struct{})
	go func() {
		var once sync.Once
		got <- c.Stream(t.Context(), client.StreamOptions{}, func(client.StreamEvent) error {
			once.Do(func() { close(first) })
			return nil
		})
	}()
	<-first
	close(sf.done)
	if err := <-got; err == nil {
		t.Error("the stream should end with an error the console reconnects on")
	}
}

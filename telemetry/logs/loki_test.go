package logs

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// fakeLoki implements the documented query_range contract: streams of
// [nanosecond timestamp, line] pairs selected by the start/end window.
func fakeLoki(t *testing.T, lines map[string][]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/loki/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("X-Scope-OrgID") != "tenant-1" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("no org id"))
			return
		}
		q := r.URL.Query()
		if strings.HasPrefix(q.Get("query"), "rate(") {
			json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []any{}}})
			return
		}
		start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
		end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
		type stream struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		}
		var result []stream
		for job, ls := range lines {
			s := stream{Stream: map[string]string{"job": job, "env": "prod"}}
			for i, l := range ls {
				ts := time.Date(2026, 11, 23, 10, 0, i, 0, time.UTC).UnixNano()
				if ts >= start && ts < end {
					s.Values = append(s.Values, [2]string{strconv.FormatInt(ts, 10), l})
				}
			}
			result = append(result, s)
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "streams", "result": result}})
	}))
}

func TestLokiQueryRange(t *testing.T) {
	srv := fakeLoki(t, map[string][]string{
		"api":     {`{"level":"info","msg":"request served"}`, `level=error msg="upstream timed out" trace_id=t1`},
		"payment": {`plain text from payments`},
	})
	defer srv.Close()
	l, err := NewLoki(srv.URL, "", "tenant-1")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	got, err := l.QueryRange(context.Background(), `{env="prod"}`, start, start.Add(time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d entries", len(got))
	}
	if got[0].Service == "" || got[0].Fields["env"] != "prod" {
		t.Errorf("stream labels not applied: %+v", got[0])
	}
	var errs int
	for _, e := range got {
		if e.Level == LevelError && e.TraceID == "t1" && e.Service == "api" {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("parsed entries: %+v", got)
	}
	// The window is honoured: only the first second.
	got, _ = l.QueryRange(context.Background(), `{env="prod"}`, start, start.Add(time.Second), 100)
	if len(got) != 2 {
		t.Errorf("window: %d entries, want 2", len(got))
	}
	if _, err := l.QueryRange(context.Background(), `rate({env="prod"}[1m])`, start, start.Add(time.Minute), 10); err == nil || !strings.Contains(err.Error(), "metric query") {
		t.Errorf("metric query: %v", err)
	}
	noTenant, _ := NewLoki(srv.URL, "", "")
	if _, err := noTenant.QueryRange(context.Background(), `{env="prod"}`, start, start.Add(time.Minute), 10); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("unauthorised: %v", err)
	}
	if _, err := NewLoki("loki:3100", "", ""); err == nil {
		t.Error("want a bad URL error")
	}
}

// The tail endpoint per Loki's documented WebSocket protocol: JSON frames of
// streams and dropped_entries, then a normal close.
func TestLokiTail(t *testing.T) {
	var gotQuery, gotTenant string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/loki/api/v1/tail" {
			http.NotFound(w, r)
			return
		}
		gotQuery, gotTenant = r.URL.Query().Get("query"), r.Header.Get("X-Scope-OrgID")
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ts := func(s int) string {
			return strconv.FormatInt(time.Date(2026, 11, 23, 10, 0, s, 0, time.UTC).UnixNano(), 10)
		}
		wsjson.Write(r.Context(), c, map[string]any{"streams": []any{
			map[string]any{"stream": map[string]string{"job": "api"}, "values": [][2]string{{ts(2), "level=error msg=second"}, {ts(1), "level=info msg=first"}}},
		}})
		wsjson.Write(r.Context(), c, map[string]any{"streams": []any{}, "dropped_entries": []any{
			map[string]any{"labels": map[string]string{"job": "api"}, "timestamp": ts(3)},
			map[string]any{"labels": map[string]string{"job": "api"}, "timestamp": ts(4)},
		}})
		c.Close(websocket.StatusNormalClosure, "done")
	}))
	defer srv.Close()
	l, _ := NewLoki(srv.URL, "", "tenant-1")
	var msgs []string
	dropped := 0
	err := l.Tail(context.Background(), `{job="api"}`, time.Now(), func(es []Entry, d int) error {
		msgs = append(msgs, messages(es)...)
		dropped += d
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(msgs, ",") != "first,second" || dropped != 2 {
		t.Errorf("messages %v (want time order), dropped %d", msgs, dropped)
	}
	if gotQuery != `{job="api"}` || gotTenant != "tenant-1" {
		t.Errorf("query %q tenant %q", gotQuery, gotTenant)
	}
}

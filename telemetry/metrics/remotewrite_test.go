package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
)

// rwServer decodes what it receives as a remote-write endpoint does, and
// answers each request with the next status of codes (then 204).
type rwServer struct {
	mu    sync.Mutex
	codes []int
	got   []prompb.TimeSeries
	hdr   http.Header
	calls int
}

func (s *rwServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	code := http.StatusNoContent
	if len(s.codes) > 0 {
		code, s.codes = s.codes[0], s.codes[1:]
	}
	if code/100 == 2 {
		b, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, b)
		var req prompb.WriteRequest
		if err != nil || req.Unmarshal(raw) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		s.got = append(s.got, req.Timeseries...)
		s.hdr = r.Header.Clone()
	}
	w.WriteHeader(code)
}

func appendOne(t *testing.T, a appendable2, name string, v float64) {
	t.Helper()
	app := a.AppenderV2(context.Background())
	if _, err := app.Append(0, labels.FromStrings("__name__", name, "service", "checkout"), 0, 1000, v, nil, nil, storage.AOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

type appendable2 = storage.AppendableV2

func TestRemoteWriteSendsRetriesAndGivesUp(t *testing.T) {
	srv := &rwServer{codes: []int{http.StatusServiceUnavailable, http.StatusServiceUnavailable}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	w, err := NewRemoteWrite(RemoteWriteOptions{URL: hs.URL + "/api/v1/write", BearerToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	appendOne(t, w, "service:errors:ratio", 0.3)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if sent, _, _, _ := w.Stats(); sent == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.mu.Lock()
	if len(srv.got) != 1 || srv.got[0].Samples[0].Value != 0.3 || srv.calls != 3 || srv.hdr.Get("Authorization") != "Bearer tok" ||
		srv.hdr.Get("Content-Encoding") != "snappy" || srv.hdr.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
		t.Errorf("after two 503s: %d calls, got %+v, headers %v", srv.calls, srv.got, srv.hdr)
	}
	// A 4xx is final: retried never.
	srv.codes = []int{http.StatusBadRequest}
	srv.mu.Unlock()
	appendOne(t, w, "service:errors:ratio", 0.4)
	w.Close()
	if sent, failed, _, lastErr := w.Stats(); sent != 1 || failed != 1 || lastErr == nil || !strings.Contains(lastErr.Error(), "400") {
		t.Errorf("after a 400: sent %d failed %d err %v", sent, failed, lastErr)
	}
	if _, err := NewRemoteWrite(RemoteWriteOptions{URL: "ftp://x"}); err == nil {
		t.Error("an ftp URL")
	}
}

package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Every handler takes any body and any query string without a panic or a
// 5xx, and a refused silence or acknowledgement changes nothing.
func FuzzHandlers(f *testing.F) {
	f.Add(uint8(0), "", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"x","comment":"c"}`)
	f.Add(uint8(1), "filter=a%3D%22b%22&active=false&receiver=p.%2A", "")
	f.Add(uint8(2), "", `{"by":"ana","why":"fixed"}`)
	f.Add(uint8(3), "", `{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}`)
	f.Add(uint8(4), "expr=sum(rate(x%5B5m%5D))&time=2026-11-23T10:00:00Z", "")
	f.Add(uint8(5), "after=10&limit=-1&tail=1", "")
	f.Add(uint8(6), "filter=%7B", "")
	f.Add(uint8(12), "", `{"title":"x","by":"a","severity":"2","service":"mm"}`)
	f.Add(uint8(13), "", `{"by":"a","role":"ic","user":"bob"}`)
	f.Add(uint8(15), "at=2026-11-23T10:00:00Z&service=mm&schedule=p", "")
	f.Add(uint8(16), "from=1700000000&to=1800000000&offset=1", "")
	f.Add(uint8(18), "", `[{"labels":{"alertname":"A","service":"mm"},"startsAt":"2026-11-23T10:00:00Z"}]`)
	// One fixture for every input: a fresh store per input made each one
	// slow and looked new to the fuzzer, which then spent its time
	// shrinking instead of exploring.
	fx := setup(f, "")
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		routes := []struct{ method, path string }{
			{"POST", "/api/v2/silences"},
			{"GET", "/api/v2/alerts"},
			{"POST", "/api/v1/incidents/1/ack"},
			{"POST", "/api/v1/webhook/alertmanager"},
			{"GET", "/api/v1/query"},
			{"POST", "/api/v1/query"},
			{"GET", "/api/v1/query_range"},
			{"GET", "/api/v1/logs"},
			{"GET", "/api/v2/alerts/groups"},
			{"GET", "/api/v2/silences"},
			{"POST", "/api/v1/incidents/1/resolve"},
			{"DELETE", "/api/v2/silence/x"},
			{"POST", "/api/v1/incidents"},
			{"POST", "/api/v1/incidents/1/assign"},
			{"POST", "/api/v1/incidents/1/update"},
			{"GET", "/api/v1/who"},
			{"GET", "/api/v1/schedules/p/shifts"},
			{"GET", "/api/v1/schedules/p/ical"},
			{"POST", "/api/v2/alerts"},
			{"GET", "/api/v1/incidents"},
			{"POST", "/api/v1/incidents/INC-1/tasks/1/done"},
			{"POST", "/api/v1/incidents/2/merge"},
			{"GET", "/api/v2/silence/" + url.PathEscape(query)},
			{"GET", "/status.json"},
			{"GET", "/api/v1/incidents/" + url.PathEscape(query)},
		}
		rt := routes[int(which)%len(routes)]
		before, _ := fx.st.Silences(context.Background())
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
		req.URL.RawQuery = query
		fx.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s with %q: %d %s", rt.method, rt.path, query, body, rec.Code, rec.Body)
		}
		after, _ := fx.st.Silences(context.Background())
		if rec.Code != http.StatusOK && len(after) != len(before) {
			t.Fatalf("a refused request (%d) changed the silences", rec.Code)
		}

	})
}

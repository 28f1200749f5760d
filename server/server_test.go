package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type source struct{ vec metrics.Vector }

func (s *source) Instant(_ context.Context, expr string, _ time.Time) (metrics.Vector, error) {
	if expr == "bad(" {
		return nil, errors.New(`parse error in "bad("`)
	}
	return s.vec, nil
}
func (s *source) Range(context.Context, string, time.Time, time.Time, time.Duration) ([]metrics.Series, error) {
	return nil, nil
}
func (s *source) Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error) {
	v, err := s.Instant(ctx, expr, at)
	return metrics.Result{Type: metrics.TypeVector, Vector: v, T: at}, err
}

type sink struct{ got []notify.Message }

func (s *sink) Deliver(_ context.Context, m notify.Message) error {
	s.got = append(s.got, m)
	return nil
}

const amYAML = `
route:
  receiver: tickets
  group_by: [service]
  group_wait: 0s
  routes:
    - matchers: ['severity="page"']
      receiver: pager
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [service]
receivers: [{name: tickets}, {name: pager}]
`

// fixture is a server over a real store and pipeline; step runs the
// pipeline and the outbox at a given instant.
type fixture struct {
	c       *client.Client
	url     string
	handler http.Handler
	p       *pipeline.Pipeline
	st      *sqlite.Store
	now     time.Time
	step    func(at time.Time)
}

// fixtureSettings are the people of the fixture: alice on call, bob
// after her, riley the incident commander.
func fixtureSettings() incidents.Settings {
	return incidents.Settings{People: schedule.Directory{
		Users:     map[string]schedule.User{"alice": {Name: "alice"}, "bob": {Name: "bob"}, "riley": {Name: "riley"}},
		Schedules: map[string]schedule.Schedule{"p": {Name: "p", Users: []string{"alice", "bob"}, Start: schedule.At(t0), Shift: schedule.Days(7)}},
		Policies:  map[string]schedule.Policy{"default": {Name: "default", Steps: []schedule.Step{{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "p"}}, Delay: time.Minute}}}},
		Commander: &schedule.Step{Targets: []schedule.Target{{User: "riley"}}, Delay: 5 * time.Minute},
	}}
}

var fixtureCatalog = catalog.Catalog{Services: []catalog.Service{
	{Name: "mm", Policy: "default", PublicName: "Matchmaking", Runbook: "https://runbooks.example.com/mm"},
	{Name: "profile-db", Policy: "default"},
}}

func setup(t testing.TB, token string) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rc, err := routing.Parse("am.yml", []byte(amYAML))
	if err != nil {
		t.Fatal(err)
	}
	dir := fixtureSettings()
	out := &sink{}
	route := func(notify.Message) (notify.Deliverer, string, error) { return out, "sink", nil }
	f := &fixture{st: st, now: t0}
	f.p, err = pipeline.New(pipeline.Options{Routing: rc, Store: st, Incidents: dir, Route: route,
		Receivers: []pipeline.Receiver{{Name: "pager", Policy: "default"}}, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	relay := notify.NewRelay(st, route, nil)
	f.step = func(at time.Time) {
		f.now = at
		if err := f.p.Step(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		if _, err := relay.Pass(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	f.step(t0)
	src := &source{vec: metrics.Vector{{Labels: labels.FromStrings("service", "mm"), Value: 1}}}
	f.handler = server.Handler(server.Options{
		Pipeline: f.p, Store: st, Routing: rc, Source: src, Token: token, Now: func() time.Time { return f.now },
		Incidents: dir, OnCallPolicy: "default", Catalog: fixtureCatalog, MaxBody: 1 << 16,
	})
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	if f.c, err = client.New(srv.URL, token); err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request with the fixture's token and returns status and body.
func (f *fixture) do(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postable(name string, kv ...string) string {
	ls := map[string]string{"alertname": name}
	for i := 0; i+1 < len(kv); i += 2 {
		ls[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(map[string]any{"labels": ls, "annotations": map[string]string{"summary": name + " on " + ls["service"]}})
	return string(b)
}

func TestAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := setup(t, "s3cret")
	if code, body := f.do(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", "mm", "severity", "page")+"]"); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	f.step(t0.Add(time.Second))
	as, err := f.c.Alerts(ctx)
	if err != nil || len(as) != 1 || as[0].Labels.Get("service") != "mm" || as[0].Status.State.String() != "firing" || as[0].Status.Receivers[0] != "pager" {
		t.Fatalf("alerts = %+v, %v", as, err)
	}
	incs, err := f.c.Incidents(ctx)
	if err != nil || len(incs) != 1 || incs[0].Title != "Down on mm" {
		t.Fatalf("incidents = %+v, %v", incs, err)
	}
	chain, err := f.c.OnCall(ctx)
	if err != nil || len(chain) != 2 || chain[0].Users[0] != "alice" || chain[0].Next[0] != "bob" || !chain[0].Until.Equal(t0.Add(7*24*time.Hour)) || chain[1].Users[0] != "riley" {
		t.Fatalf("oncall = %+v, %v", chain, err)
	}
	pages, err := f.c.Pages(ctx, 10)
	if err != nil || len(pages) != 1 || pages[0].Target != "alice" || pages[0].SentAt.IsZero() {
		t.Fatalf("pages = %+v, %v", pages, err)
	}
	if err := f.c.Ack(ctx, incs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	var ce *client.Error
	if err := f.c.Ack(ctx, incs[0].ID, "bob"); !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Fatalf("second ack: %v", err)
	}
	if err := f.c.Resolve(ctx, incs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Ack(ctx, 99, "alice"); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Fatalf("ack unknown: %v", err)
	}
	all, err := f.c.AllIncidents(ctx, 10)
	if err != nil || len(all) != 1 || all[0].Status != incidents.StatusResolved || all[0].AckedBy != "alice" {
		t.Fatalf("all incidents = %+v, %v", all, err)
	}
	v, err := f.c.Query(ctx, "up", time.Time{})
	if err != nil || len(v.Vector) != 1 {
		t.Fatalf("query = %+v, %v", v, err)
	}
	if _, err := f.c.Query(ctx, "bad(", time.Time{}); !errors.As(err, &ce) || ce.Status != 400 || !strings.Contains(ce.Msg, "unclosed left parenthesis") {
		t.Fatalf("bad query: %v", err)
	}
}

// Alertmanager's API v2 as amtool and Prometheus use it.
func TestAlertmanagerAPI(t *testing.T) {
	f := setup(t, "s3cret")
	ctx := context.Background()
	body := "[" + strings.Join([]string{
		postable("Down", "service", "api", "severity", "page"),
		postable("Slow", "service", "api", "severity", "ticket"),
		postable("Slow", "service", "db", "severity", "ticket", "empty", ""),
	}, ",") + "]"
	if code, b := f.do(t, "POST", "/api/v2/alerts", body); code != 200 {
		t.Fatalf("post: %d %s", code, b)
	}
	f.step(t0.Add(time.Second))
	var got []struct {
		Labels      map[string]string `json:"labels"`
		Fingerprint string            `json:"fingerprint"`
		Receivers   []struct{ Name string }
		Status      struct {
			State       string   `json:"state"`
			SilencedBy  []string `json:"silencedBy"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
		EndsAt time.Time `json:"endsAt"`
	}
	get := func(q string) {
		t.Helper()
		code, b := f.do(t, "GET", "/api/v2/alerts"+q, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", q, code, b)
		}
		got = nil
		if err := json.Unmarshal([]byte(b), &got); err != nil {
			t.Fatal(err)
		}
	}
	get("")
	if len(got) != 3 {
		t.Fatalf("alerts: %+v", got)
	}
	for _, a := range got {
		if a.Status.SilencedBy == nil || a.Status.InhibitedBy == nil {
			t.Errorf("status arrays must be present: %+v", a)
		}
		if _, ok := a.Labels["empty"]; ok {
			t.Error("empty label values are dropped")
		}
		if !a.EndsAt.Equal(t0.Add(5 * time.Minute)) {
			t.Errorf("no endsAt: resolve_timeout applies, got %v", a.EndsAt)
		}
	}
	get(`?filter=service="api"&inhibited=false`)
	if len(got) != 1 || got[0].Labels["alertname"] != "Down" {
		t.Errorf("filtered: %+v", got)
	}
	get(`?active=false`)
	if len(got) != 1 || got[0].Labels["alertname"] != "Slow" || got[0].Status.State != "suppressed" || len(got[0].Status.InhibitedBy) != 1 {
		t.Errorf("suppressed only: %+v", got)
	}
	get(`?receiver=pag.*`)
	if len(got) != 1 || got[0].Receivers[0].Name != "pager" {
		t.Errorf("by receiver: %+v", got)
	}

	// Silences through the client (the same API amtool uses).
	m, _ := amlabels.NewMatcher(amlabels.MatchRegexp, "service", "d.")
	id, err := f.c.AddSilence(ctx, silence.Silence{Matchers: amlabels.Matchers{m}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ana", Comment: "db maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	f.step(t0.Add(2 * time.Second))
	get(`?silenced=false&inhibited=false`)
	if len(got) != 1 || got[0].Labels["service"] != "api" {
		t.Errorf("after the silence: %+v", got)
	}
	sils, err := f.c.Silences(ctx)
	if err != nil || len(sils) != 1 || sils[0].ID != id || sils[0].Matchers.String() != `{service=~"d."}` {
		t.Fatalf("silences %+v, %v", sils, err)
	}
	if code, b := f.do(t, "GET", "/api/v2/silence/"+id, ""); code != 200 || !strings.Contains(b, `"state":"active"`) {
		t.Errorf("get silence: %d %s", code, b)
	}
	if err := f.c.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, b := f.do(t, "GET", "/api/v2/silence/"+id, ""); !strings.Contains(b, `"state":"expired"`) {
		t.Errorf("expired silence: %d %s", code, b)
	}

	code, b := f.do(t, "GET", "/api/v2/alerts/groups", "")
	var groups []struct {
		Labels   map[string]string
		Receiver struct{ Name string }
		Alerts   []json.RawMessage
	}
	if json.Unmarshal([]byte(b), &groups); code != 200 || len(groups) != 3 {
		t.Errorf("groups: %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v2/receivers", ""); code != 200 || b != "[{\"name\":\"tickets\"},{\"name\":\"pager\"}]\n" {
		t.Errorf("receivers: %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v2/status", ""); code != 200 || !strings.Contains(b, `"original":"`) || !strings.Contains(b, `"cluster":{`) {
		t.Errorf("status: %d %s", code, b)
	}
}

// Bad input gets a 4xx in Alertmanager's error shapes; nothing of a body
// that is not JSON applies, and a valid alert beside an invalid one does.
func TestAlertmanagerAPIBadInput(t *testing.T) {
	f := setup(t, "s3cret")
	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"malformed JSON", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}`, 400, `"code":400`},
		{"not an array", "POST", "/api/v2/alerts", `{"labels": {}}`, 400, `"code":400`},
		{"no labels", "POST", "/api/v2/alerts", `[{"annotations": {"a": "b"}}]`, 422, `labels in body is required`},
		{"invalid label name", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A", "bad-name": "x"}}, ` + postable("Good", "service", "x") + `]`, 400, `invalid label set: invalid name \"bad-name\"`},
		{"end before start", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}, "startsAt": "2026-11-23T10:00:00Z", "endsAt": "2026-11-23T09:00:00Z"}]`, 400, `start time must be before end time`},
		{"bad time", "POST", "/api/v2/alerts", `[{"labels": {"alertname": "A"}, "startsAt": "yesterday"}]`, 400, `"code":400`},
		{"oversized body", "POST", "/api/v2/alerts", "[" + strings.Repeat(postable("A", "service", "x")+",", 2000) + postable("A") + "]", 413, `"code":413`},
		{"bad filter", "GET", "/api/v2/alerts?filter=%7Bfoo", "", 400, `"`},
		{"unknown silence", "GET", "/api/v2/silence/nope", "", 404, ``},
		{"expire unknown silence", "DELETE", "/api/v2/silence/nope", "", 404, `silence not found`},
		{"silence without comment", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2026-11-23T11:00:00Z","createdBy":"x"}`, 422, `comment in body is required`},
		{"silence ending before it starts", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T11:00:00Z","endsAt":"2026-11-23T10:00:00Z","createdBy":"x","comment":"c"}`, 400, `start time must be before end time`},
		{"silence matching everything", "POST", "/api/v2/silences", `{"matchers":[{"name":"a","value":".*","isRegex":true}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2026-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 400, `at least one matcher must not match the empty string`},
		{"history since not a time", "GET", "/api/v1/alerts/history?since=yesterday", "", 400, `since: \"yesterday\" is not an RFC 3339 time`},
		{"history until not a time", "GET", "/api/v1/alerts/history?until=1", "", 400, `until: \"1\" is not an RFC 3339 time`},
		{"edit unknown silence", "POST", "/api/v2/silences", `{"id":"nope","matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-11-23T10:00:00Z","endsAt":"2026-11-23T11:00:00Z","createdBy":"x","comment":"c"}`, 404, `silence not found`},
	}
	for _, tc := range tests {
		code, body := f.do(t, tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, code, body, tc.code, tc.want)
		}
	}
	f.step(t0.Add(time.Second))
	as, err := f.c.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range as {
		names = append(names, a.Name())
	}
	if fmt.Sprint(names) != "[Good]" {
		t.Errorf("alerts applied: %v; want only the valid one beside the invalid", names)
	}
	if sils, _ := f.c.Silences(context.Background()); len(sils) != 0 {
		t.Errorf("a refused silence was stored: %+v", sils)
	}
}

// An Alertmanager's webhook notifications feed the pipeline.
func TestAlertmanagerWebhookReceiver(t *testing.T) {
	f := setup(t, "s3cret")
	msg := func(status, endsAt string) string {
		return `{"version":"4","groupKey":"{}:{}","status":"` + status + `","receiver":"oncall","alerts":[{"status":"` + status +
			`","labels":{"alertname":"Down","service":"mm","severity":"page"},"annotations":{"summary":"down"},"startsAt":"2026-11-23T09:59:00Z","endsAt":"` + endsAt + `"}]}`
	}
	if code, b := f.do(t, "POST", "/api/v1/webhook/alertmanager", msg("firing", "0001-01-01T00:00:00Z")); code != 200 {
		t.Fatalf("webhook: %d %s", code, b)
	}
	f.step(t0.Add(time.Second))
	as, _ := f.c.Alerts(context.Background())
	if len(as) != 1 || as[0].Status.State.String() != "firing" || !as[0].EndsAt.IsZero() {
		t.Fatalf("alerts: %+v", as)
	}
	// Long after resolve_timeout it still fires: only the Alertmanager resolves it.
	f.step(t0.Add(time.Hour))
	if as, _ := f.c.Alerts(context.Background()); as[0].Status.State.String() != "firing" {
		t.Fatalf("a chained alert timed out: %+v", as[0])
	}
	f.do(t, "POST", "/api/v1/webhook/alertmanager", msg("resolved", "2026-11-23T10:59:00Z"))
	f.step(t0.Add(time.Hour + time.Second))
	if as, _ := f.c.Alerts(context.Background()); as[0].Status.State.String() != "resolved" {
		t.Fatalf("not resolved: %+v", as[0])
	}
	if code, _ := f.do(t, "POST", "/api/v1/webhook/alertmanager", `{"version":"3"}`); code != 400 {
		t.Errorf("version 3: %d", code)
	}
}

func TestAPIRequiresToken(t *testing.T) {
	f := setup(t, "s3cret")
	for _, path := range []string{"/api/v1/alerts", "/api/v2/alerts", "/api/v2/silences", "/api/v1/webhook/alertmanager"} {
		for _, token := range []string{"", "nope"} {
			req, _ := http.NewRequest("GET", f.url+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with token %q: status %d, want 401", path, token, resp.StatusCode)
			}
		}
	}
	resp, err := http.Get(f.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
}

func TestListenRefusesOpenAddressWithoutToken(t *testing.T) {
	if _, err := server.Listen("0.0.0.0:0", ""); err == nil || !strings.Contains(err.Error(), "server.token") {
		t.Fatalf("err = %v", err)
	}
	l, err := server.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := server.Listen(l.Addr().String(), ""); err == nil || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("port in use: %v", err)
	}
}

// The server's log buffer is a logs.Source for clients.
func TestLogSourceReadsServerBuffer(t *testing.T) {
	ring := logs.NewRing(100)
	for i := range 7 {
		ring.Add(logs.Entry{Message: fmt.Sprintf("line %d", i)})
	}
	rc, _ := routing.Parse("", []byte(routing.Default))
	st, _ := sqlite.Open(filepath.Join(t.TempDir(), "x.db"))
	defer st.Close()
	p, _ := pipeline.New(pipeline.Options{Routing: rc, Store: st})
	srv := httptest.NewServer(server.Handler(server.Options{Pipeline: p, Store: st, Routing: rc, Source: &source{}, Logs: ring}))
	defer srv.Close()
	c, _ := client.New(srv.URL, "")
	var _ logs.Source = &client.LogSource{}
	var got []string
	err := (&client.LogSource{Client: c}).Stream(context.Background(), false, func(es []logs.Entry) error {
		for _, e := range es {
			got = append(got, e.Message)
		}
		return nil
	})
	if err != nil || len(got) != 7 || got[6] != "line 6" {
		t.Fatalf("got %v, %v", got, err)
	}
	tail, err := c.TailLogs(context.Background(), 0, 3)
	if err != nil || len(tail) != 3 || tail[0].Message != "line 4" {
		t.Fatalf("tail = %+v, %v", tail, err)
	}
}

package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/engine"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/server"
	"github.com/oncallhq/oncall/store"
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

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, incidents.Page) error { return nil }

func setup(t *testing.T, token string) (*client.Client, *engine.Engine) {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src := &source{vec: metrics.Vector{{Labels: labels.FromStrings("service", "mm"), Value: 1}}}
	dir := incidents.Directory{
		Schedules: map[string]oncall.Schedule{"p": {Name: "p", Users: []string{"alice"}, Start: t0}},
		Policies:  map[string]oncall.Policy{"default": {Name: "default", Steps: []oncall.Step{{Name: "primary on-call", Targets: []oncall.Target{{Schedule: "p"}}, AckTimeout: time.Minute}}}},
	}
	rules := []alerts.Rule{{Name: "Down", Expr: "up == 0", Annotations: map[string]string{"summary": "service down"}}}
	e, err := engine.New(context.Background(), engine.Options{
		Rules: rules, Source: src, Directory: dir, Policy: "default", Store: st, Notifier: nopNotifier{},
		Routes: []alerts.Route{{Name: "page", GroupBy: []string{"service"}, Policy: "default"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Step(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.Handler(server.Options{Engine: e, History: st, Source: src, Rules: rules, Token: token, Now: func() time.Time { return t0.Add(time.Second) }}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func TestAPIRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, _ := setup(t, "s3cret")
	as, err := c.Alerts(ctx)
	if err != nil || len(as) != 1 || as[0].State != alerts.StateFiring || as[0].Labels.Get("service") != "mm" {
		t.Fatalf("alerts = %+v, %v", as, err)
	}
	incs, err := c.Incidents(ctx)
	if err != nil || len(incs) != 1 || incs[0].Title != "service down" {
		t.Fatalf("incidents = %+v, %v", incs, err)
	}
	chain, err := c.OnCall(ctx)
	if err != nil || len(chain) != 1 || chain[0].Users[0] != "alice" {
		t.Fatalf("oncall = %+v, %v", chain, err)
	}
	pages, err := c.Pages(ctx, 10)
	if err != nil || len(pages) != 1 || pages[0].Target != "alice" || pages[0].SentAt.IsZero() {
		t.Fatalf("pages = %+v, %v", pages, err)
	}
	if err := c.Ack(ctx, incs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	var ce *client.Error
	if err := c.Ack(ctx, incs[0].ID, "bob"); !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Fatalf("second ack: %v", err)
	}
	if err := c.Resolve(ctx, incs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.Ack(ctx, 99, "alice"); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Fatalf("ack unknown: %v", err)
	}
	all, err := c.AllIncidents(ctx, 10)
	if err != nil || len(all) != 1 || all[0].Status != incidents.StatusResolved || all[0].AckedBy != "alice" {
		t.Fatalf("all incidents = %+v, %v", all, err)
	}
	v, err := c.Query(ctx, "up", time.Time{})
	if err != nil || len(v) != 1 {
		t.Fatalf("query = %+v, %v", v, err)
	}
	if _, err := c.Query(ctx, "bad(", time.Time{}); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "bad(") {
		t.Fatalf("bad query: %v", err)
	}
}

func TestAPIRequiresToken(t *testing.T) {
	srvURL := tokenServer(t)
	for _, token := range []string{"", "nope"} {
		req, _ := http.NewRequest("GET", srvURL+"/api/v1/alerts", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", token, resp.StatusCode)
		}
	}
	resp, err := http.Get(srvURL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
}

// tokenServer starts an empty server that requires a token.
func tokenServer(t *testing.T) string {
	st, _ := store.OpenSQLite(filepath.Join(t.TempDir(), "x.db"))
	t.Cleanup(func() { st.Close() })
	e, _ := engine.New(context.Background(), engine.Options{Store: st, Source: &source{}, Notifier: nopNotifier{}})
	srv := httptest.NewServer(server.Handler(server.Options{Engine: e, History: st, Source: &source{}, Token: "s3cret"}))
	t.Cleanup(srv.Close)
	return srv.URL
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
	st, _ := store.OpenSQLite(filepath.Join(t.TempDir(), "x.db"))
	defer st.Close()
	e, _ := engine.New(context.Background(), engine.Options{Store: st, Source: &source{}, Notifier: nopNotifier{}})
	srv := httptest.NewServer(server.Handler(server.Options{Engine: e, History: st, Source: &source{}, Logs: ring}))
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

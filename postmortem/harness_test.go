package postmortem_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/postmortem/storedata"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/telemetry/metrics"
)

// t0 is Monday 23 November 2026, 10:00 UTC: the incident begins at t0+2m.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const amYAML = `
route:
  receiver: pager
  group_by: [service]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: pager
`

func settings() incidents.Settings {
	return incidents.Settings{People: schedule.Directory{
		Users: map[string]schedule.User{"ana": {Name: "ana", TimeZone: "Europe/Berlin"}, "ben": {Name: "ben", TimeZone: "Europe/London"}, "ric": {Name: "ric"}},
		Schedules: map[string]schedule.Schedule{"checkout": {Name: "checkout", Users: []string{"ben", "ana"},
			Start: schedule.At(time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC))}},
		Policies: map[string]schedule.Policy{"checkout": {Name: "checkout", Steps: []schedule.Step{
			{Name: "primary on-call", Targets: []schedule.Target{{Schedule: "checkout"}}, Delay: 5 * time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{Schedule: "checkout", Offset: 1}}, Delay: 10 * time.Minute},
			{Name: "incident commander", Targets: []schedule.Target{{User: "ric"}}, Delay: 10 * time.Minute},
		}}},
	}}
}

// delivered records what the relay delivered.
type delivered struct {
	mu  sync.Mutex
	got []notify.Message
}

func (d *delivered) Deliver(_ context.Context, m notify.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, m)
	return nil
}

// world is oncall running against a real store, a real TSDB and real rule
// evaluation, on a clock the test moves.
type world struct {
	t     *testing.T
	st    store.Store
	p     *pipeline.Pipeline
	relay *notify.Relay
	eng   *alerts.Engine
	tsdb  *metrics.Embedded
	ring  *logs.Ring
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tsdb, err := metrics.NewEmbedded(metrics.EmbeddedOptions{Retention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tsdb.Close() })
	eng, err := alerts.NewEngine(alerts.EngineOptions{Files: []string{"testdata/checkout.rules.yml", "testdata/checkout-slo.rules.yml"}, Interval: 15 * time.Second,
		Query: alerts.SourceQuery(tsdb), Appendable: tsdb, ExternalURL: "https://oncall.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routing.Parse("am.yml", []byte(amYAML))
	if err != nil {
		t.Fatal(err)
	}
	out := &delivered{}
	route := func(notify.Message) (notify.Deliverer, string, error) { return out, "test", nil }
	p, err := pipeline.New(pipeline.Options{Routing: cfg, Store: st, Incidents: settings(), Route: route,
		Receivers: []pipeline.Receiver{{Name: "pager", Policy: "checkout"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, st: st, p: p, relay: notify.NewRelay(st, route, nil), eng: eng, tsdb: tsdb, ring: logs.NewRing(1000)}
	return w
}

// traffic writes the checkout's counters every 15 seconds over [from, to):
// 100 requests a second, of which errRate fail, and orderRate orders, as
// the functions of time say.
func (w *world) traffic(from, to time.Time, errRate, orderRate func(time.Time) float64) {
	w.t.Helper()
	var ok, bad, orders float64
	for at := from; at.Before(to); at = at.Add(15 * time.Second) {
		e := errRate(at)
		ok += (100 - e) * 15
		bad += e * 15
		orders += orderRate(at) * 15
		for _, s := range []struct {
			ls labels.Labels
			v  float64
		}{
			{labels.FromStrings("__name__", "http_requests_total", "service", "checkout", "code", "200"), ok},
			{labels.FromStrings("__name__", "http_requests_total", "service", "checkout", "code", "500"), bad},
			{labels.FromStrings("__name__", "orders_total", "service", "checkout"), orders},
		} {
			if err := w.tsdb.Append(s.ls, at, s.v); err != nil {
				w.t.Fatal(err)
			}
		}
	}
}

// run moves the clock to until in 15-second steps: the rules evaluate,
// their alerts go into the pipeline, the pipeline steps, the relay
// delivers.
func (w *world) run(until time.Time) {
	w.t.Helper()
	ctx := context.Background()
	for ; !w.now.After(until); w.now = w.now.Add(15 * time.Second) {
		if err := w.p.Step(ctx, w.now); err != nil {
			w.t.Fatal(err)
		}
		as, err := w.eng.Eval(ctx, w.now)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(as) > 0 {
			w.p.Put(w.now, as)
		}
		if err := w.p.Step(ctx, w.now.Add(time.Second)); err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.relay.Pass(ctx, w.now.Add(2*time.Second)); err != nil {
			w.t.Fatal(err)
		}
	}
}

// act runs an action on incident id at the world's clock.
func (w *world) act(id int64, f func(*incidents.Incident, time.Time) error) {
	w.t.Helper()
	if _, err := incidents.Act(context.Background(), store.Incidents(w.st), id, func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, f(i, w.now)
	}); err != nil {
		w.t.Fatal(err)
	}
	w.p.IncidentsChanged()
}

// rules lists the engine's rules.
type rules struct{ eng *alerts.Engine }

func (r rules) Rules(context.Context) ([]alerts.Rule, error) { return r.eng.Rules(), nil }

// ringLogs reads the log buffer between two times, as the server's is.
type ringLogs struct{ ring *logs.Ring }

func (r ringLogs) LogLines(_ context.Context, from, to time.Time) ([]logs.Entry, error) {
	return slices.DeleteFunc(r.ring.After(0, 100_000), func(e logs.Entry) bool { return e.Time.Before(from) || e.Time.After(to) }), nil
}

func (w *world) sources() postmortem.Sources {
	rd := storedata.Reader{Store: w.st}
	return postmortem.Sources{Incidents: rd, Transitions: rd, Pages: rd, Rules: rules{w.eng}, Series: w.tsdb, Logs: ringLogs{w.ring}}
}

// storeOpen selects the open incidents.
var storeOpen = store.IncidentFilter{OpenOnly: true}

type postmortemTemplate = template.Template

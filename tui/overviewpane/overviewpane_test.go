package overviewpane

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/alerts/slo"
	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var now = tuitest.Now

func fixture() *state.Env {
	env := tuitest.Env()
	firing := alerts.Alert{Labels: labels.FromStrings("alertname", "MatchRateCollapsed", "service", "matchmaking", "severity", "page"), StartsAt: now.Add(-4 * time.Minute)}
	firing.Status.State = alerts.StateFiring
	muted := alerts.Alert{Labels: labels.FromStrings("alertname", "DiskFilling", "service", "profile-db", "severity", "warning"), StartsAt: now.Add(-time.Hour)}
	muted.Status.State, muted.Status.SilencedBy = alerts.StateFiring, []string{"s1"}
	as := []alerts.Alert{firing, muted}
	rules := []alerts.Rule{
		{Name: "MatchRateCollapsed", Expr: "matches_per_user < 0.5", Labels: map[string]string{"service": "matchmaking", "severity": "page"}},
		{Name: "MatchmakingSlow", Expr: "p99_latency > 2", Labels: map[string]string{"service": "matchmaking", "severity": "ticket"}},
		{Name: "CheckoutErrors", Expr: "error_ratio > 0.05", Labels: map[string]string{"service": "checkout", "severity": "page"}},
	}
	incs := []incidents.Incident{{ID: 7, Service: "matchmaking", Status: incidents.StatusTriggered, OpenedAt: now.Add(-3 * time.Minute),
		Escalation: incidents.Escalation{Paged: []string{"bob"}, NextAt: now.Add(83 * time.Second)}}}
	oc := []schedule.Assignment{{Policy: "matchmaking", StepName: "primary on-call", Users: []string{"alice"}, Until: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), Next: []string{"bob"}},
		{Policy: "matchmaking", Step: 1, StepName: "secondary", Users: []string{"bob"}}}
	ready := health.Report{Ready: true, Role: "leader"}
	env.State.Apply(state.Update{Alerts: &as, Rules: &rules, Incidents: &incs, OnCall: &oc, Ready: &ready, At: now})
	return env
}

// answer gives each sparkline request an hour of a signal that falls.
func answer(p *Pane, ms []tea.Msg) {
	for _, m := range ms {
		rq := m.(msg.RangeQuery)
		s := metrics.Series{Labels: labels.EmptyLabels()}
		for i := 0; i <= 60; i++ {
			s.Points = append(s.Points, metrics.Point{T: rq.Start.Add(time.Duration(i) * time.Minute), V: 1 + math.Cos(float64(i)/10)})
		}
		p.Update(msg.RangeResult{ID: rq.ID, Expr: rq.Expr, Series: []metrics.Series{s}, Start: rq.Start, End: rq.End})
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		p := New(fixture())
		answer(p, tuitest.Msgs(p.Update(msg.Changed{Kinds: state.KindRules})))
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("overview_%dx%d", size.w, size.h), v)
	}
}

// Services in trouble first; each sparkline queries the signal of the
// service's most severe rule, again every minute.
func TestServicesAndSparklines(t *testing.T) {
	p := New(fixture())
	reqs := tuitest.Msgs(p.Update(msg.Changed{Kinds: state.KindRules}))
	var exprs []string
	for _, m := range reqs {
		rq := m.(msg.RangeQuery)
		exprs = append(exprs, rq.Expr)
		if rq.End.Sub(rq.Start) != time.Hour {
			t.Errorf("range %v", rq.End.Sub(rq.Start))
		}
	}
	// The signals of every rule, the paging ones first.
	if strings.Join(exprs, " ") != "matches_per_user error_ratio p99_latency" {
		t.Errorf("requests %v", exprs)
	}
	answer(p, reqs)
	v := ansi.Strip(p.View(160, 30))
	order := []string{"matchmaking", "INCIDENT", "INC-7 TRIGGERED paged bob · escalates in 1m23s", "profile-db", "muted", "checkout", "ok"}
	at := 0
	for _, w := range order {
		i := strings.Index(v[at:], w)
		if i < 0 {
			t.Fatalf("%q missing or out of order:\n%s", w, v)
		}
		at += i
	}
	if !strings.ContainsAny(v, "▁▂▃▄▅▆▇█") || !strings.Contains(v, "alice until Mon 09:00, then bob") || !strings.Contains(v, "oncall: ready (leader)") {
		t.Errorf("overview:\n%s", v)
	}
	if out := tuitest.Msgs(p.Update(msg.Tick{Now: now.Add(30 * time.Second)})); len(out) != 0 {
		t.Errorf("queried again after 30s: %v", out)
	}
	if out := tuitest.Msgs(p.Update(msg.Tick{Now: now.Add(time.Minute)})); len(out) != 3 {
		t.Errorf("not queried again after a minute: %v", out)
	}
	// Enter opens the service's alerts.
	if out := tuitest.Msgs(p.Update(tuitest.Key("enter"))); len(out) != 1 || out[0] != (msg.Open{Pane: "alerts", Arg: "service=matchmaking"}) {
		t.Errorf("enter: %v", out)
	}
}

// Before the server answers, and when oncall is blind, the overview says
// so rather than showing calm.
func TestUnknownAndBlind(t *testing.T) {
	env := tuitest.Env()
	env.State.At = time.Time{}
	if v := ansi.Strip(New(env).View(100, 10)); !strings.Contains(v, "Unknown: the server has not answered") {
		t.Errorf("unknown:\n%s", v)
	}
	env = fixture()
	blind := health.Report{Ready: false, Role: "leader", Checks: []health.Check{{Name: "metrics", Reason: "prometheus unreachable"}}}
	env.State.Apply(state.Update{Ready: &blind})
	if v := ansi.Strip(New(env).View(120, 30)); !strings.Contains(v, "oncall is BLIND: metrics: prometheus unreachable") {
		t.Errorf("blind:\n%s", v)
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	env := tuitest.Env()
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "x", "service", tuitest.Poison), StartsAt: now}
	a.Status.State = alerts.StateFiring
	as := []alerts.Alert{a}
	incs := []incidents.Incident{{ID: 1, Service: tuitest.Poison, AckedBy: tuitest.Poison, Status: incidents.StatusAcknowledged}}
	oc := []schedule.Assignment{{StepName: tuitest.Poison, Users: []string{tuitest.Poison}, Until: now.Add(time.Hour), Next: []string{tuitest.Poison}}}
	ready := health.Report{Checks: []health.Check{{Name: tuitest.Poison, Reason: tuitest.Poison}}}
	env.State.Apply(state.Update{Alerts: &as, Incidents: &incs, OnCall: &oc, Ready: &ready, At: now})
	if v := New(env).View(200, 20); !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("raw sequences:\n%q", v)
	}
}

// A rule without a service label (sum by (service) …) draws the sparkline
// of every service its series name, and lists services no alert named
// yet; a more severe rule's signal wins.
func TestSignalsNameTheirServices(t *testing.T) {
	env := tuitest.Env()
	rules := []alerts.Rule{
		{Name: "ErrorRatio", Expr: "sum by (service) (rate(errors[5m])) > 0.05", Labels: map[string]string{"severity": "page"}},
		{Name: "Slow", Expr: "sum by (service) (latency) > 2", Labels: map[string]string{"severity": "ticket"}},
	}
	env.State.Apply(state.Update{Rules: &rules, At: now})
	p := New(env)
	reqs := tuitest.Msgs(p.Update(msg.Changed{Kinds: state.KindRules}))
	if len(reqs) != 2 {
		t.Fatalf("requests %v", reqs)
	}
	series := func(svc string, v float64) metrics.Series {
		return metrics.Series{Labels: labels.FromStrings("service", svc), Points: []metrics.Point{{T: now, V: v}}}
	}
	slow, errs := reqs[1].(msg.RangeQuery), reqs[0].(msg.RangeQuery)
	p.Update(msg.RangeResult{ID: slow.ID, Expr: slow.Expr, Series: []metrics.Series{series("api", 3.5), series("db", 4.5)}})
	p.Update(msg.RangeResult{ID: errs.ID, Expr: errs.Expr, Series: []metrics.Series{series("api", 0.01)}})
	v := ansi.Strip(p.View(160, 20))
	if !strings.Contains(v, "api ") || !strings.Contains(v, "0.01") || !strings.Contains(v, "db ") || !strings.Contains(v, "4.5") || strings.Contains(v, "3.5") {
		t.Errorf("services from signals:\n%s", v)
	}
	// A failed query says so.
	tuitest.Msgs(p.Update(msg.Tick{Now: now.Add(time.Minute)}))
	for id, sig := range p.queries {
		p.Update(msg.RangeResult{ID: id, Expr: sig.expr, Err: fmt.Errorf("unreachable")})
	}
	if v := ansi.Strip(p.View(160, 20)); !strings.Contains(v, "2 signal queries failed") {
		t.Errorf("failures:\n%s", v)
	}
}

// a acknowledges the selected service's paging incident.
func TestAcknowledge(t *testing.T) {
	p := New(fixture())
	if out := tuitest.Msgs(p.Update(tuitest.Key("a"))); len(out) != 1 || out[0] != (msg.Ack{Incident: 7}) {
		t.Errorf("a: %v", out)
	}
	env := fixture()
	env.ReadOnly = true
	if out := tuitest.Msgs(New(env).Update(tuitest.Key("a"))); len(out) != 1 || !out[0].(msg.Status).Err {
		t.Errorf("read-only: %v", out)
	}
}

// The catalogue's services show even while calm, tier 1 first after the
// ones in trouble; "/" filters them by name, team, tier or state, live.
func TestCatalogueAndFilter(t *testing.T) {
	env := fixture()
	cat := []catalog.Service{{Name: "search", Team: "discovery", Tier: 3}, {Name: "checkout", Team: "payments", Tier: 1},
		{Name: "matchmaking", Team: "matchmaking", Tier: 1}, {Name: "ledger", Team: "payments", Tier: 2}}
	env.State.Apply(state.Update{Services: &cat})
	p := New(env)
	names := func() []string {
		var out []string
		for _, sv := range p.services() {
			out = append(out, sv.Name)
		}
		return out
	}
	if got := strings.Join(names(), " "); got != "matchmaking profile-db checkout ledger search" {
		t.Fatalf("services %q", got)
	}
	p.Update(tuitest.Key("/"))
	if !p.Capturing() {
		t.Fatal("/ does not open the filter")
	}
	for _, tc := range []struct{ text, want string }{
		{"team=payments", "checkout ledger"},
		{"team=payments tier=1", "checkout"},
		{"state=incident", "matchmaking"},
		{"state=muted", "profile-db"},
		{"state=ok pay", "checkout ledger"},
		{"db", "profile-db"},
		{"nothing", ""},
	} {
		for range 40 {
			p.Update(tuitest.Key("backspace"))
		}
		for _, k := range tuitest.Keys(tc.text) {
			p.Update(k)
		}
		if got := strings.Join(names(), " "); got != tc.want {
			t.Errorf("/%s: %q, want %q", tc.text, got, tc.want)
		}
	}
	v := ansi.Strip(p.View(120, 30))
	if !strings.Contains(v, "No service matches the filter") || !strings.Contains(v, "0 of 5 services matching") {
		t.Errorf("empty filter result:\n%s", v)
	}
	p.Update(tuitest.Key("enter"))
	if p.Capturing() {
		t.Error("enter keeps the filter and leaves the line")
	}
	p.Update(tuitest.Key("/"))
	p.Update(tuitest.Key("esc"))
	p.Update(tuitest.Key("esc"))
	if got := len(names()); got != 5 {
		t.Errorf("esc esc: %d services", got)
	}
	// The palette's `:overview team=payments` sets it.
	p.Update(msg.Open{Pane: "overview", Arg: "team=payments"})
	if got := strings.Join(names(), " "); got != "checkout ledger" {
		t.Errorf(":overview team=payments: %q", got)
	}
}

// With SLOs in the catalogue, each service shows the budget its worst SLO
// has left, asked once a round; an answer to an older round is dropped.
func TestErrorBudgets(t *testing.T) {
	env := fixture()
	avail := []slo.SLO{{Name: "availability", Objective: 99.5}, {Name: "latency", Objective: 99}}
	cat := []catalog.Service{{Name: "matchmaking", SLOs: avail}, {Name: "checkout", SLOs: avail[:1]}, {Name: "profile-db"}}
	env.State.Apply(state.Update{Services: &cat})
	p := New(env)
	var bq msg.InstantQuery
	for _, m := range tuitest.Msgs(p.Update(msg.Changed{Kinds: state.KindRules})) {
		if q, ok := m.(msg.InstantQuery); ok {
			bq = q
		}
	}
	if bq.Expr != "slo:period_error_budget_remaining:ratio" {
		t.Fatalf("no budget query: %+v", bq)
	}
	sample := func(svc, name string, v float64) metrics.Sample {
		return metrics.Sample{Labels: labels.FromStrings("sloth_service", svc, "sloth_slo", name), Value: v}
	}
	stale := msg.InstantResult{ID: "overview:0:budget", Expr: bq.Expr, Result: metrics.Result{Type: "vector", Vector: metrics.Vector{sample("checkout", "availability", 0.99)}}}
	p.Update(stale)
	if v := ansi.Strip(p.View(160, 30)); strings.Contains(v, "BUDGET") {
		t.Fatalf("an answer to another query was taken:\n%s", v)
	}
	p.Update(msg.InstantResult{ID: bq.ID, Expr: bq.Expr, Result: metrics.Result{Type: "vector", Vector: metrics.Vector{
		sample("matchmaking", "availability", 0.62), sample("matchmaking", "latency", 0.31), sample("checkout", "availability", -0.2)}}})
	for _, w := range []int{160, 80} {
		v := ansi.Strip(p.View(w, 30))
		if !strings.Contains(v, "BUDGET") {
			t.Fatalf("%d columns: no BUDGET column:\n%s", w, v)
		}
		for svc, want := range map[string]string{"matchmaking": "31% left", "checkout": "spent", "profile-db": "—"} {
			line := ""
			for _, l := range strings.Split(v, "\n") {
				if strings.HasPrefix(strings.TrimLeft(l, " ▸"), svc+" ") {
					line = l
				}
			}
			if !strings.Contains(line, want) {
				t.Errorf("%d columns: %s line %q, want %q", w, svc, line, want)
			}
		}
	}
}

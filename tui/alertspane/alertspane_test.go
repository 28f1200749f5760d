package alertspane

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
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var now = tuitest.Now

func alert(name, service, sev string, st alerts.State, age time.Duration, summary string) alerts.Alert {
	a := alerts.Alert{
		Labels:      labels.FromStrings("alertname", name, "service", service, "severity", sev),
		Annotations: labels.FromStrings("summary", summary, "runbook_url", "https://runbooks.example.com/"+strings.ToLower(name)),
		StartsAt:    now.Add(-age), UpdatedAt: now.Add(-10 * time.Second),
	}
	a.Status.State = st
	return a
}

// fixture is a platform in trouble: a paging business alert grouped for
// the pager, a ticket inhibited by it, a silenced one, a pending one, and
// a resolved one.
func fixture() *state.Env {
	env := tuitest.Env()
	collapse := alert("MatchRateCollapsed", "matchmaking", "page", alerts.StateFiring, 4*time.Minute+12*time.Second,
		"Matches per active user down 62% against last week (0.31 vs 0.82)")
	collapse.Annotations = labels.FromStrings("summary", collapse.Summary(),
		"description", "Players queue but few matches form. The profile database answers slowly, so candidate lookups time out and the matcher gives up after three tries.",
		"runbook_url", "https://runbooks.example.com/matches")
	collapse.Status.Receivers = []string{"pager", "console"}
	errs := alert("HighErrorRatio", "matchmaking", "page", alerts.StateFiring, 3*time.Minute, "12% of requests fail")
	errs.Status.Receivers = []string{"pager"}
	ticket := alert("LatencyHigh", "matchmaking", "ticket", alerts.StateFiring, 2*time.Minute, "p99 latency 4.1s")
	ticket.Status.InhibitedBy = []string{fmt.Sprintf("%016x", collapse.Fingerprint())}
	silenced := alert("DiskFilling", "profile-db", "warning", alerts.StateFiring, 50*time.Minute, "disk 91% full")
	silenced.Status.SilencedBy = []string{"4b1c6e0e-0000-4000-8000-000000000001"}
	pending := alert("QueueBacklog", "matchmaking", "warning", alerts.StatePending, 40*time.Second, "queue 1,200 deep")
	resolved := alert("CertExpiring", "edge", "ticket", alerts.StateResolved, 2*time.Hour, "cert renewed")
	fromProm := alert("NodeDown", "infra", "page", alerts.StateFiring, 20*time.Minute, "node-7 is down")
	fromProm.GeneratorURL = "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D+%3D%3D+0&g0.tab=1"
	as := []alerts.Alert{collapse, errs, ticket, silenced, pending, resolved, fromProm}
	groups := []state.Group{
		{Receiver: "pager", Key: "{}/{severity=\"page\"}:{service=\"matchmaking\"}", Labels: labels.FromStrings("service", "matchmaking"),
			Fingerprints: []uint64{collapse.Fingerprint(), errs.Fingerprint(), ticket.Fingerprint()}},
		{Receiver: "tickets", Key: "{}:{service=\"profile-db\"}", Labels: labels.FromStrings("service", "profile-db"), Fingerprints: []uint64{silenced.Fingerprint()}},
		{Receiver: "pager", Key: "{}:{service=\"infra\"}", Labels: labels.FromStrings("service", "infra"), Fingerprints: []uint64{fromProm.Fingerprint()}},
	}
	rules := []alerts.Rule{{Name: "MatchRateCollapsed", Expr: "sum(rate(matches_total[5m])) / sum(active_users) < 0.5 * (sum(rate(matches_total[5m] offset 1w)) / sum(active_users offset 1w))",
		For: time.Minute, Labels: map[string]string{"severity": "page", "service": "matchmaking"}, Group: "matchmaking", File: "rules/matchmaking.yml", Line: 12}}
	incs := []incidents.Incident{{ID: 3, Service: "matchmaking", Title: "Matches collapsed", Status: incidents.StatusAcknowledged, AckedBy: "ana"}}
	env.State.Apply(state.Update{Alerts: &as, Groups: &groups, Rules: &rules, Incidents: &incs, At: now})
	return env
}

func press(p *Pane, names ...string) []tea.Msg {
	var out []tea.Msg
	for _, n := range names {
		out = append(out, tuitest.Msgs(p.Update(tuitest.Key(n)))...)
	}
	return out
}

// selectAlert puts the cursor on the named alert.
func selectAlert(t *testing.T, p *Pane, name string) {
	t.Helper()
	p.derive()
	for i, r := range p.rows {
		if a, ok := p.env.State.Alert(r.fp); ok && r.group == nil && a.Name() == name {
			p.cur = i
			p.remember()
			return
		}
	}
	t.Fatalf("no row for %s", name)
}

func typeText(p *Pane, s string) {
	for _, k := range tuitest.Keys(s) {
		p.Update(k)
	}
}

func TestGoldenList(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		p := New(fixture())
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("grouped_%dx%d", size.w, size.h), v)
		press(p, "v")
		tuitest.Golden(t, fmt.Sprintf("flat_%dx%d", size.w, size.h), p.View(size.w, size.h))
	}
}

// The list is grouped as the server notifies: each group's alerts under
// it, with counts; what no group holds (pending) comes last.
func TestGroupedAsTheyNotify(t *testing.T) {
	p := New(fixture())
	v := ansi.Strip(p.View(160, 30))
	// The groups that page first, the most firing first; muted ones
	// after; then what notifies nobody yet.
	order := []string{`pager · {service="matchmaking"}  2 firing · 1 muted`, "MatchRateCollapsed", "HighErrorRatio",
		"inhibited", "LatencyHigh", `pager · {service="infra"}`, "NodeDown", `tickets · {service="profile-db"}  1 muted`, "silenced", "DiskFilling", "not notifying", "pending", "QueueBacklog"}
	at := 0
	for _, want := range order {
		i := strings.Index(v[at:], want)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", want, v)
		}
		at += i
	}
	if strings.Contains(v, "CertExpiring") {
		t.Error("a resolved alert no group holds is not listed as pending")
	}
	// Folding a group hides its alerts, not its counts.
	press(p, "g", "space")
	if v := ansi.Strip(p.View(160, 30)); strings.Contains(v, "MatchRateCollapsed") || !strings.Contains(v, "▸ pager · {service=\"matchmaking\"}") {
		t.Errorf("folded:\n%s", v)
	}
}

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
		not    []string
	}{
		{"sev=page", []string{"MatchRateCollapsed", "HighErrorRatio", "NodeDown"}, []string{"LatencyHigh", "DiskFilling"}},
		{"state=silenced", []string{"DiskFilling"}, []string{"MatchRateCollapsed"}},
		{"matches", []string{"MatchRateCollapsed"}, []string{"HighErrorRatio"}},
		{"svc=matchmaking -state=inhibited", []string{"HighErrorRatio", "QueueBacklog"}, []string{"LatencyHigh", "NodeDown"}},
		{"receiver=~pager level>=error", []string{"MatchRateCollapsed", "HighErrorRatio"}, []string{"DiskFilling", "NodeDown"}},
	} {
		p := New(fixture())
		p.Update(msg.Open{Pane: "alerts", Arg: tc.filter})
		v := ansi.Strip(p.View(160, 30))
		for _, w := range tc.want {
			if !strings.Contains(v, w) {
				t.Errorf("%s: %s missing:\n%s", tc.filter, w, v)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(v, n) {
				t.Errorf("%s: %s shown:\n%s", tc.filter, n, v)
			}
		}
	}
	p := New(fixture())
	press(p, "/")
	typeText(p, "sev=~(")
	if !strings.Contains(p.box.Err, "bad regular expression") {
		t.Errorf("bad filter: %q", p.box.Err)
	}
}

// Enter opens the alert's detail and asks for its expression over the
// last hour and now; the answers draw a chart and the series.
func TestDetail(t *testing.T) {
	env := fixture()
	p := New(env)
	selectAlert(t, p, "MatchRateCollapsed")
	out := press(p, "enter")
	// The signal and the threshold over the last hour, the whole
	// expression now, its history.
	if p.detail == nil || len(out) != 4 {
		t.Fatalf("enter: detail %v, requests %#v", p.detail != nil, out)
	}
	rq, ok := out[0].(msg.RangeQuery)
	if !ok || rq.Expr != "sum(rate(matches_total[5m])) / sum(active_users)" || rq.End != now || rq.Start != now.Add(-time.Hour) {
		t.Fatalf("range request %#v", out[0])
	}
	iq := out[1].(msg.InstantQuery)
	if !strings.HasSuffix(iq.Expr, "< 0.5 * (sum(rate(matches_total[5m] offset 1w)) / sum(active_users offset 1w))") {
		t.Fatalf("instant request %#v", iq)
	}
	tq := out[2].(msg.RangeQuery)
	if tq.Expr != "0.5 * (sum(rate(matches_total[5m] offset 1w)) / sum(active_users offset 1w))" {
		t.Fatalf("threshold request %#v", tq)
	}
	var series []metrics.Series
	s := metrics.Series{Labels: labels.EmptyLabels()}
	for i := 0; i <= 240; i++ {
		v := 0.82 + 0.05*math.Sin(float64(i)/20)
		if i > 220 {
			v = 0.31
		}
		s.Points = append(s.Points, metrics.Point{T: rq.Start.Add(time.Duration(i) * 15 * time.Second), V: v})
	}
	series = append(series, s)
	threshold := metrics.Series{Labels: labels.EmptyLabels(), Points: []metrics.Point{{T: rq.Start, V: 0.41}, {T: rq.End, V: 0.41}}}
	p.Update(msg.RangeResult{ID: rq.ID, Expr: rq.Expr, Series: series, Start: rq.Start, End: rq.End})
	p.Update(msg.RangeResult{ID: tq.ID, Expr: tq.Expr, Series: []metrics.Series{threshold}, Start: rq.Start, End: rq.End})
	p.Update(msg.InstantResult{ID: iq.ID, Expr: iq.Expr, Result: metrics.Result{Type: "vector", Vector: metrics.Vector{{Labels: labels.EmptyLabels(), Value: 0.31, T: now}}}})
	p.Update(msg.RangeResult{ID: "alerts:other", Expr: rq.Expr}) // someone else's answer
	hq := out[3].(msg.HistoryQuery)
	if hq.Alert != "MatchRateCollapsed" || hq.Since != now.Add(-7*24*time.Hour) {
		t.Fatalf("history request %#v", hq)
	}
	fp := p.detail.fp
	p.Update(msg.HistoryResult{ID: hq.ID, Transitions: []alerts.Transition{
		{At: now.Add(-26 * time.Hour), Fingerprint: fp, State: alerts.StateFiring},
		{At: now.Add(-25 * time.Hour), Fingerprint: fp, State: alerts.StateResolved},
		{At: now.Add(-3 * time.Hour), Fingerprint: fp + 1, State: alerts.StateFiring}, // the same rule, other labels
		{At: now.Add(-5 * time.Minute), Fingerprint: fp, State: alerts.StatePending},
		{At: now.Add(-4 * time.Minute), Fingerprint: fp, State: alerts.StateFiring},
	}})
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}, {160, 60}} {
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("detail_%dx%d", size.w, size.h), v)
	}
	plain := ansi.Strip(p.View(160, 60))
	for _, want := range []string{"FIRING for 4m12s", "Players queue but few matches form.", "rule MatchRateCollapsed in rules/matchmaking.yml:12", "for             1m0s",
		"fires when  < 0.5 * (sum(rate(matches_total[5m] offset 1w))", "⠤", "━━ signal now 0.31", "threshold (< 0.5 * (sum(rate(matches_total[5m] offset 1w)) / sum(active_users offset 1w))) now 0.41", "{}  ", "0.31", "pager, console", "INC-3 acknowledged by ana", "s silence",
		"fired 2 times in the last 7 days", "Mon 23 Nov 10:01:00  firing   (4m00s ago)", "Mon 23 Nov 10:00:00  pending  (5m00s ago)", "Sun 22 Nov 08:05:00  firing   (26h00m ago)"} {
		if !strings.Contains(plain, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if got := p.Crumbs(); len(got) != 1 || got[0] != "MatchRateCollapsed" {
		t.Errorf("crumbs %v", got)
	}
	if !p.Back() || p.detail != nil {
		t.Error("esc should close the detail")
	}
}

// An alert Prometheus sent carries its expression in its generator URL;
// one with neither rule nor URL says so.
func TestDetailWithoutARule(t *testing.T) {
	p := New(fixture())
	selectAlert(t, p, "NodeDown") // from Prometheus
	out := press(p, "enter")
	if len(out) != 3 || out[0].(msg.RangeQuery).Expr != `up{job="node"}` || out[1].(msg.InstantQuery).Expr != `up{job="node"} == 0` || out[2].(msg.HistoryQuery).Alert != "NodeDown" {
		t.Fatalf("requests %#v", out)
	}
	if v := ansi.Strip(p.View(120, 40)); !strings.Contains(v, "the generator URL of the alert (prometheus:9090)") {
		t.Errorf("detail:\n%s", v)
	}
	p.Back()
	selectAlert(t, p, "QueueBacklog")
	out = press(p, "enter")
	if len(out) != 1 || !strings.Contains(ansi.Strip(p.View(120, 40)), "sent as is") {
		t.Errorf("no expression: requests %v\n%s", out, ansi.Strip(p.View(120, 40)))
	}
}

// s asks how long, then sends a silence request for exactly that alert.
func TestSilence(t *testing.T) {
	p := New(fixture())
	selectAlert(t, p, "MatchRateCollapsed")
	press(p, "s")
	if !p.Capturing() || !strings.Contains(ansi.Strip(p.View(120, 20)), "silence MatchRateCollapsed for: 2h") {
		t.Fatalf("prompt:\n%s", ansi.Strip(p.View(120, 20)))
	}
	press(p, "backspace", "backspace")
	typeText(p, "soon")
	if out := press(p, "enter"); len(out) != 0 || !strings.Contains(p.promptE, `"soon" is not a duration`) {
		t.Fatalf("bad duration: %v %q", out, p.promptE)
	}
	for range 4 {
		press(p, "backspace")
	}
	typeText(p, "1d")
	out := press(p, "enter")
	if len(out) != 1 {
		t.Fatalf("out %v", out)
	}
	s := out[0].(msg.Silence)
	if s.Alert.Name() != "MatchRateCollapsed" || s.For != 24*time.Hour || p.Capturing() {
		t.Errorf("silence %+v", s)
	}
	env := fixture()
	env.ReadOnly = true
	ro := New(env)
	if out := press(ro, "j", "s"); len(out) != 1 || !out[0].(msg.Status).Err || ro.Capturing() {
		t.Errorf("read-only: %v", out)
	}
}

// The cursor stays on its alert when the list changes under it.
func TestSelectionSurvivesUpdates(t *testing.T) {
	env := fixture()
	p := New(env)
	selectAlert(t, p, "HighErrorRatio")
	r, _ := p.selected()
	want := r.fp
	as := append([]alerts.Alert{alert("New", "matchmaking", "page", alerts.StateFiring, time.Second, "new")}, env.State.Alerts...)
	groups := env.State.Groups
	groups[0].Fingerprints = append([]uint64{as[0].Fingerprint()}, groups[0].Fingerprints...)
	p.Update(msg.Changed{Kinds: env.State.Apply(state.Update{Alerts: &as, Groups: &groups})})
	if r, _ := p.selected(); r.fp != want {
		a, _ := env.State.Alert(r.fp)
		t.Errorf("cursor moved to %v", a.Name())
	}
}

// Everything an alert's sender controls is drawn with its control
// characters visible.
func TestOutsideTextIsClean(t *testing.T) {
	env := tuitest.Env()
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "X"+tuitest.Poison, "service", tuitest.Poison, "severity", tuitest.Poison, tuitest.Poison, tuitest.Poison),
		Annotations: labels.FromStrings("summary", tuitest.Poison, "description", "a\n"+tuitest.Poison, tuitest.Poison, tuitest.Poison), StartsAt: now,
		GeneratorURL: "http://x/graph?g0.expr=" + tuitest.Poison}
	a.Status.State = alerts.StateFiring
	a.Status.Receivers = []string{tuitest.Poison}
	a.Status.SilencedBy = []string{tuitest.Poison}
	as := []alerts.Alert{a}
	groups := []state.Group{{Receiver: tuitest.Poison, Key: tuitest.Poison, Labels: labels.FromStrings("service", tuitest.Poison), Fingerprints: []uint64{a.Fingerprint()}}}
	env.State.Apply(state.Update{Alerts: &as, Groups: &groups, At: now})
	p := New(env)
	screens := []string{p.View(200, 30)}
	press(p, "j", "enter")
	screens = append(screens, p.View(200, 60))
	for _, v := range screens {
		if !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
			t.Errorf("raw sequences on screen:\n%q", v)
		}
	}
}

// With 10,000 alerts the list costs what its visible rows cost; deriving
// it again after a change costs one pass.
func BenchmarkTenThousandAlerts(b *testing.B) {
	env := tuitest.Env()
	as := make([]alerts.Alert, 10_000)
	fps := make([]uint64, len(as))
	for i := range as {
		as[i] = alert(fmt.Sprintf("Alert%d", i%50), fmt.Sprintf("svc-%d", i%40), "page", alerts.StateFiring, time.Duration(i)*time.Second, "something is wrong")
		as[i].Labels = labels.FromStrings("alertname", fmt.Sprintf("Alert%d", i%50), "instance", fmt.Sprintf("host-%d", i), "service", fmt.Sprintf("svc-%d", i%40), "severity", "page")
		fps[i] = as[i].Fingerprint()
	}
	var groups []state.Group
	for g := range 40 {
		var members []uint64
		for i := g; i < len(as); i += 40 {
			members = append(members, fps[i])
		}
		groups = append(groups, state.Group{Receiver: "pager", Key: fmt.Sprint(g), Labels: labels.FromStrings("service", fmt.Sprintf("svc-%d", g)), Fingerprints: members})
	}
	env.State.Apply(state.Update{Alerts: &as, Groups: &groups, At: now})
	p := New(env)
	p.View(160, 45)
	b.Run("view", func(b *testing.B) {
		for b.Loop() {
			p.View(160, 45)
		}
	})
	b.Run("derive after a change", func(b *testing.B) {
		for b.Loop() {
			p.Update(msg.Changed{Kinds: state.KindAlerts})
			p.View(160, 45)
		}
	})
	p.Update(msg.Open{Pane: "alerts", Arg: "instance=~host-1.*"})
	b.Run("filtered view after a change", func(b *testing.B) {
		for b.Loop() {
			p.Update(msg.Changed{Kinds: state.KindAlerts})
			p.View(160, 45)
		}
	})
}

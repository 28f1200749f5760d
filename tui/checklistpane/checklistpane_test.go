package checklistpane

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/catalog"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

var now = tuitest.Now

func TestMain(m *testing.M) {
	time.Local = time.UTC // screens show local times
	os.Exit(m.Run())
}

// runs are the newest runs of the prod checklist for two services: web
// fails gold (its alert chain has no one on call), api passes bronze.
func runs() []checklist.Run {
	web := checklist.Run{ID: 2, Checklist: "prod", Title: "Production readiness", Service: "web", Tier: 1, Levels: []string{"bronze", "silver", "gold"},
		Level: "gold", LevelReason: "tier 1", Achieved: "", Outcome: checklist.OutcomeFail, At: now.Add(-2 * time.Hour), By: "alice",
		Results: []checklist.Result{
			{Check: "alerts-a-human", Title: "Alerts a human if it is down", Level: "bronze", Kind: checklist.KindProbe, Required: true, Status: checklist.Fail,
				Summary: "on-call: nobody on call Sat 02:00–09:00", Links: []checklist.Link{
					{Name: "rule", Status: checklist.Pass, Detail: "WebDown (rules/web.yml:4) alerts on up"},
					{Name: "series", Status: checklist.Pass, Detail: `up{job="web"} matches 1 series`},
					{Name: "route", Status: checklist.Pass, Detail: "routes to receiver pager, which opens an incident"},
					{Name: "on-call", Status: checklist.Fail, Detail: "nobody on call Sat 02:00–09:00"},
				}},
			{Check: "enforces-ssl", Title: "Enforces SSL access", Level: "bronze", Kind: checklist.KindProbe, Required: true, Status: checklist.Warn,
				Summary: "expiry: expires in 20 days"},
			{Check: "lifecycle-board", Title: "On the board", Level: "bronze", Kind: checklist.KindAttestation, Required: true, Status: checklist.Pass,
				Summary: "attested by bob on 2026-11-20", Source: "attestation", By: "bob", Expires: now.Add(80 * 24 * time.Hour)},
			{Check: "security-audit", Title: "Security audit", Level: "silver", Kind: checklist.KindExternal, Required: true, Status: checklist.Waived,
				Underlying: checklist.NotReported, Summary: "waived by carol on 2026-11-22: booked for January", Source: "waiver", By: "carol", Expires: now.Add(10 * 24 * time.Hour)},
			{Check: "simulated-failures", Title: "Simulated failures", Level: "gold", Kind: checklist.KindProbe, Required: true, Status: checklist.NotReported,
				Summary: "no drill in the last 90 days"},
		}}
	api := checklist.Run{ID: 3, Checklist: "prod", Title: "Production readiness", Service: "api", Tier: 3, Levels: []string{"bronze", "silver", "gold"},
		Level: "bronze", LevelReason: "default", Achieved: "bronze", Outcome: checklist.OutcomePass, At: now.Add(-5 * time.Minute),
		Results: []checklist.Result{{Check: "alerts-a-human", Level: "bronze", Required: true, Status: checklist.Pass, Summary: "ok"},
			{Check: "structured-logging", Level: "silver", Status: checklist.Fail, Summary: "20% of lines are structured"}}}
	return []checklist.Run{api, web}
}

// records are web's records: one current attestation, one current waiver
// that expires soon, and one that expired (not shown).
func records() []checklist.Record {
	return []checklist.Record{
		{Kind: checklist.RecordAttestation, Checklist: "prod", Check: "lifecycle-board", Service: "web", Status: checklist.Pass, By: "bob",
			At: now.Add(-3 * 24 * time.Hour), Expires: now.Add(80 * 24 * time.Hour), EvidenceURL: "https://board.example/42"},
		{Kind: checklist.RecordWaiver, Checklist: "prod", Check: "security-audit", Service: "web", Status: checklist.Waived, By: "carol",
			At: now.Add(-24 * time.Hour), Expires: now.Add(10 * 24 * time.Hour), Text: "booked for January"},
		{Kind: checklist.RecordAttestation, Checklist: "prod", Check: "credentials-rotation", Service: "web", Status: checklist.Pass, By: "dana",
			At: now.Add(-100 * 24 * time.Hour), Expires: now.Add(-10 * 24 * time.Hour)},
	}
}

// earlier is an older run of web.
func earlier() checklist.Run {
	r := runs()[1]
	r.ID, r.At, r.Achieved = 1, now.Add(-48*time.Hour), ""
	return r
}

func asked(t *testing.T, p *Pane, m any) []Query {
	t.Helper()
	var out []Query
	for _, x := range tuitest.Msgs(p.Update(m)) {
		q, ok := x.(Query)
		if !ok {
			t.Fatalf("the pane sent %T, want only Queries", x)
		}
		out = append(out, q)
	}
	return out
}

// loadedPane is the pane after the list's answer arrived.
func loadedPane(t *testing.T) *Pane {
	t.Helper()
	p := New(tuitest.Env())
	qs := asked(t, p, msg.Tick{Now: now})
	if len(qs) != 1 || qs[0].Service != "" {
		t.Fatalf("first tick asked %+v, want the list", qs)
	}
	p.Update(Result{ID: qs[0].ID, Runs: runs()})
	return p
}

// detailPane is the pane with web's detail open and answered.
func detailPane(t *testing.T) *Pane {
	t.Helper()
	p := loadedPane(t)
	qs := asked(t, p, tuitest.Key("enter")) // web fails: it is listed first
	if len(qs) != 1 || qs[0].Service != "web" || qs[0].Limit != HistoryRuns {
		t.Fatalf("enter asked %+v, want web's history", qs)
	}
	p.Update(Result{ID: qs[0].ID, Service: "web", Runs: []checklist.Run{runs()[1], earlier()}, Records: records()})
	return p
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		v := loadedPane(t).View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("list_%dx%d", size.w, size.h), v)
		v = detailPane(t).View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("detail_%dx%d", size.w, size.h), v)
	}
}

// The list puts the failing run first, with what blocks it; a passing
// run's optional failure does not block it.
func TestListShowsWhatBlocks(t *testing.T) {
	v := ansi.Strip(loadedPane(t).View(200, 10))
	lines := strings.Split(v, "\n")
	if !strings.Contains(v, "2 runs, 1 not at the level required") {
		t.Errorf("title:\n%s", v)
	}
	web, api := -1, -1
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "web "):
			web = i
			for _, want := range []string{"gold (tier 1)", "none", "FAIL", "2h00m ago", "alerts-a-human (fail), simulated-failures (not reported)"} {
				if !strings.Contains(l, want) {
					t.Errorf("web's row lacks %q: %q", want, l)
				}
			}
			if strings.Contains(l, "enforces-ssl") || strings.Contains(l, "security-audit") {
				t.Errorf("a warning or a waiver blocks web: %q", l)
			}
		case strings.HasPrefix(l, "api "):
			api = i
			if !strings.Contains(l, "PASS") || !strings.HasSuffix(strings.TrimRight(l, " "), "—") {
				t.Errorf("api's row: %q", l)
			}
		}
	}
	if web < 0 || api < 0 || web > api {
		t.Errorf("want web (failing) above api (passing):\n%s", v)
	}
}

// A catalogue service that never ran a checklist is listed as such, after
// the failing runs; enter opens it.
func TestServicesNeverChecked(t *testing.T) {
	env := tuitest.Env()
	env.State.Apply(state.Update{Services: &[]catalog.Service{{Name: "api"}, {Name: "billing", Tier: 2}, {Name: "web"}}, At: now})
	p := New(env)
	if v := ansi.Strip(p.View(160, 10)); strings.Contains(v, "billing") {
		t.Errorf("never checked before the server answered:\n%s", v)
	}
	asked(t, p, msg.Tick{Now: now})
	p.Update(Result{ID: listID, Runs: runs()})
	v := ansi.Strip(p.View(160, 10))
	if !strings.Contains(v, "Readiness · 2 runs, 1 not at the level required, 1 service never checked") {
		t.Errorf("title:\n%s", v)
	}
	var order []string
	for _, l := range strings.Split(v, "\n") {
		if f := strings.Fields(l); len(f) > 0 && slices.Contains([]string{"web", "api", "billing"}, f[0]) {
			order = append(order, f[0])
			if f[0] == "billing" && (!strings.Contains(l, "NEVER") || !strings.Contains(l, "oncall checklist prod --service billing")) {
				t.Errorf("billing's row: %q", l)
			}
		}
	}
	if !slices.Equal(order, []string{"web", "billing", "api"}) {
		t.Errorf("order %v, want web (failing), billing (never), api (passing)", order)
	}
	p.Update(tuitest.Key("j"))
	if qs := asked(t, p, tuitest.Key("enter")); len(qs) != 1 || qs[0].Service != "billing" {
		t.Fatalf("enter on billing asked %+v", qs)
	}
}

// The detail shows every check, each link of a chain, the records that
// count now (not the expired one) and the earlier runs.
func TestDetail(t *testing.T) {
	p := detailPane(t)
	if c := p.Crumbs(); len(c) != 2 || c[0] != "web" || c[1] != "prod" {
		t.Errorf("crumbs %q", c)
	}
	v := ansi.Strip(p.View(200, 40))
	for _, want := range []string{
		"gold required (tier 1): FAIL, achieved no level",
		"FAIL         alerts-a-human",
		"PASS         rule: WebDown",
		"FAIL         on-call: nobody on call Sat 02:00–09:00",
		"WAIVED       security-audit",
		"would be not reported without the waiver",
		"attestation PASS     lifecycle-board by bob until 2027-02-11 (80d) · https://board.example/42",
		"waiver      WAIVED   security-audit by carol until 2026-12-03 (10d) · booked for January",
		"2026-11-21 10:05 FAIL  gold required, achieved none",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
	if strings.Contains(v, "credentials-rotation") {
		t.Errorf("an expired attestation is shown as counting:\n%s", v)
	}
	if !p.Back() || p.Crumbs() != nil || p.Back() {
		t.Error("esc does not leave the detail once")
	}
}

// The pane asks when shown, again once what it shows is RefreshEvery old,
// never twice at once, and at once on r.
func TestAsksWhenShownAndStale(t *testing.T) {
	env := tuitest.Env()
	clock := now
	env.Now = func() time.Time { return clock }
	p := New(env)
	if v := ansi.Strip(p.View(100, 5)); !strings.Contains(v, "Asking the server") {
		t.Errorf("before any answer:\n%s", v)
	}
	if qs := asked(t, p, msg.Tick{Now: clock}); len(qs) != 1 {
		t.Fatalf("first tick asked %v", qs)
	}
	if qs := asked(t, p, msg.Tick{Now: clock}); len(qs) != 0 {
		t.Fatalf("asked again while the first query is out: %v", qs)
	}
	p.Update(Result{ID: listID, Runs: runs()})
	clock = clock.Add(RefreshEvery - time.Second)
	if qs := asked(t, p, msg.Tick{Now: clock}); len(qs) != 0 {
		t.Fatalf("asked again after %s: %v", RefreshEvery-time.Second, qs)
	}
	clock = clock.Add(time.Second)
	if qs := asked(t, p, msg.Tick{Now: clock}); len(qs) != 1 {
		t.Fatalf("did not ask again after %s: %v", RefreshEvery, qs)
	}
	p.Update(Result{ID: listID, Runs: runs()})
	if qs := asked(t, p, tuitest.Key("r")); len(qs) != 1 {
		t.Fatalf("r asked %v", qs)
	}
}

// :checklist SERVICE opens the service's detail at once.
func TestOpenService(t *testing.T) {
	p := New(tuitest.Env())
	qs := asked(t, p, msg.Open{Pane: Name, Arg: "api"})
	if len(qs) != 2 || qs[1].Service != "api" {
		t.Fatalf("asked %+v, want the list and api's detail", qs)
	}
	// An answer about another service (a detail left since) is dropped.
	p.Update(Result{ID: detailID, Service: "web", Runs: runs()[1:]})
	if v := ansi.Strip(p.View(120, 10)); strings.Contains(v, "gold required") {
		t.Errorf("web's answer shown for api:\n%s", v)
	}
	p.Update(Result{ID: detailID, Service: "api", Runs: runs()[:1]})
	v := ansi.Strip(p.View(120, 20))
	for _, want := range []string{"Readiness · api · prod", "bronze required (default): PASS, achieved bronze", "None: oncall checklist attest|waive|report prod CHECK --service api", "None."} {
		if !strings.Contains(v, want) {
			t.Errorf("%q missing:\n%s", want, v)
		}
	}
	p.Update(Result{ID: detailID, Service: "api"})
	p.Back()
	asked(t, p, msg.Open{Pane: Name, Arg: "nosuch"})
	p.Update(Result{ID: detailID, Service: "nosuch"})
	if v := ansi.Strip(p.View(120, 10)); !strings.Contains(v, "No run of a checklist for nosuch yet") {
		t.Errorf("a service without runs:\n%s", v)
	}
}

// An error says why and keeps what was shown.
func TestErrorKeepsWhatWasShown(t *testing.T) {
	p := loadedPane(t)
	asked(t, p, tuitest.Key("r"))
	p.Update(Result{ID: listID, Err: errors.New("server 127.0.0.1:9093: connection refused\nmore")})
	v := ansi.Strip(p.View(160, 10))
	if !strings.Contains(v, "Could not read the runs: server 127.0.0.1:9093: connection refused") || strings.Contains(v, "more") || !strings.Contains(v, "web ") {
		t.Errorf("after an error:\n%s", v)
	}
	p = New(tuitest.Env())
	asked(t, p, msg.Tick{Now: now})
	p.Update(Result{ID: listID})
	if v := ansi.Strip(p.View(160, 5)); !strings.Contains(v, "No checklist has run yet") {
		t.Errorf("no runs:\n%s", v)
	}
}

// j/k move the selection; enter opens the selected run.
func TestSelection(t *testing.T) {
	p := loadedPane(t)
	for _, k := range []string{"j", "j", "j"} {
		p.Update(tuitest.Key(k))
	}
	qs := asked(t, p, tuitest.Key("enter"))
	if len(qs) != 1 || qs[0].Service != "api" {
		t.Fatalf("enter on the last row asked %+v", qs)
	}
	p.Back()
	p.Update(tuitest.Key("k"))
	if qs := asked(t, p, tuitest.Key("enter")); len(qs) != 1 || qs[0].Service != "web" {
		t.Fatalf("enter on the first row asked %+v", qs)
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	poison := tuitest.Poison
	r := checklist.Run{Checklist: poison, Service: poison, Level: poison, LevelReason: poison, Achieved: poison, By: poison, At: now, Outcome: checklist.OutcomeFail,
		Results: []checklist.Result{{Check: poison, Level: poison, Required: true, Status: checklist.Fail, Summary: poison, By: poison, Expires: now.Add(time.Hour),
			Links: []checklist.Link{{Name: poison, Status: checklist.Fail, Detail: poison}}}}}
	rec := checklist.Record{Kind: checklist.RecordWaiver, Checklist: poison, Service: poison, Check: poison, Status: checklist.Waived, By: poison, Text: poison,
		EvidenceURL: poison, At: now.Add(-time.Hour), Expires: now.Add(time.Hour)}
	p := New(tuitest.Env())
	asked(t, p, msg.Tick{Now: now})
	p.Update(Result{ID: listID, Runs: []checklist.Run{r}})
	if v := p.View(300, 10); !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("list: raw sequences:\n%q", v)
	}
	asked(t, p, tuitest.Key("enter"))
	p.Update(Result{ID: detailID, Service: poison, Runs: []checklist.Run{r, r}, Records: []checklist.Record{rec}, Err: nil})
	if v := p.View(300, 30); !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("detail: raw sequences:\n%q", v)
	}
	for _, c := range p.Crumbs() {
		if !tuitest.Clean(c) {
			t.Errorf("crumb %q", c)
		}
	}
}

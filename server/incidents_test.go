package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/client"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/store"
)

func status(err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

// An incident declared by hand pages its service's policy, runs the whole
// lifecycle through the API, and every refused step is an error with its
// status, never a silent no-op.
func TestIncidentLifecycleThroughTheAPI(t *testing.T) {
	f := setup(t, "")
	ctx := context.Background()
	inc, err := f.c.Declare(ctx, client.Declaration{Title: "Players cannot log in", Severity: "2", Service: "mm", By: "alice", Source: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.ID != 1 || inc.Severity != incidents.SEV2 || inc.DeclaredBy != "alice" || inc.Escalation.Policy != "default" ||
		!slices.Equal(inc.Escalation.Paged, []string{"alice"}) || inc.RunbookURL != "https://runbooks.example.com/mm" || !inc.CommanderNeeded {
		t.Fatalf("declared %+v", inc)
	}
	f.step(f.now)
	if got := pagesTo(t, f, inc.ID); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("pages %v", got)
	}
	act := func(action string, a client.Action) (incidents.Incident, error) {
		if a.By == "" {
			a.By = "alice"
		}
		return f.c.Act(ctx, inc.ID, action, a)
	}
	steps := []struct {
		action string
		a      client.Action
		code   int // 0: accepted
		check  func(incidents.Incident) bool
	}{
		{"assign", client.Action{Role: "ic", User: "@riley"}, 0, func(i incidents.Incident) bool {
			return i.Role(incidents.RoleCommander) == "riley" && !i.CommanderNeeded
		}},
		{"assign", client.Action{Role: "boss", User: "x"}, http.StatusBadRequest, nil},
		{"ack", client.Action{}, 0, func(i incidents.Incident) bool {
			return i.Status == incidents.StatusAcknowledged && i.AckedBy == "alice"
		}},
		{"ack", client.Action{By: "bob"}, http.StatusConflict, nil},
		{"update", client.Action{Text: "Login fails for EU players; rolling back.", Public: true, Title: "Login problems"}, 0, func(i incidents.Incident) bool {
			return len(i.Updates) == 1 && i.Updates[0].Public && i.PublicTitle == "Login problems"
		}},
		{"update", client.Action{Text: " "}, http.StatusBadRequest, nil},
		{"note", client.Action{Text: "auth-db p99 at 4s"}, 0, func(i incidents.Incident) bool { return i.Timeline[len(i.Timeline)-1].Text == "auth-db p99 at 4s" }},
		{"tasks", client.Action{Text: "roll back auth 3.1", Owner: "bob"}, 0, func(i incidents.Incident) bool { return len(i.Tasks) == 1 && i.Tasks[0].Owner == "bob" }},
		{"tasks/1/done", client.Action{By: "bob"}, 0, func(i incidents.Incident) bool { return i.Tasks[0].Done && i.Tasks[0].DoneBy == "bob" }},
		{"tasks/1/done", client.Action{}, http.StatusConflict, nil},
		{"tasks/9/done", client.Action{}, http.StatusBadRequest, nil},
		{"severity", client.Action{Severity: "SEV1"}, 0, func(i incidents.Incident) bool { return i.Severity == incidents.SEV1 }},
		{"severity", client.Action{Severity: "SEV7"}, http.StatusBadRequest, nil},
		{"channel", client.Action{Channel: "C0LOGIN"}, 0, func(i incidents.Incident) bool { return i.Channel == "C0LOGIN" }},
		{"channel", client.Action{Channel: "#login war room"}, http.StatusBadRequest, nil},
		{"escalate", client.Action{}, 0, func(i incidents.Incident) bool {
			return i.Status == incidents.StatusTriggered && slices.Equal(i.Escalation.Paged, []string{"riley"})
		}},
		{"mitigate", client.Action{Why: "rolled back"}, 0, func(i incidents.Incident) bool {
			return i.Status == incidents.StatusMitigated && i.MitigatedBy == "alice"
		}},
		{"ack", client.Action{}, http.StatusConflict, nil},
		{"escalate", client.Action{}, http.StatusConflict, nil},
		{"resolve", client.Action{}, 0, func(i incidents.Incident) bool { return i.Status == incidents.StatusResolved }},
		{"resolve", client.Action{}, http.StatusConflict, nil},
		{"assign", client.Action{Role: "scribe", User: "bob"}, http.StatusConflict, nil},
		{"reopen", client.Action{Why: "it is back"}, 0, func(i incidents.Incident) bool {
			return i.Status == incidents.StatusTriggered && slices.Equal(i.Escalation.Paged, []string{"alice"})
		}},
		{"explode", client.Action{}, http.StatusNotFound, nil},
	}
	for _, st := range steps {
		got, err := act(st.action, st.a)
		switch {
		case st.code != 0 && status(err) != st.code:
			t.Fatalf("%s %+v: %v, want HTTP %d", st.action, st.a, err, st.code)
		case st.code != 0 && !strings.Contains(err.Error(), "INC-1") && st.action != "explode" && st.code != http.StatusBadRequest:
			t.Errorf("%s: the error does not name the incident: %v", st.action, err)
		case st.code == 0 && err != nil:
			t.Fatalf("%s %+v: %v", st.action, st.a, err)
		case st.code == 0 && !st.check(got):
			t.Fatalf("%s: %+v", st.action, got)
		}
	}
	f.step(f.now)
	// Declared, then escalated, then reopened: alice, riley, alice.
	if got := pagesTo(t, f, inc.ID); !slices.Equal(got, []string{"alice", "riley", "alice"}) {
		t.Errorf("pages %v", got)
	}
	// Every action is on the timeline with who did it and through what.
	stored, _ := f.c.Incident(ctx, inc.ID)
	var actors []string
	for _, ev := range stored.Timeline {
		if ev.Actor != "" {
			actors = append(actors, ev.Kind+":"+ev.Actor+"/"+ev.Source)
		}
	}
	for _, want := range []string{"opened:alice/cli", "role:alice/api", "acknowledged:alice/api", "task-done:bob/api", "mitigated:alice/api", "reopened:alice/api"} {
		if !slices.Contains(actors, want) {
			t.Errorf("timeline lacks %s: %v", want, actors)
		}
	}
	if _, err := f.c.Incident(ctx, 99); status(err) != http.StatusNotFound {
		t.Errorf("unknown incident: %v", err)
	}
	// The channel's messages, as the Slack bot keeps them, in a range.
	if id, err := f.st.ChannelIncident(ctx, "C0LOGIN"); err != nil || id != inc.ID {
		t.Fatalf("the store's channel index: %d, %v", id, err)
	}
	for i, text := range []string{"looking", "rolled back"} {
		if err := f.st.PutChatMessage(ctx, chat.Message{Incident: inc.ID, Channel: "C0LOGIN", ID: fmt.Sprintf("1.%d", i), Author: "U0BOB", Text: text, At: f.now.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if ms, err := f.c.ChatMessages(ctx, inc.ID, f.now.Add(30*time.Second), time.Time{}); err != nil || len(ms) != 1 || ms[0].Text != "rolled back" {
		t.Errorf("chat from 30s on: %+v, %v", ms, err)
	}
	if _, err := f.c.ChatMessages(ctx, 99, time.Time{}, time.Time{}); status(err) != http.StatusNotFound {
		t.Errorf("chat of an unknown incident: %v", err)
	}
	if _, err := f.c.Act(ctx, 99, "ack", client.Action{By: "alice"}); status(err) != http.StatusNotFound {
		t.Errorf("ack an unknown incident: %v", err)
	}
}

func pagesTo(t *testing.T, f *fixture, id int64) []string {
	t.Helper()
	ms, err := f.st.Messages(context.Background(), store.MessageFilter{Kind: notify.KindPage})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		if p := ms[i].Page; p != nil && p.IncidentID == id {
			out = append(out, p.Target)
		}
	}
	return out
}

func TestDeclareBadInput(t *testing.T) {
	f := setup(t, "")
	for _, tc := range []struct{ body, want string }{
		{`{"title":"x"}`, `"by" must name who declares`},
		{`{"title":" ","by":"a"}`, "the title is empty"},
		{`{"title":"x","by":"a","severity":"SEV9"}`, "unknown severity"},
		{`{"title":"x","by":"a","service":"nope"}`, `unknown service "nope"`},
		{`{"title":"x","by":"a","policy":"nope"}`, `unknown escalation policy "nope"`},
		{`{"title":"x","by":"a","colour":"red"}`, "unknown field"},
		{`[`, "bad request body"},
	} {
		code, body := f.do(t, "POST", "/api/v1/incidents", tc.body)
		var eb struct{ Error string }
		if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &eb) != nil || !strings.Contains(eb.Error, tc.want) {
			t.Errorf("%s: %d %s", tc.body, code, body)
		}
	}
	if incs, _ := f.st.Incidents(context.Background(), store.IncidentFilter{}); len(incs) != 0 {
		t.Errorf("a refused declaration left %d incidents", len(incs))
	}
	// A drill pages as a drill; no page at all with no_page.
	code, body := f.do(t, "POST", "/api/v1/incidents", `{"title":"failover rehearsal","by":"a","service":"mm","drill":true}`)
	if code != http.StatusCreated {
		t.Fatalf("drill: %d %s", code, body)
	}
	code, body = f.do(t, "POST", "/api/v1/incidents", `{"title":"quiet","by":"a","no_page":true}`)
	var quiet incidents.Incident
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &quiet) != nil || quiet.Escalation.Policy != "" {
		t.Fatalf("no page: %d %s", code, body)
	}
	f.step(f.now)
	ms, _ := f.st.Messages(context.Background(), store.MessageFilter{Kind: notify.KindPage})
	if len(ms) != 1 || !ms[0].Page.Drill || !strings.HasPrefix(ms[0].Page.Subject, "[DRILL]") {
		t.Errorf("pages %+v", ms)
	}
}

// Two incidents merge: the alert group of the one merged in attaches to
// the other from then on.
func TestMergeLinksAlertGroups(t *testing.T) {
	f := setup(t, "")
	ctx := context.Background()
	for _, svc := range []string{"mm", "profile-db"} {
		if code, body := f.do(t, "POST", "/api/v2/alerts", "["+postable("Down", "service", svc, "severity", "page")+"]"); code != 200 {
			t.Fatalf("post: %d %s", code, body)
		}
	}
	f.step(t0.Add(time.Second))
	incs, _ := f.c.Incidents(ctx)
	if len(incs) != 2 {
		t.Fatalf("incidents %d", len(incs))
	}
	merged, err := f.c.Act(ctx, incs[1].ID, "merge", client.Action{By: "alice", Into: incs[0].ID})
	if err != nil || len(merged.Keys()) != 2 || merged.AlertsFiring != 2 {
		t.Fatalf("merge: %+v %v", merged, err)
	}
	if _, err := f.c.Act(ctx, incs[1].ID, "merge", client.Action{By: "alice", Into: incs[0].ID}); status(err) != http.StatusConflict {
		t.Errorf("merge twice: %v", err)
	}
	src, _ := f.c.Incident(ctx, incs[1].ID)
	if src.Status != incidents.StatusResolved || src.MergedInto != incs[0].ID {
		t.Errorf("merged-in incident %+v", src)
	}
	// profile-db resolves while mm still fires (re-sent, as Prometheus
	// does): the merged incident hears of it, and stays open for mm.
	f.now = t0.Add(4 * time.Minute)
	if code, body := f.do(t, "POST", "/api/v2/alerts", `[{"labels":{"alertname":"Down","service":"profile-db","severity":"page"},"endsAt":"`+f.now.Format(time.RFC3339)+`"},`+postable("Down", "service", "mm", "severity", "page")+`]`); code != 200 {
		t.Fatalf("resolve post: %d %s", code, body)
	}
	f.step(t0.Add(5*time.Minute + 2*time.Second))
	got, _ := f.c.Incident(ctx, incs[0].ID)
	if got.Status != incidents.StatusTriggered || got.AlertsFiring != 1 {
		t.Errorf("after profile-db resolved: %s with %d firing", got.Status, got.AlertsFiring)
	}
	if open, _ := f.c.Incidents(ctx); len(open) != 1 {
		t.Errorf("a new incident opened for a merged group: %d open", len(open))
	}
}

func TestWhoAndSchedules(t *testing.T) {
	f := setup(t, "")
	var who schedule.Who
	code, body := f.do(t, "GET", "/api/v1/who", "")
	if code != 200 || json.Unmarshal([]byte(body), &who) != nil {
		t.Fatalf("who: %d %s", code, body)
	}
	if who.Policy != "default" || len(who.Steps) != 2 || who.Steps[0].Users[0] != "alice" || len(who.Schedules) != 1 || who.Schedules[0].Next[0] != "bob" {
		t.Fatalf("who %+v", who)
	}
	// A week on it is bob; by service; a schedule by name; an unknown one.
	later := t0.Add(8 * 24 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		q    string
		code int
		want string
	}{
		{"?at=" + later, 200, `"users":["bob"]`},
		{"?service=mm", 200, `"policy":"default"`},
		{"?schedule=p", 200, `"schedule":"p"`},
		{"?schedule=nope", 404, `unknown schedule`},
		{"?service=nope", 404, `unknown service`},
		{"?at=yesterday", 400, `at:`},
		{"?at=99999999999999", 400, `out of range`},
	} {
		code, body := f.do(t, "GET", "/api/v1/who"+tc.q, "")
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("who%s: %d %s", tc.q, code, body)
		}
	}
	code, body = f.do(t, "GET", "/api/v1/schedules/p/shifts?from="+t0.Format(time.RFC3339)+"&to="+t0.Add(21*24*time.Hour).Format(time.RFC3339), "")
	var spans []schedule.Span
	if code != 200 || json.Unmarshal([]byte(body), &spans) != nil || len(spans) != 3 || spans[1].Users[0] != "bob" {
		t.Fatalf("shifts: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/schedules/p/lint?from="+t0.Format(time.RFC3339), "")
	if code != 200 || body != "[]\n" {
		t.Errorf("lint: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/schedules/p/ical", "")
	if code != 200 || !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.Contains(body, "SUMMARY:On call: alice (p)") {
		t.Errorf("ical: %d %.200s", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/users/bob/ical", "")
	if code != 200 || !strings.Contains(body, "SUMMARY:On call: p") {
		t.Errorf("user ical: %d %.200s", code, body)
	}
	for _, p := range []string{"/api/v1/schedules/nope/shifts", "/api/v1/users/zed/ical"} {
		if code, _ := f.do(t, "GET", p, ""); code != 404 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, body := f.do(t, "GET", "/api/v1/schedules/p/shifts?from="+t0.Format(time.RFC3339)+"&to="+t0.Add(-time.Hour).Format(time.RFC3339), ""); code != 400 || !strings.Contains(body, "must be after") {
		t.Errorf("backwards span: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/api/v1/schedules/p/shifts?to="+t0.Add(800*24*time.Hour).Format(time.RFC3339), ""); code != 400 || !strings.Contains(body, "more than a year") {
		t.Errorf("a span of two years: %d %s", code, body)
	}
}

// The status page needs no token, shows only what was published, and
// its feed never takes a host name from the request.
func TestStatusPageRoutes(t *testing.T) {
	f := setup(t, "s3cret")
	ctx := context.Background()
	inc, err := f.c.Declare(ctx, client.Declaration{Title: "db-7 disk full", Severity: "1", Service: "mm", By: "alice", NoPage: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Act(ctx, inc.ID, "update", client.Action{By: "alice", Text: "Matches are slow; we are on it.", Public: true, Title: "Slow matches"}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/status": "Slow matches", "/status.json": `"state": "major_outage"`, "/status/feed.atom": "urn:oncall:status:incident:"} {
		req, _ := http.NewRequest("GET", f.url+path, nil)
		req.Host = "evil.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode != 200 || !strings.Contains(body, want) || strings.Contains(body, "db-7") || strings.Contains(body, "evil.example") || strings.Contains(body, "alice") {
			t.Errorf("%s: %d\n%s", path, resp.StatusCode, body)
		}
	}
}

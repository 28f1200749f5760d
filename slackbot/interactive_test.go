package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

// responder acts as the app's does: members to users, incidents.Act.
type responder struct {
	st store.Store
	s  incidents.Settings
}

func (r responder) Respond(ctx context.Context, id int64, action, member string) (incidents.Incident, error) {
	user, ok := map[string]string{"U0ANA": "ana", "U0BEN": "ben"}[member]
	if !ok {
		return incidents.Incident{}, fmt.Errorf("member %s: %w", member, ErrStranger)
	}
	by := incidents.Actor{Name: user, Source: "slack"}
	return incidents.Act(ctx, store.Incidents(r.st), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
		if action == "escalate" {
			return inc.EscalateNow(r.s, by, now)
		}
		return nil, inc.Acknowledge(r.s, by, now)
	})
}

// answers records what the bot posted to response URLs.
type answers struct {
	mu  sync.Mutex
	got []map[string]any
}

func (a *answers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	json.NewDecoder(r.Body).Decode(&m)
	a.mu.Lock()
	a.got = append(a.got, m)
	a.mu.Unlock()
}

func (a *answers) last() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) == 0 {
		return nil
	}
	return a.got[len(a.got)-1]
}

type buttonRig struct {
	t        testing.TB
	st       store.Store
	settings incidents.Settings
	answers  *answers
	hooks    string
	opts     Options
}

func newButtonRig(t testing.TB) *buttonRig {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := incidents.Settings{People: schedule.Directory{
		Users: map[string]schedule.User{"ana": {Name: "ana"}, "ben": {Name: "ben"}},
		Policies: map[string]schedule.Policy{"default": {Name: "default", Steps: []schedule.Step{
			{Name: "primary", Targets: []schedule.Target{{User: "ana"}}, Delay: 5 * time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{User: "ben"}}, Delay: 5 * time.Minute},
		}}},
	}}
	if _, err := incidents.Declare(context.Background(), store.Incidents(st), s, incidents.Declaration{Title: "Checkout <down>", Policy: "default"}, now); err != nil {
		t.Fatal(err)
	}
	a := &answers{}
	hooks := httptest.NewServer(a)
	t.Cleanup(hooks.Close)
	return &buttonRig{t: t, st: st, settings: s, answers: a, hooks: hooks.URL,
		opts: Options{SigningSecret: secret, Store: st, Link: linker{st}, Respond: responder{st, s}, Now: func() time.Time { return now }}}
}

// payload is a block_actions interaction as Slack sends it.
func (r *buttonRig) payload(member, action, value string) string {
	return fmt.Sprintf(`{"type":"block_actions","user":{"id":%q,"username":"x","team_id":"T0TEAM"},"api_app_id":"A0APP","token":"t",
"container":{"type":"message","message_ts":"1700000100.000100","channel_id":"D0DM","is_ephemeral":false},"trigger_id":"1.2.3",
"channel":{"id":"D0DM","name":"directmessage"},"response_url":%q,
"actions":[{"action_id":%q,"block_id":"oncall_page_1","text":{"type":"plain_text","text":"Acknowledge"},"value":%q,"type":"button","action_ts":"1700000200.1"}]}`,
		member, r.hooks+"/actions/T0/1/x", action, value)
}

// press posts a button's interaction to the endpoint, signed.
func (r *buttonRig) press(srv string, body string) int {
	r.t.Helper()
	form := "payload=" + url.QueryEscape(body)
	req, _ := http.NewRequest(http.MethodPost, srv+"/slack/interactive", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(req.Header, form, now)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (r *buttonRig) incident() incidents.Incident {
	r.t.Helper()
	inc, err := r.st.Incident(context.Background(), 1)
	if err != nil {
		r.t.Fatal(err)
	}
	return inc
}

// A page's buttons act as the oncall user whose member ID pressed them,
// and the page is rewritten to say so; a second press, a stranger or a
// forged request changes nothing and is answered to the presser alone.
func TestPageButtons(t *testing.T) {
	r := newButtonRig(t)
	srv := httptest.NewServer(Handler(r.opts))
	t.Cleanup(srv.Close)

	if code := r.press(srv.URL, r.payload("U0EVE", "oncall_ack", "1")); code != 200 {
		t.Fatalf("a stranger's press: %d", code)
	}
	if a := r.answers.last(); a["response_type"] != "ephemeral" || !strings.Contains(fmt.Sprint(a["text"]), "add your member ID (U0EVE) as a slack_id") {
		t.Errorf("the stranger was told %v", a)
	}
	if inc := r.incident(); inc.Status != incidents.StatusTriggered {
		t.Fatalf("a stranger acknowledged: %v", inc.Status)
	}

	if code := r.press(srv.URL, r.payload("U0BEN", "oncall_escalate", "1")); code != 200 {
		t.Fatalf("escalate: %d", code)
	}
	if inc := r.incident(); len(inc.Escalation.Paged) != 1 || inc.Escalation.Paged[0] != "ben" {
		t.Errorf("escalated to %v, want ben", inc.Escalation.Paged)
	}
	if a := r.answers.last(); a["replace_original"] != true || !strings.Contains(fmt.Sprint(a["text"]), "Escalated by <@U0BEN> at 22:18 UTC: paged ben.") ||
		!strings.Contains(fmt.Sprint(a["text"]), "*[INC-1] Checkout &lt;down&gt;*") {
		t.Errorf("after the escalation the page says %v", a)
	}

	if code := r.press(srv.URL, r.payload("U0ANA", "oncall_ack", "1")); code != 200 {
		t.Fatalf("ack: %d", code)
	}
	inc := r.incident()
	if inc.Status != incidents.StatusAcknowledged || inc.AckedBy != "ana" || inc.Timeline[len(inc.Timeline)-1].Source != "slack" {
		t.Fatalf("after the press: %v by %q", inc.Status, inc.AckedBy)
	}
	if a := r.answers.last(); a["replace_original"] != true || !strings.Contains(fmt.Sprint(a["text"]), "Acknowledged by <@U0ANA> at 22:18 UTC.") {
		t.Errorf("the page says %v", a)
	}
	r.press(srv.URL, r.payload("U0BEN", "oncall_ack", "1"))
	if a := r.answers.last(); a["response_type"] != "ephemeral" || !strings.Contains(fmt.Sprint(a["text"]), "already acknowledged") {
		t.Errorf("a second ack was told %v", a)
	}
	r.press(srv.URL, r.payload("U0BEN", "oncall_ack", "99"))
	if a := r.answers.last(); !strings.Contains(fmt.Sprint(a["text"]), "There is no INC-99.") {
		t.Errorf("an unknown incident was told %v", a)
	}

	// Forged: signed with another secret.
	form := "payload=" + url.QueryEscape(r.payload("U0ANA", "oncall_escalate", "1"))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/slack/interactive", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("X-Slack-Signature", "v0=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || r.incident().Escalation.Seq != inc.Escalation.Seq {
		t.Errorf("a forged press: %d, escalation %d → %d", resp.StatusCode, inc.Escalation.Seq, r.incident().Escalation.Seq)
	}
	if code := r.press(srv.URL, "not json"); code != http.StatusBadRequest {
		t.Errorf("a bad payload: %d", code)
	}
}

// Over Socket Mode a press arrives as an interactive envelope, acted on
// before it is acknowledged.
func TestPageButtonsOverSocketMode(t *testing.T) {
	r := newButtonRig(t)
	fake := newFakeSocketMode(t, "xapp-test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- SocketMode{AppToken: "xapp-test", APIURL: fake.srv.URL + "/"}.Run(ctx, r.opts)
	}()
	c := fake.next()
	env := fmt.Sprintf(`{"envelope_id":"e-press","type":"interactive","accepts_response_payload":false,"payload":%s}`, r.payload("U0ANA", "oncall_ack", "1"))
	if err := c.WriteMessage(1, []byte(env)); err != nil {
		t.Fatal(err)
	}
	if id := ack(t, c); id != "e-press" {
		t.Fatalf("acknowledged %q", id)
	}
	if inc := r.incident(); inc.Status != incidents.StatusAcknowledged || inc.AckedBy != "ana" {
		t.Errorf("after the press over Socket Mode: %v by %q", inc.Status, inc.AckedBy)
	}
	cancel()
	<-done
}

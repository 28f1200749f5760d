package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/slacktest"

	"github.com/oncallhq/oncall/incidents"
)

// signedPost sends body to the Slack endpoint as Slack signs it.
func signedPost(t *testing.T, url, secret, body string) (int, string) {
	t.Helper()
	return signedRequest(t, url, secret, "application/json", body)
}

// signedForm posts a form (an interactivity payload) as Slack signs it.
func signedForm(t *testing.T, url, secret, form string) (int, string) {
	t.Helper()
	return signedRequest(t, url, secret, "application/x-www-form-urlencoded", form)
}

func signedRequest(t *testing.T, url, secret, contentType, body string) (int, string) {
	t.Helper()
	ts := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// slackTS is a Slack message ts for t.
func slackTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

// A real `oncall serve` with a Slack app configured: "@oncall link INC-1"
// links the channel and the bot answers through the Web API; what the
// channel says then shows in `incident show` and goes into the
// postmortem's timeline; the endpoint refuses what Slack did not sign,
// and the secrets never reach `config show`.
func TestSlackChannelIntoTimelineAndPostmortem(t *testing.T) {
	var mu sync.Mutex
	var answers []string
	sl := slacktest.NewTestServer(func(s slacktest.Customize) {
		s.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			answers = append(answers, r.Form.Get("channel")+" "+r.Form.Get("text"))
			mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1.000001"}`, r.Form.Get("channel"))
		})
	})
	sl.Start()
	t.Cleanup(sl.Stop)
	const secret = "e2e-signing-secret"
	base, dir := startOncall(t, peopleYAML+fmt.Sprintf("postmortems: {directory: pm}\nslack: {signing_secret: %s, bot_token: xoxb-e2e-token, api_url: %q}\n", secret, sl.GetAPIURL()), nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	must := runAs(t, cfg, "ana")
	must("incident", "declare", "Checkout queue stuck", "--sev", "2", "--service", "checkout")
	events := base + "/slack/events"
	cb := func(inner string) string {
		return `{"token":"t","team_id":"T0TEAM","api_app_id":"A0APP","type":"event_callback","event_id":"Ev1","event_time":1,"event":` + inner + `}`
	}
	send := func(inner string) {
		t.Helper()
		if code, body := signedPost(t, events, secret, cb(inner)); code != 200 {
			t.Fatalf("%d %s for %s", code, body, inner)
		}
	}
	t0 := time.Now()
	send(fmt.Sprintf(`{"type":"app_mention","user":"U0BEN","text":"<@U0BOT> link INC-1","ts":%q,"channel":"C0MATCH"}`, slackTS(t0)))
	mu.Lock()
	got := strings.Join(answers, "\n")
	mu.Unlock()
	if !strings.Contains(got, "C0MATCH This is now the channel of INC-1") {
		t.Errorf("the bot's answer: %q", got)
	}
	send(fmt.Sprintf(`{"type":"message","channel":"C0MATCH","user":"U0BEN","text":"queue depth 40k, draining workers","ts":%q}`, slackTS(t0.Add(time.Millisecond))))
	send(fmt.Sprintf(`{"type":"message","channel":"C0MATCH","user":"U0ANA","text":"restarted the matcher\u001b[31m","ts":%q}`, slackTS(t0.Add(2*time.Millisecond))))

	if code, _ := signedPost(t, events, "not-the-secret", cb(`{"type":"message","channel":"C0MATCH","user":"U0EVE","text":"forged","ts":"1.1"}`)); code != http.StatusUnauthorized {
		t.Errorf("a forged event: %d, want 401", code)
	}
	resp, err := http.Post(events, "application/json", strings.NewReader(cb(`{"type":"message","channel":"C0MATCH","user":"U0EVE","text":"forged","ts":"1.1"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unsigned event: %d, want 401", resp.StatusCode)
	}

	show := must("incident", "show", "1")
	for _, want := range []string{"Chat (2 messages)", "U0BEN: queue depth 40k, draining workers", "U0ANA: restarted the matcher^[[31m", "chat channel C0MATCH"} {
		if !strings.Contains(show, want) {
			t.Errorf("incident show lacks %q:\n%s", want, show)
		}
	}
	if !hasRow(show, "channel", "C0MATCH") {
		t.Errorf("incident show has no channel row:\n%s", show)
	}
	if strings.Contains(show, "\x1b") || strings.Contains(show, "forged") {
		t.Errorf("incident show draws an escape or a forged message:\n%s", show)
	}
	must("incident", "mitigate", "1", "--why", "matcher restarted")
	must("incident", "resolve", "1")
	must("postmortem", "new", "INC-1")
	pm, err := os.ReadFile(filepath.Join(dir, "pm", "INC-1.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| chat C0MATCH | queue depth 40k, draining workers | U0BEN |", "| chat C0MATCH | restarted the matcher[31m | U0ANA |"} {
		if !strings.Contains(string(pm), want) {
			t.Errorf("the postmortem's timeline lacks the chat line %q:\n%s", want, pm)
		}
	}

	// Linked from the CLI too; a bad channel is refused before it is sent.
	if out := must("incident", "channel", "1", "C0WAR"); !strings.Contains(out, "chat channel C0WAR (was C0MATCH)") {
		t.Errorf("incident channel:\n%s", out)
	}
	if code, _, stderr := run(t, nil, "incident", "channel", "1", "#war room", "--config", cfg); code == 0 || !strings.Contains(stderr, `channel "#war room"`) {
		t.Errorf("a channel name with a space: %d %s", code, stderr)
	}
	if out := must("config", "show"); strings.Contains(out, secret) || strings.Contains(out, "xoxb-e2e-token") {
		t.Errorf("config show prints the Slack secrets:\n%s", out)
	}
}

// With slack.app_token, `oncall serve` connects to Slack over Socket Mode
// (an outbound WebSocket: no public URL) and the same mention links the
// channel; the envelope is acknowledged once the link is stored.
func TestSlackOverSocketMode(t *testing.T) {
	acks := make(chan string, 4)
	declared := make(chan struct{})
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xapp-1-e2e" {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/link/"}`, r.Host)
	})
	mux.HandleFunc("/link/", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0APP"}}`))
		select {
		case <-declared:
		case <-r.Context().Done():
			return
		}
		c.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"env-1","type":"events_api","accepts_response_payload":false,"payload":`+
			`{"token":"t","team_id":"T0","api_app_id":"A0APP","type":"event_callback","event_id":"Ev9","event_time":1,`+
			`"event":{"type":"app_mention","user":"U0BEN","text":"<@U0BOT> link INC-1","ts":"1700000050.000100","channel":"C0SOCK"}}}`))
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var a struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(b, &a) == nil && a.EnvelopeID != "" {
				acks <- a.EnvelopeID
			}
		}
	})
	fake := httptest.NewServer(mux)
	t.Cleanup(fake.Close)

	_, dir := startOncall(t, peopleYAML+fmt.Sprintf("slack: {app_token: xapp-1-e2e, api_url: %q}\n", fake.URL+"/"), nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	if code, out, stderr := run(t, []string{"USER=ana"}, "incident", "declare", "Checkout queue stuck", "--sev", "3", "--service", "checkout", "--config", cfg); code != 0 {
		t.Fatalf("declare: %d %s%s", code, out, stderr)
	}
	close(declared)
	select {
	case id := <-acks:
		if id != "env-1" {
			t.Fatalf("acknowledged %q", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the envelope was never acknowledged")
	}
	code, out, stderr := run(t, nil, "incident", "show", "1", "--config", cfg)
	if code != 0 || !hasRow(out, "channel", "C0SOCK") {
		t.Errorf("after the mention over Socket Mode: %d\n%s%s", code, out, stderr)
	}
}

// Through a real `oncall serve`: an alert pages ana by a direct message
// with buttons, the escalation pages ben; ana presses Acknowledge, the
// incident is hers, and both are told in their messages; the resolution
// too.
func TestPagesAsSlackDirectMessages(t *testing.T) {
	var mu sync.Mutex
	var dms []string
	sl := slacktest.NewTestServer(func(s slacktest.Customize) {
		s.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			dms = append(dms, r.Form.Get("channel")+" "+r.Form.Get("text")+" "+r.Form.Get("blocks"))
			mu.Unlock()
			fmt.Fprint(w, `{"ok":true,"channel":"D0DM","ts":"1.000001"}`)
		})
	})
	sl.Start()
	t.Cleanup(sl.Stop)
	sent := func(prefix string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, d := range dms {
			if strings.HasPrefix(d, prefix) {
				out = append(out, d)
			}
		}
		return out
	}
	var answered atomic.Value
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		answered.Store(string(b))
	}))
	t.Cleanup(hooks.Close)
	const secret = "e2e-signing-secret"
	base, dir := startOncall(t, fmt.Sprintf(`alerts:
  routing:
    route: {receiver: pager, group_wait: 0s, group_interval: 1s}
    receivers: [{name: pager}]
receivers: [{name: pager, incident: {policy: default}}]
users:
  - {name: ana, slack_id: U0ANA}
  - {name: ben, slack_id: U0BEN}
policies:
  - name: default
    steps:
      - {name: primary, targets: [{user: ana}], delay: 3s}
      - {name: secondary, targets: [{user: ben}], delay: 1h}
slack: {signing_secret: %s, bot_token: xoxb-e2e-token, api_url: %q}
`, secret, sl.GetAPIURL()), nil)
	now := time.Now().UTC()
	post(t, base+"/api/v2/alerts", []map[string]any{{"labels": map[string]string{"alertname": "CheckoutDown"},
		"annotations": map[string]string{"summary": "checkout fails for every shopper"}, "startsAt": now, "endsAt": now.Add(time.Hour)}})
	eventually(t, 20*time.Second, "ana's direct message, then ben's", func() bool {
		return len(sent("U0ANA [INC-1] checkout fails")) == 1 && len(sent("U0BEN [INC-1] checkout fails")) == 1
	})
	if dm := sent("U0ANA")[0]; !strings.Contains(dm, `"action_id":"oncall_ack"`) || !strings.Contains(dm, `"value":"1"`) {
		t.Errorf("ana's page has no Acknowledge button: %s", dm)
	}
	payload := fmt.Sprintf(`{"type":"block_actions","user":{"id":"U0ANA"},"response_url":%q,"actions":[{"action_id":"oncall_ack","block_id":"oncall_page_1","value":"1","type":"button"}]}`, hooks.URL)
	if code, body := signedForm(t, base+"/slack/interactive", secret, "payload="+url.QueryEscape(payload)); code != 200 {
		t.Fatalf("the press: %d %s", code, body)
	}
	var inc incidents.Incident
	authGetJSON(t, base+"/api/v1/incidents/1", &inc)
	if inc.Status != incidents.StatusAcknowledged || inc.AckedBy != "ana" {
		t.Fatalf("after ana's press: %v by %q", inc.Status, inc.AckedBy)
	}
	if a, _ := answered.Load().(string); !strings.Contains(a, `Acknowledged by \u003c@U0ANA\u003e`) && !strings.Contains(a, "Acknowledged by <@U0ANA>") {
		t.Errorf("the page was rewritten as %q", a)
	}
	eventually(t, 10*time.Second, "both told it is acknowledged", func() bool {
		return len(sent("U0ANA INC-1 acknowledged by ana")) == 1 && len(sent("U0BEN INC-1 acknowledged by ana")) == 1
	})
	if code, out, stderr := run(t, []string{"USER=ana"}, "incident", "resolve", "1", "--config", filepath.Join(dir, "oncall.yaml")); code != 0 {
		t.Fatalf("resolve: %d %s%s", code, out, stderr)
	}
	eventually(t, 10*time.Second, "both told it is resolved", func() bool {
		return len(sent("U0ANA INC-1 resolved by ana")) == 1 && len(sent("U0BEN INC-1 resolved by ana")) == 1
	})
}

// With slack.incident_channels, `oncall serve` opens a channel for a
// declared incident, links it, invites the people paged, and tells it of
// each change made with the CLI.
func TestIncidentChannelThroughServe(t *testing.T) {
	var mu sync.Mutex
	calls := map[string][]string{}
	sl := slacktest.NewTestServer(func(s slacktest.Customize) {
		rec := func(method, answer string) {
			s.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				mu.Lock()
				calls[method] = append(calls[method], r.Form.Get("name")+r.Form.Get("channel")+" "+r.Form.Get("users")+r.Form.Get("text"))
				mu.Unlock()
				fmt.Fprint(w, answer)
			})
		}
		rec("conversations.create", `{"ok":true,"channel":{"id":"C0INC1","name":"inc-1-checkout-queue-stuck"}}`)
		rec("conversations.setPurpose", `{"ok":true,"channel":{}}`)
		rec("conversations.invite", `{"ok":true,"channel":{}}`)
		rec("chat.postMessage", `{"ok":true,"channel":"C0INC1","ts":"1.1"}`)
	})
	sl.Start()
	t.Cleanup(sl.Stop)
	got := func(method string) []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), calls[method]...)
	}
	_, dir := startOncall(t, fmt.Sprintf(`users: [{name: ana, slack_id: U0ANA}]
policies: [{name: default, steps: [{name: primary, targets: [{user: ana}], delay: 1h}]}]
slack: {app_token: xapp-1-A0-1-x, bot_token: xoxb-e2e-token, api_url: %q, incident_channels: {enabled: true}}
`, sl.GetAPIURL()), nil)
	cfg := filepath.Join(dir, "oncall.yaml")
	must := runAs(t, cfg, "ana")
	must("incident", "declare", "Checkout queue stuck", "--sev", "2", "--policy", "default")
	toChannel := func() []string {
		var out []string
		for _, p := range got("chat.postMessage") {
			if strings.HasPrefix(p, "C0INC1 ") {
				out = append(out, p)
			}
		}
		return out
	}
	eventually(t, 20*time.Second, "the channel opened and told", func() bool { return len(toChannel()) >= 1 })
	if c := got("conversations.create"); len(c) != 1 || !strings.HasPrefix(c[0], "inc-1-checkout-queue-stuck") {
		t.Errorf("created %q", c)
	}
	if inv := got("conversations.invite"); len(inv) != 1 || inv[0] != "C0INC1 U0ANA" {
		t.Errorf("invited %q", inv)
	}
	if show := must("incident", "show", "1"); !hasRow(show, "channel", "C0INC1") {
		t.Errorf("the channel is not linked:\n%s", show)
	}
	must("incident", "ack", "1")
	eventually(t, 20*time.Second, "the acknowledgement told", func() bool {
		ps := toChannel()
		return len(ps) >= 2 && strings.Contains(ps[len(ps)-1], "acknowledged by ana")
	})
	if ps := toChannel(); !strings.Contains(ps[0], "*INC-1 · SEV2 · Checkout queue stuck*") {
		t.Errorf("the opening message: %q", ps[0])
	}
}

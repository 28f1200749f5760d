package slackbot

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/schedule"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

// recentStore adds what incident channels read to the SQLite store.
type recentStore struct{ store.Store }

func (r recentStore) UpdateIncidents(ctx context.Context, f func(incidents.Tx) ([]incidents.Page, error)) error {
	return store.Incidents(r.Store).UpdateIncidents(ctx, f)
}

func (r recentStore) RecentIncidents(ctx context.Context, since time.Time) ([]incidents.Incident, error) {
	return r.Incidents(ctx, store.IncidentFilter{Since: since})
}

// fakeChannels is Slack's conversations API as documented: names are
// unique (name_taken), invites of a member already in are
// already_in_channel, messages are kept per channel.
type fakeChannels struct {
	mu       sync.Mutex
	byName   map[string]*slack.Channel
	members  map[string]map[string]bool
	posts    map[string][]string
	creates  int
	failNext string
	failPost bool
}

func newFakeChannels(t *testing.T) (*fakeChannels, *slack.Client) {
	f := &fakeChannels{byName: map[string]*slack.Channel{}, members: map[string]map[string]bool{}, posts: map[string][]string{}}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, v string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, v)
	}
	byID := func(id string) *slack.Channel {
		for _, c := range f.byName {
			if c.ID == id {
				return c
			}
		}
		return nil
	}
	mux.HandleFunc("/conversations.create", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.creates++
		if e := f.failNext; e != "" {
			f.failNext = ""
			answer(w, fmt.Sprintf(`{"ok":false,"error":%q}`, e))
			return
		}
		name := r.Form.Get("name")
		if _, ok := f.byName[name]; ok {
			answer(w, `{"ok":false,"error":"name_taken"}`)
			return
		}
		c := &slack.Channel{}
		c.ID, c.Name = fmt.Sprintf("C%03d", len(f.byName)+1), name
		f.byName[name] = c
		answer(w, fmt.Sprintf(`{"ok":true,"channel":{"id":%q,"name":%q}}`, c.ID, name))
	})
	mux.HandleFunc("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var cs []string
		for _, c := range f.byName {
			cs = append(cs, fmt.Sprintf(`{"id":%q,"name":%q,"purpose":{"value":%q}}`, c.ID, c.Name, c.Purpose.Value))
		}
		answer(w, `{"ok":true,"channels":[`+strings.Join(cs, ",")+`],"response_metadata":{"next_cursor":""}}`)
	})
	mux.HandleFunc("/conversations.setPurpose", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		if c := byID(r.Form.Get("channel")); c != nil {
			c.Purpose.Value = r.Form.Get("purpose")
		}
		answer(w, `{"ok":true,"channel":{}}`)
	})
	mux.HandleFunc("/conversations.invite", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		ch, u := r.Form.Get("channel"), r.Form.Get("users")
		if f.members[ch] == nil {
			f.members[ch] = map[string]bool{}
		}
		if f.members[ch][u] {
			answer(w, `{"ok":false,"error":"already_in_channel"}`)
			return
		}
		f.members[ch][u] = true
		answer(w, `{"ok":true,"channel":{}}`)
	})
	mux.HandleFunc("/auth.test", func(w http.ResponseWriter, r *http.Request) {
		answer(w, `{"ok":true,"user_id":"U0BOT","bot_id":"B0ONCALL"}`)
	})
	mux.HandleFunc("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failPost {
			f.failPost = false
			answer(w, `{"ok":false,"error":"internal_error"}`)
			return
		}
		f.posts[r.Form.Get("channel")] = append(f.posts[r.Form.Get("channel")], r.Form.Get("text"))
		answer(w, `{"ok":true,"channel":"x","ts":"1.1"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/"))
}

func (f *fakeChannels) said(ch string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.posts[ch]...)
}

func channelsRig(t *testing.T) (*Channels, recentStore, incidents.Settings, *fakeChannels) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := incidents.Settings{People: schedule.Directory{
		Users: map[string]schedule.User{"ana": {Name: "ana"}, "ben": {Name: "ben"}, "ric": {Name: "ric"}},
		Policies: map[string]schedule.Policy{"default": {Name: "default", Steps: []schedule.Step{
			{Name: "primary", Targets: []schedule.Target{{User: "ana"}}, Delay: 5 * time.Minute},
			{Name: "secondary", Targets: []schedule.Target{{User: "ben"}}, Delay: 5 * time.Minute},
		}}},
	}}
	fake, api := newFakeChannels(t)
	rs := recentStore{st}
	c := &Channels{Store: rs, Slack: api, Members: map[string]string{"ana": "U0ANA", "ben": "U0BEN", "ric": "U0RIC"}, Holder: "a"}
	return c, rs, s, fake
}

// A declared incident gets a channel: named after it, linked, its people
// invited, an opening message; each change after is told once, and the
// channel's own link and free notes are not.
func TestIncidentChannel(t *testing.T) {
	c, st, s, fake := channelsRig(t)
	ctx := context.Background()
	inc, err := incidents.Declare(ctx, st, s, incidents.Declaration{Title: "Checkout fails for EU players!", Severity: incidents.SEV2,
		Policy: "default", Commander: "ric", RunbookURL: "https://runbooks.example.com/checkout", By: incidents.Actor{Name: "ben", Source: "cli"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pass(ctx, now); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Incident(ctx, inc.ID)
	ch := fake.byName["inc-1-checkout-fails-for-eu-players"]
	if ch == nil || got.Channel != ch.ID {
		t.Fatalf("channels %v; the incident's is %q", fake.byName, got.Channel)
	}
	if ch.Purpose.Value != "INC-1 · SEV2 · Checkout fails for EU players! (kept by oncall)" {
		t.Errorf("purpose %q", ch.Purpose.Value)
	}
	if m := fake.members[ch.ID]; !m["U0ANA"] || !m["U0RIC"] || m["U0BEN"] {
		t.Errorf("invited %v, want ana (paged) and ric (commander)", m)
	}
	said := fake.said(ch.ID)
	if len(said) != 1 || !strings.Contains(said[0], "*INC-1 · SEV2 · Checkout fails for EU players!*") || !strings.Contains(said[0], "paged ana") ||
		!strings.Contains(said[0], "Runbook: https://runbooks.example.com/checkout") {
		t.Fatalf("opening: %q", said)
	}
	if err := c.Pass(ctx, now.Add(time.Second)); err != nil || len(fake.said(ch.ID)) != 1 {
		t.Fatalf("a pass with nothing new posted: %v %q", err, fake.said(ch.ID))
	}
	later := now.Add(2 * time.Minute)
	act := func(f func(*incidents.Incident) ([]incidents.Page, error)) {
		t.Helper()
		if _, err := incidents.Act(ctx, st, inc.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	act(func(i *incidents.Incident) ([]incidents.Page, error) {
		return i.EscalateNow(s, incidents.Actor{Name: "ana"}, later)
	})
	act(func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.AddNote("looking at <the> logs", incidents.Actor{Name: "ana", Source: "cli"}, later)
	})
	act(func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.PostUpdate("EU card payments fail; rolling back", false, "", incidents.Actor{Name: "ric"}, later)
	})
	act(func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.Acknowledge(s, incidents.Actor{Name: "ben"}, later)
	})
	if err := c.Pass(ctx, later); err != nil {
		t.Fatal(err)
	}
	said = fake.said(ch.ID)
	if len(said) != 2 {
		t.Fatalf("after the changes: %q", said)
	}
	news := said[1]
	for _, want := range []string{"`22:20` escalated by ana", "step 2/2 secondary: paged ben", ":speech_balloon: `22:20` EU card payments fail; rolling back — ric", "acknowledged by ben"} {
		if !strings.Contains(news, want) {
			t.Errorf("the news lacks %q:\n%s", want, news)
		}
	}
	if strings.Contains(news, "logs") || strings.Contains(news, "chat channel") {
		t.Errorf("a note or the link was posted:\n%s", news)
	}
	if !fake.members[ch.ID]["U0BEN"] {
		t.Error("ben, paged by the escalation, was not invited")
	}
	act(func(i *incidents.Incident) ([]incidents.Page, error) {
		return nil, i.Resolve(incidents.Actor{Name: "ben"}, "rolled back", later)
	})
	c2 := &Channels{Store: st, Slack: c.Slack, Members: c.Members, Holder: "a"} // a restart
	if err := c2.Pass(ctx, later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if said = fake.said(ch.ID); len(said) != 3 || !strings.Contains(said[2], "resolved by ben: rolled back") {
		t.Errorf("after the resolution and a restart: %q", said)
	}
	if err := c2.Pass(ctx, later.Add(2*time.Minute)); err != nil || len(fake.said(ch.ID)) != 3 {
		t.Errorf("told twice: %v %q", err, fake.said(ch.ID))
	}
}

// Only incidents worth a channel get one; a crash between creating the
// channel and linking it finds the channel again; a name that belongs to
// something else is not taken over; another process waits for the lease.
func TestIncidentChannelChoices(t *testing.T) {
	c, st, _, fake := channelsRig(t)
	ctx := context.Background()
	openAt := func(sev incidents.Severity, title string, at time.Time) incidents.Incident {
		t.Helper()
		var inc incidents.Incident
		err := st.UpdateIncidents(ctx, func(tx incidents.Tx) ([]incidents.Page, error) {
			inc = incidents.Incident{Key: title, Title: title, Severity: sev, Status: incidents.StatusTriggered, OpenedAt: at}
			if err := tx.CreateIncident(ctx, &inc); err != nil {
				return nil, err
			}
			inc.Note(now, "opened", title)
			return nil, tx.UpdateIncident(ctx, inc)
		})
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	open := func(sev incidents.Severity, title string) incidents.Incident { return openAt(sev, title, now) }
	minor := open(incidents.SEV3, "disk 80% full")
	major := open(incidents.SEV1, "payments down")
	old := openAt(incidents.SEV1, "old news", now.Add(-2*time.Hour))
	// The major one's channel was made by an attempt that died before
	// linking it; the old one opened before the last hour.
	fake.byName["inc-2-payments-down"] = &slack.Channel{}
	fake.byName["inc-2-payments-down"].ID, fake.byName["inc-2-payments-down"].Name = "C900", "inc-2-payments-down"
	fake.byName["inc-2-payments-down"].Purpose.Value = "INC-2 · SEV1 · payments down (kept by oncall)"

	other := &Channels{Store: st, Slack: c.Slack, Holder: "b"}
	if err := c.Pass(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		inc  incidents.Incident
		want string
	}{{minor, ""}, {major, "C900"}, {old, ""}} {
		got, _ := st.Incident(ctx, tc.inc.ID)
		if got.Channel != tc.want {
			t.Errorf("%s (%s): channel %q, want %q", got.Ref(), got.Severity, got.Channel, tc.want)
		}
	}
	if err := other.Pass(ctx, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := fake.creates; n != 1 {
		t.Errorf("%d creates, want 1 (the other process holds no lease)", n)
	}
	// A channel of the same name that is someone else's.
	fourth := open(incidents.SEV1, "api slow")
	fake.byName["inc-4-api-slow"] = &slack.Channel{}
	fake.byName["inc-4-api-slow"].ID, fake.byName["inc-4-api-slow"].Name = "C777", "inc-4-api-slow"
	fake.byName["inc-4-api-slow"].Purpose.Value = "the API team's chat"
	err := c.Pass(ctx, now.Add(2*time.Second))
	if err == nil || !strings.Contains(err.Error(), "is not INC-4's") {
		t.Errorf("a foreign channel: %v", err)
	}
	if got, _ := st.Incident(ctx, fourth.ID); got.Channel != "" {
		t.Errorf("took over %q", got.Channel)
	}
	// Slack refusing (a missing scope) is tried again later, not at once.
	fifth := open(incidents.SEV1, "queue stuck")
	fake.failNext = "missing_scope"
	c.Pass(ctx, now.Add(3*time.Second))
	before := fake.creates
	c.Pass(ctx, now.Add(3*time.Second+100*time.Millisecond))
	if fake.creates != before { // both wait for their backoff
		t.Errorf("creates %d → %d", before, fake.creates)
	}
	c.Pass(ctx, now.Add(10*time.Second))
	if got, _ := st.Incident(ctx, fifth.ID); got.Channel == "" {
		t.Error("no channel after the retry")
	}
}

func TestChannelName(t *testing.T) {
	for _, tc := range []struct {
		prefix, title string
		want          string
	}{
		{"", "Checkout fails for EU players!", "inc-7-checkout-fails-for-eu-players"},
		{"prod", "  ÜBER   down  ", "prod-7-ber-down"},
		{"", "!!!", "inc-7"},
		{"", strings.Repeat("abc ", 40), "inc-7-" + strings.TrimRight(strings.Repeat("abc-", 40)[:74], "-")},
	} {
		if got := ChannelName(tc.prefix, incidents.Incident{ID: 7, Title: tc.title}); got != tc.want || len(got) > 80 {
			t.Errorf("ChannelName(%q, %q) = %q, want %q", tc.prefix, tc.title, got, tc.want)
		}
	}
}

// The bot's own posts in an incident channel come back as events and are
// not kept as chat (the timeline has them); another bot's are.
func TestOwnPostsNotKept(t *testing.T) {
	c, st, s, _ := channelsRig(t)
	ctx := context.Background()
	c.Self = &Self{}
	inc, err := incidents.Declare(ctx, st, s, incidents.Declaration{Title: "queue stuck", By: incidents.Actor{Name: "ana"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pass(ctx, now); err != nil {
		t.Fatal(err)
	}
	if c.Self.BotID() != "B0ONCALL" {
		t.Fatalf("bot ID %q", c.Self.BotID())
	}
	got, _ := st.Incident(ctx, inc.ID)
	srv := httptest.NewServer(Handler(Options{SigningSecret: secret, Store: st.Store, Link: linker{st.Store}, Self: c.Self, Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	for i, bot := range []string{"B0ONCALL", "B0DEPLOY"} {
		body := callback(fmt.Sprintf(`{"type":"message","channel":%q,"bot_id":%q,"text":"line %d","ts":"1700000100.00010%d"}`, got.Channel, bot, i, i))
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sign(req.Header, body, now)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", err, resp)
		}
		resp.Body.Close()
	}
	ms, err := st.ChatMessages(ctx, inc.ID, time.Time{}, time.Time{})
	if err != nil || len(ms) != 1 || ms[0].Text != "line 1" {
		t.Errorf("kept %+v (%v), want only the deploy bot's line", ms, err)
	}
}

// An opening message Slack did not take is posted again, in the channel
// found again, before the channel is linked: nobody joins a silent one.
func TestOpeningRetried(t *testing.T) {
	c, st, s, fake := channelsRig(t)
	ctx := context.Background()
	inc, err := incidents.Declare(ctx, st, s, incidents.Declaration{Title: "queue stuck", Policy: "default", By: incidents.Actor{Name: "ana"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	fake.failPost = true
	if err := c.Pass(ctx, now); err == nil {
		t.Fatal("the failed opening was not reported")
	}
	if got, _ := st.Incident(ctx, inc.ID); got.Channel != "" {
		t.Fatalf("linked before its opening: %q", got.Channel)
	}
	if err := c.Pass(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Incident(ctx, inc.ID)
	if said := fake.said(got.Channel); got.Channel != "C001" || len(said) != 1 || !strings.Contains(said[0], "*INC-1 · SEV3 · queue stuck*") {
		t.Errorf("channel %q said %q", got.Channel, said)
	}
}

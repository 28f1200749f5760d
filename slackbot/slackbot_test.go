package slackbot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

const secret = "s3cr3t-signing"

var now = time.Unix(1700000300, 0)

// Slack's documented example of a signed request verifies, and any change
// to the body, the timestamp or the secret does not.
func TestVerifySlacksExample(t *testing.T) {
	const (
		exSecret = "8f742231b10e8888abcd99yyyzzz85a5"
		exTS     = "1531420618"
		exSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
		exBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	)
	at := time.Unix(1531420618, 0).Add(time.Minute)
	h := http.Header{"X-Slack-Request-Timestamp": {exTS}, "X-Slack-Signature": {exSig}}
	if err := Verify(exSecret, h, []byte(exBody), at); err != nil {
		t.Fatalf("Slack's example: %v", err)
	}
	for name, tc := range map[string]struct {
		secret, body string
		at           time.Time
		want         string
	}{
		"body changed":     {exSecret, exBody + "x", at, "bad signature"},
		"other secret":     {"other", exBody, at, "bad signature"},
		"six minutes late": {exSecret, exBody, at.Add(5 * time.Minute), "away from now"},
		"from the future":  {exSecret, exBody, at.Add(-7 * time.Minute), "away from now"},
		"no secret":        {"", exBody, at, "no signing secret"},
	} {
		if err := Verify(tc.secret, h, []byte(tc.body), tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if err := Verify(exSecret, http.Header{}, []byte(exBody), at); err == nil {
		t.Error("no headers verified")
	}
}

// linker links as the server does: an incident action through the store.
type linker struct{ st store.Store }

func (l linker) LinkChannel(ctx context.Context, id int64, channel, by string) error {
	_, err := incidents.Act(ctx, store.Incidents(l.st), id, func(inc *incidents.Incident) ([]incidents.Page, error) {
		return nil, inc.LinkChannel(channel, incidents.Actor{Name: by, Source: "slack"}, now)
	})
	return err
}

type rig struct {
	t   *testing.T
	st  store.Store
	url string

	mu    sync.Mutex
	posts []post
}

// post is a message the bot posted.
type post struct{ channel, thread, text, auth string }

func (r *rig) posted() []post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.posts)
}

func newRig(t *testing.T, wrap func(store.Store) Store) *rig {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t}
	// chat.postMessage is recorded as it is answered (slacktest's own
	// handler hands posts to its RTM websocket, which nobody reads here).
	sl := slacktest.NewTestServer(func(s slacktest.Customize) {
		s.Handle("/chat.postMessage", func(w http.ResponseWriter, req *http.Request) {
			if err := req.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.mu.Lock()
			auth := req.Header.Get("Authorization")
			if auth == "" {
				auth = "Bearer " + req.Form.Get("token")
			}
			r.posts = append(r.posts, post{req.Form.Get("channel"), req.Form.Get("thread_ts"), req.Form.Get("text"), auth})
			r.mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000400.000100"}`, req.Form.Get("channel"))
		})
	})
	sl.Start()
	t.Cleanup(sl.Stop)
	var s Store = st
	if wrap != nil {
		s = wrap(st)
	}
	srv := httptest.NewServer(Handler(Options{SigningSecret: secret, Store: s, Link: linker{st}, Reply: NewWebPoster("xoxb-test", sl.GetAPIURL()),
		Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	r.st, r.url = st, srv.URL
	return r
}

// send posts body signed as Slack signs it, at ts.
func (r *rig) send(body string, ts time.Time) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sign(req.Header, body, ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sign signs body at ts as Slack documents it, computed here rather than
// by the code under test.
func sign(h http.Header, body string, ts time.Time) {
	stamp := fmt.Sprint(ts.Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

// callback wraps an inner event as the Events API delivers it.
func callback(inner string) string {
	return `{"token":"verification-token","team_id":"T0TEAM","api_app_id":"A0APP","type":"event_callback","event_id":"Ev0001","event_time":1700000000,"event":` + inner + `}`
}

func (r *rig) messages(id int64) []chat.Message {
	r.t.Helper()
	ms, err := r.st.ChatMessages(context.Background(), id, time.Time{}, time.Time{})
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

// The URL check answers the challenge; an unsigned, badly signed or
// replayed request is refused and changes nothing.
func TestChallengeAndRefusals(t *testing.T) {
	r := newRig(t, nil)
	code, body := r.send(`{"token":"verification-token","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY","type":"url_verification"}`, now)
	if code != 200 || body != "3eZbrw1aBm2rZgRNFdxV2595E9CY" {
		t.Fatalf("challenge: %d %q", code, body)
	}
	resp, err := http.Post(r.url, "application/json", strings.NewReader(callback(`{"type":"app_mention","user":"U0BOB","text":"<@U0BOT> link INC-1","ts":"1700000050.000100","channel":"C0INC"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", resp.StatusCode)
	}
	inc := &incidents.Incident{Title: "matchmaking down", OpenedAt: now}
	if err := r.st.CreateIncident(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	if code, _ := r.send(callback(`{"type":"app_mention","user":"U0BOB","text":"<@U0BOT> link INC-1","ts":"1700000050.000100","channel":"C0INC"}`), now.Add(-6*time.Minute)); code != http.StatusUnauthorized {
		t.Errorf("replayed after six minutes: %d, want 401", code)
	}
	if got, _ := r.st.Incident(context.Background(), inc.ID); got.Channel != "" {
		t.Errorf("a refused request linked the channel: %q", got.Channel)
	}
	if code, _ := r.send(`{"type":`, now); code != http.StatusBadRequest {
		t.Errorf("broken JSON: %d, want 400", code)
	}
}

// A mention links the channel and answers in its thread; from then on the
// channel's messages are kept once each, edited in place, threads marked,
// deleted ones forgotten, joins left out; another channel's are not kept.
func TestCapturesAnIncidentChannel(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	inc := &incidents.Incident{Title: "matchmaking down", OpenedAt: now}
	if err := r.st.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	ok := func(body string) {
		t.Helper()
		if code, resp := r.send(body, now); code != 200 {
			t.Fatalf("%d %s for %s", code, resp, body)
		}
	}
	ok(callback(`{"type":"message","channel":"C0INC","user":"U0ALICE","text":"before the link","ts":"1700000010.000100","channel_type":"channel"}`))
	ok(callback(`{"type":"app_mention","user":"U0BOB","text":"<@U0BOT> link INC-1","ts":"1700000050.000100","channel":"C0INC","event_ts":"1700000050.000100"}`))
	got, err := r.st.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Channel != "C0INC" || len(got.Timeline) == 0 || got.Timeline[len(got.Timeline)-1].Actor != "slack:U0BOB" {
		t.Fatalf("after the mention: channel %q, timeline %+v", got.Channel, got.Timeline)
	}
	if ps := r.posted(); len(ps) != 1 || ps[0] != (post{"C0INC", "1700000050.000100", "This is now the channel of INC-1: what is written here goes into its timeline and postmortem.", "Bearer xoxb-test"}) {
		t.Errorf("the answer in the channel's thread: %+v", ps)
	}

	msg := `{"type":"message","channel":"C0INC","user":"U0ALICE","text":"rolling back 4.2","ts":"1700000100.000200","channel_type":"channel","event_ts":"1700000100.000200"}`
	ok(callback(msg))
	ok(callback(msg)) // Slack's retry
	ok(callback(`{"type":"message","channel":"C0INC","user":"U0CAROL","text":"error rate falling","ts":"1700000160.000300","thread_ts":"1700000100.000200"}`))
	ok(callback(`{"type":"message","subtype":"channel_join","channel":"C0INC","user":"U0DAN","text":"<@U0DAN> has joined the channel","ts":"1700000170.000400"}`))
	ok(callback(`{"type":"message","subtype":"bot_message","channel":"C0INC","bot_id":"B0DEPLOY","username":"deploybot","text":"4.1 deployed","ts":"1700000180.000500"}`))
	ok(callback(`{"type":"message","channel":"C0OTHER","user":"U0ALICE","text":"lunch?","ts":"1700000190.000600"}`))
	ok(callback(`{"type":"message","subtype":"message_changed","hidden":true,"channel":"C0INC","ts":"1700000200.000700","event_ts":"1700000200.000700",
		"message":{"type":"message","user":"U0ALICE","text":"rolling back 4.2 to 4.1","ts":"1700000100.000200","edited":{"user":"U0ALICE","ts":"1700000200.000000"}},
		"previous_message":{"type":"message","user":"U0ALICE","text":"rolling back 4.2","ts":"1700000100.000200"}}`))
	ok(callback(`{"type":"message","channel":"C0INC","user":"U0ALICE","text":"oops","ts":"1700000210.000800"}`))
	ok(callback(`{"type":"message","subtype":"message_deleted","hidden":true,"channel":"C0INC","deleted_ts":"1700000210.000800","ts":"1700000220.000900",
		"previous_message":{"type":"message","user":"U0ALICE","text":"oops","ts":"1700000210.000800"}}`))

	ms := r.messages(inc.ID)
	var lines []string
	for _, m := range ms {
		line := fmt.Sprintf("%s %s %s: %s", m.At.Format("15:04:05.000000"), m.ID, m.Author, m.Text)
		if m.Thread != "" {
			line += " (in thread " + m.Thread + ")"
		}
		if !m.Edited.IsZero() {
			line += " (edited " + m.Edited.Format("15:04:05") + ")"
		}
		lines = append(lines, line)
	}
	want := []string{
		"22:15:00.000200 1700000100.000200 U0ALICE: rolling back 4.2 to 4.1 (edited 22:16:40)",
		"22:16:00.000300 1700000160.000300 U0CAROL: error rate falling (in thread 1700000100.000200)",
		"22:16:20.000500 1700000180.000500 deploybot: 4.1 deployed",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("kept:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// A mention the bot does not understand gets the help; an unknown
// incident says so; neither links anything.
func TestMentionAnswers(t *testing.T) {
	r := newRig(t, nil)
	for _, tc := range []struct{ text, answer string }{
		{"<@U0BOT> hello", "Say `link INC-42`"},
		{"<@U0BOT> link INC-99", "There is no INC-99."},
	} {
		if code, _ := r.send(callback(`{"type":"app_mention","user":"U0BOB","text":"`+tc.text+`","ts":"1700000050.000100","channel":"C0INC"}`), now); code != 200 {
			t.Fatalf("%q: %d", tc.text, code)
		}
		ps := r.posted()
		if len(ps) == 0 || !strings.Contains(ps[len(ps)-1].text, tc.answer) {
			t.Errorf("%q: no answer containing %q in %+v", tc.text, tc.answer, ps)
		}
	}
	if _, err := r.st.ChannelIncident(context.Background(), "C0INC"); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("a failed mention linked the channel: %v", err)
	}
}

// failing keeps nothing: the store is down.
type failing struct{ store.Store }

func (failing) PutChatMessage(context.Context, chat.Message) error { return errors.New("disk full") }

// A message the store cannot keep is answered 500, so that Slack
// delivers it again.
func TestStoreFailureAsksForRedelivery(t *testing.T) {
	r := newRig(t, func(s store.Store) Store { return failing{s} })
	ctx := context.Background()
	inc := &incidents.Incident{Title: "x", OpenedAt: now, Channel: "C0INC"}
	if err := r.st.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	code, body := r.send(callback(`{"type":"message","channel":"C0INC","user":"U0ALICE","text":"hi","ts":"1700000100.000200"}`), now)
	if code != http.StatusInternalServerError || !strings.Contains(body, "disk full") {
		t.Errorf("%d %q, want 500 saying disk full", code, body)
	}
}

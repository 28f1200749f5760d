package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/chat"
	"github.com/oncallhq/oncall/store"
)

// fakeSocketMode is Slack's side of Socket Mode as documented:
// apps.connections.open answers a WebSocket URL to the app-level token;
// on the socket Slack says hello, sends envelopes and waits for each
// envelope_id to be acknowledged.
type fakeSocketMode struct {
	t     *testing.T
	srv   *httptest.Server
	opens atomic.Int32
	conns chan *websocket.Conn
}

func newFakeSocketMode(t *testing.T, token string) *fakeSocketMode {
	f := &fakeSocketMode{t: t, conns: make(chan *websocket.Conn, 4)}
	// The client says it comes from api.slack.com, as Slack's does.
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://api.slack.com" }}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		f.opens.Add(1)
		fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/link/?ticket=t%d"}`, r.Host, f.opens.Load())
	})
	mux.HandleFunc("/link/", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Logf("upgrade %s: %v (%v)", r.URL, err, r.Header)
			return
		}
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1,"debug_info":{"host":"fake"},"connection_info":{"app_id":"A0APP"}}`))
		f.conns <- c
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSocketMode) next() *websocket.Conn {
	f.t.Helper()
	select {
	case c := <-f.conns:
		f.t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(10 * time.Second):
		f.t.Fatal("the bot did not connect")
		return nil
	}
}

// deliver sends an event in an envelope.
func deliver(t *testing.T, c *websocket.Conn, id, inner string) {
	t.Helper()
	env := fmt.Sprintf(`{"envelope_id":%q,"type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":"","payload":%s}`, id, callback(inner))
	if err := c.WriteMessage(websocket.TextMessage, []byte(env)); err != nil {
		t.Fatal(err)
	}
}

// ack reads the next acknowledgement.
func ack(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("no acknowledgement: %v", err)
		}
		var a struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(b, &a) == nil && a.EnvelopeID != "" {
			return a.EnvelopeID
		}
	}
}

// picky fails to keep the messages that say "fail".
type picky struct{ store.Store }

func (p picky) PutChatMessage(ctx context.Context, m chat.Message) error {
	if strings.Contains(m.Text, "fail") {
		return errors.New("disk full")
	}
	return p.Store.PutChatMessage(ctx, m)
}

// Over Socket Mode the bot links the channel and keeps its messages,
// acknowledging each envelope once kept and not before (the one it could
// not keep is never acknowledged, so Slack sends it again), and connects
// again when the socket drops.
func TestSocketMode(t *testing.T) {
	r := newRig(t, func(s store.Store) Store { return picky{s} })
	ctx, cancel := context.WithCancel(context.Background())
	inc := &incidents.Incident{Title: "matchmaking down", OpenedAt: now}
	if err := r.st.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	fake := newFakeSocketMode(t, "xapp-test")
	done := make(chan error, 1)
	go func() {
		done <- SocketMode{AppToken: "xapp-test", APIURL: fake.srv.URL + "/", Retry: func(int) time.Duration { return 0 }}.Run(ctx,
			Options{Store: picky{r.st}, Link: linker{r.st}, Now: func() time.Time { return now }})
	}()
	c := fake.next()
	deliver(t, c, "e1", `{"type":"app_mention","user":"U0BOB","text":"<@U0BOT> link INC-1","ts":"1700000050.000100","channel":"C0INC"}`)
	if got := ack(t, c); got != "e1" {
		t.Fatalf("acknowledged %q, want e1", got)
	}
	deliver(t, c, "e2", `{"type":"message","channel":"C0INC","user":"U0ALICE","text":"this will fail","ts":"1700000100.000200"}`)
	deliver(t, c, "e3", `{"type":"message","channel":"C0INC","user":"U0ALICE","text":"rolling back","ts":"1700000110.000300"}`)
	if got := ack(t, c); got != "e3" {
		t.Fatalf("acknowledged %q, want e3 (e2 was not kept)", got)
	}
	c.Close() // the socket drops: the bot opens another
	c = fake.next()
	deliver(t, c, "e4", `{"type":"message","channel":"C0INC","user":"U0CAROL","text":"recovered","ts":"1700000120.000400"}`)
	if got := ack(t, c); got != "e4" {
		t.Fatalf("after reconnecting: acknowledged %q, want e4", got)
	}
	var texts []string
	for _, m := range r.messages(inc.ID) {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, "|") != "rolling back|recovered" {
		t.Errorf("kept %q", texts)
	}
	if got, _ := r.st.Incident(ctx, inc.ID); got.Channel != "C0INC" {
		t.Errorf("channel %q", got.Channel)
	}
	if n := fake.opens.Load(); n != 2 {
		t.Errorf("%d connections opened, want 2", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}

// A bad app-level token is an error at each try, logged, and retried;
// Run without one refuses to start.
func TestSocketModeNeedsAnAppToken(t *testing.T) {
	if err := (SocketMode{}).Run(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "app-level token") {
		t.Errorf("no token: %v", err)
	}
	fake := newFakeSocketMode(t, "xapp-right")
	ctx, cancel := context.WithCancel(context.Background())
	tries := make(chan int, 10)
	done := make(chan error, 1)
	go func() {
		done <- SocketMode{AppToken: "xapp-wrong", APIURL: fake.srv.URL + "/", Retry: func(n int) time.Duration {
			tries <- n
			return 0
		}}.Run(ctx, Options{})
	}()
	for want := 0; want < 3; want++ {
		select {
		case n := <-tries:
			if n != want {
				t.Errorf("retry %d, want %d: failures in a row count up", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no retry")
		}
	}
	cancel()
	<-done
	if fake.opens.Load() != 0 {
		t.Error("a connection opened with the wrong token")
	}
}

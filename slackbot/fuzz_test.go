package slackbot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/store/sqlite"
)

// Any body Slack could sign is answered 200 (taken or ignored) or 400
// (not an event), never a panic or a 500 while the store works; and
// whatever is kept is valid.
func FuzzEvents(f *testing.F) {
	for _, seed := range []string{
		`{"type":"url_verification","challenge":"abc"}`,
		callback(`{"type":"message","channel":"C0INC","user":"U1","text":"hi","ts":"1700000100.000200"}`),
		callback(`{"type":"message","subtype":"message_changed","channel":"C0INC","message":{"text":"x","ts":"1.2","edited":{"ts":"3"}}}`),
		callback(`{"type":"message","subtype":"message_deleted","channel":"C0INC","deleted_ts":"1.2"}`),
		callback(`{"type":"app_mention","user":"U1","text":"<@U0> link INC-1","ts":"1.1","channel":"C0INC"}`),
		callback(`{"type":"message","channel":"C0INC","ts":"99999999999999999999.9"}`),
		`{"type":"event_callback","event":null}`,
		`[]`,
	} {
		f.Add(seed)
	}
	st, err := sqlite.Open(filepath.Join(f.TempDir(), "oncall.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	inc := &incidents.Incident{Title: "fuzz", OpenedAt: now, Channel: "C0INC"}
	if err := st.CreateIncident(ctx, inc); err != nil {
		f.Fatal(err)
	}
	h := Handler(Options{SigningSecret: secret, Store: st, Link: linker{st}, Now: func() time.Time { return now }})
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
		sign(req.Header, body, now)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, body)
		}
		ms, err := st.ChatMessages(ctx, inc.ID, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if err := m.Validate(); err != nil {
				t.Fatalf("kept an invalid message %+v: %v", m, err)
			}
		}
	})
}

// memResponder acts on one incident in memory, as the app's responder
// does on the store: members to users, the incident's own lifecycle.
type memResponder struct {
	mu  sync.Mutex
	inc incidents.Incident
	s   incidents.Settings
}

func (m *memResponder) Respond(_ context.Context, id int64, action, member string) (incidents.Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	user, ok := map[string]string{"U0ANA": "ana", "U0BEN": "ben"}[member]
	switch {
	case !ok:
		return incidents.Incident{}, ErrStranger
	case id != m.inc.ID:
		return incidents.Incident{}, incidents.ErrNotFound
	}
	by := incidents.Actor{Name: user, Source: "slack"}
	inc := m.inc
	var err error
	if action == "escalate" {
		_, err = inc.EscalateNow(m.s, by, now)
	} else {
		err = inc.Acknowledge(m.s, by, now)
	}
	if err == nil {
		m.inc = inc
	}
	return inc, err
}

// Any interaction Slack could sign is answered 200 or 400, never a panic
// or a 500; only oncall's users act.
func FuzzInteractions(f *testing.F) {
	r := newButtonRig(f)
	resp := &memResponder{inc: incidents.Incident{ID: 1, Title: "fuzz", Status: incidents.StatusTriggered}, s: r.settings}
	if _, err := resp.inc.Start(r.settings, "default", now); err != nil {
		f.Fatal(err)
	}
	r.opts.Respond = resp
	for _, seed := range []string{
		r.payload("U0ANA", "oncall_ack", "1"),
		r.payload("U0EVE", "oncall_escalate", "1"),
		r.payload("U0BEN", "oncall_ack", "-1"),
		r.payload("U0BEN", "oncall_runbook", "1"),
		`{"type":"block_actions","actions":[{"action_id":"oncall_ack","block_id":"b","value":"99999999999999999999"}]}`,
		`{"type":"view_submission"}`,
		`null`,
	} {
		f.Add("payload=" + url.QueryEscape(seed))
	}
	// Answers go to the test's response URL only: a mutated URL would
	// wait for a name that cannot be resolved here.
	hooks, _ := url.Parse(r.hooks)
	r.opts.Client = &http.Client{Timeout: time.Second, Transport: onlyHost{hooks.Host, http.DefaultTransport}}
	h := Handler(r.opts)
	f.Add("payload=%zz")
	f.Add("")
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "/slack/interactive", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sign(req.Header, form, now)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, form)
		}
		resp.mu.Lock()
		defer resp.mu.Unlock()
		if by := resp.inc.AckedBy; by != "" && by != "ana" && by != "ben" {
			t.Fatalf("acknowledged by %q", by)
		}
	})
}

// onlyHost refuses requests to any host but one.
type onlyHost struct {
	host string
	next http.RoundTripper
}

func (o onlyHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		return nil, errors.New("not the test's response URL")
	}
	return o.next.RoundTrip(r)
}

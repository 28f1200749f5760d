package slackbot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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

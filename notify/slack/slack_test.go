package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
)

// posted is a chat.postMessage as Slack received it.
type posted struct {
	channel, text string
	blocks        []map[string]any
}

// fakeSlack answers chat.postMessage with the next of answers (ok when
// none is left) and records what was posted.
func fakeSlack(t *testing.T, answers ...func(w http.ResponseWriter)) (string, func() []posted) {
	var mu sync.Mutex
	var got []posted
	s := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			defer mu.Unlock()
			if len(answers) > 0 {
				a := answers[0]
				answers = answers[1:]
				a(w)
				return
			}
			p := posted{channel: r.Form.Get("channel"), text: r.Form.Get("text")}
			if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &p.blocks); err != nil {
				t.Errorf("blocks: %v", err)
			}
			got = append(got, p)
			fmt.Fprintf(w, `{"ok":true,"channel":"D0DM","ts":"1.000001"}`)
		})
	})
	s.Start()
	t.Cleanup(s.Stop)
	return s.GetAPIURL(), func() []posted {
		mu.Lock()
		defer mu.Unlock()
		return append([]posted(nil), got...)
	}
}

var t0 = time.Date(2026, 12, 1, 3, 12, 0, 0, time.UTC)

func pageMsg(pg incidents.Page) notify.Message {
	m := notify.Pages([]incidents.Page{pg})[0]
	m.Key = "s1/" + m.Key
	return m
}

// A page is a direct message to the member with the incident's words
// escaped (an alert's "<!channel>" must not ping everyone) and its
// buttons; an update says who took the incident.
func TestDirectMessages(t *testing.T) {
	url, got := fakeSlack(t)
	n := New("xoxb-test", url, map[string]string{"ana": "U0ANA"})
	ctx := context.Background()
	pg := incidents.Page{Key: "INC-7/p1/ana", IncidentID: 7, Kind: incidents.PageTrigger, Target: "ana", StepName: "primary on-call",
		Subject: "[INC-7] Checkout <!channel> down & out", Body: "Firing since 03:10 UTC.", RunbookURL: "https://runbooks.example.com/checkout",
		Severity: incidents.SEV1, CreatedAt: t0}
	if err := n.Deliver(ctx, pageMsg(pg)); err != nil {
		t.Fatal(err)
	}
	up := incidents.Page{Key: pg.Key + "/acknowledge", Of: pg.Key, IncidentID: 7, Kind: incidents.PageAcknowledge, Target: "ana",
		Subject: "[INC-7] Checkout down", Body: "acknowledged by ben", CreatedAt: t0}
	if err := n.Deliver(ctx, pageMsg(up)); err != nil {
		t.Fatal(err)
	}
	ps := got()
	if len(ps) != 2 || ps[0].channel != "U0ANA" || ps[1].channel != "U0ANA" {
		t.Fatalf("posted %+v", ps)
	}
	b, _ := json.Marshal(ps[0].blocks)
	blocks := string(b)
	for _, want := range []string{`Checkout \u0026lt;!channel\u0026gt; down \u0026amp; out`, `"action_id":"oncall_ack"`, `"value":"7"`,
		`"action_id":"oncall_escalate"`, `"url":"https://runbooks.example.com/checkout"`, `SEV1`, `primary on-call`} {
		if !strings.Contains(blocks, want) {
			t.Errorf("the page's blocks lack %s:\n%s", want, blocks)
		}
	}
	if strings.Contains(blocks, "<!channel>") {
		t.Errorf("a mass mention went through:\n%s", blocks)
	}
	if ps[0].text != pg.Subject {
		t.Errorf("notification text %q", ps[0].text)
	}
	if ps[1].text != "INC-7 acknowledged by ben: Checkout down" {
		t.Errorf("the update says %q", ps[1].text)
	}
}

// Slack's refusals are final; its rate limits and 5xx are retried.
func TestFailures(t *testing.T) {
	refuse := func(code string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { fmt.Fprintf(w, `{"ok":false,"error":%q}`, code) }
	}
	status := func(code int) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(code)
		}
	}
	url, got := fakeSlack(t, refuse("channel_not_found"), refuse("invalid_auth"), refuse("internal_error"), status(429), status(503), status(404))
	n := New("xoxb-test", url, map[string]string{"ana": "U0ANA"})
	pg := pageMsg(incidents.Page{Key: "INC-7/p1/ana", IncidentID: 7, Target: "ana", Subject: "x", CreatedAt: t0})
	var perm *notify.PermanentError
	for i, final := range []bool{true, true, false, false, false, true} {
		err := n.Deliver(context.Background(), pg)
		if err == nil || errors.As(err, &perm) != final {
			t.Errorf("answer %d: %v, want final %v", i+1, err, final)
		}
	}
	if err := n.Deliver(context.Background(), pg); err != nil || len(got()) != 1 {
		t.Errorf("after the failures: %v", err)
	}
	if err := n.Deliver(context.Background(), pageMsg(incidents.Page{Key: "INC-7/p1/bo", Target: "bo"})); !errors.As(err, &perm) {
		t.Errorf("somebody without a member ID: %v", err)
	}
}

// A page longer than Slack takes in a section is cut, not refused.
func TestLongPageIsCut(t *testing.T) {
	_, blocks := Message(incidents.Page{IncidentID: 7, Subject: "[INC-7] storm", Body: strings.Repeat("also: é alert\n", 400)})
	b, _ := json.Marshal(blocks[0])
	var sec struct {
		Text struct{ Text string } `json:"text"`
	}
	json.Unmarshal(b, &sec)
	if n := len(sec.Text.Text); n > 3000 || n < 2900 || !strings.HasSuffix(sec.Text.Text, "…") {
		t.Errorf("section of %d bytes", n)
	}
}

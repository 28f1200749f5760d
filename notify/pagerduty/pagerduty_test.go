package pagerduty

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/notify/pagerduty/pagerdutytest"
)

const (
	aliceKey = "A1ice0000000000000000000000000aa"
	bobKey   = "B0b00000000000000000000000000bbb"
)

var t0 = time.Date(2026, 12, 1, 3, 12, 0, 0, time.UTC)

// msg is a page as the outbox holds it: the key prefixed with the store.
func msg(pg incidents.Page) notify.Message {
	m := notify.Pages([]incidents.Page{pg})[0]
	m.Key = "store-1/" + m.Key
	return m
}

func page(target string, seq int, sev incidents.Severity) incidents.Page {
	return incidents.Page{
		Key: "INC-7/p" + string(rune('0'+seq)) + "/" + target, IncidentID: 7, Kind: incidents.PageTrigger, Target: target,
		StepName: "primary on-call", Subject: "[INC-7] Matches per active user dropped 40%", Body: "Firing since 03:10 UTC.",
		RunbookURL: "https://runbooks.example.com/matchmaking", Severity: sev, CreatedAt: t0,
	}
}

func update(pg incidents.Page, kind string) incidents.Page {
	return incidents.Page{Key: pg.Key + "/" + kind, Of: pg.Key, Kind: kind, Target: pg.Target, IncidentID: 7, CreatedAt: t0.Add(time.Minute)}
}

// A page opens one alert on the person's service, with what PagerDuty
// shows; retried, it is still one alert; its updates acknowledge and
// resolve that alert, and nothing else.
func TestPageLifecycle(t *testing.T) {
	pd := pagerdutytest.New(t, aliceKey, bobKey)
	n := New(pd.URL, map[string]string{"alice": aliceKey, "bob": bobKey}, "https://oncall.example.com/")
	ctx := context.Background()
	alice, bob := page("alice", 1, incidents.SEV2), page("bob", 2, incidents.SEV2)
	for _, m := range []notify.Message{msg(alice), msg(alice), msg(bob)} {
		if err := n.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := pd.Notified(); got != 2 {
		t.Fatalf("notified %d times, want 2 (alice once despite the retry, bob)", got)
	}
	ev := pd.Events()[0]
	if ev.DedupKey != "store-1/INC-7/p1/alice" || ev.Action != "trigger" || ev.ClientURL != "https://oncall.example.com/api/v1/incidents/7" {
		t.Errorf("event: %+v", ev)
	}
	p := ev.Payload
	if p.Summary != alice.Subject || p.Severity != "error" || p.Source != "oncall" || p.Timestamp != "2026-12-01T03:12:00Z" ||
		p.Details["runbook_url"] != alice.RunbookURL || p.Details["details"] != alice.Body || p.Details["incident"] != "INC-7" {
		t.Errorf("payload: %+v", p)
	}
	if len(ev.Links) != 1 || ev.Links[0].Href != alice.RunbookURL {
		t.Errorf("links: %+v", ev.Links)
	}
	for _, m := range []notify.Message{msg(update(alice, incidents.PageAcknowledge)), msg(update(bob, incidents.PageResolve))} {
		if err := n.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for _, a := range pd.Alerts() {
		got[a.DedupKey] = a.Status
	}
	if got["store-1/INC-7/p1/alice"] != "acknowledged" || got["store-1/INC-7/p2/bob"] != "resolved" || len(got) != 2 {
		t.Errorf("alerts: %v", got)
	}
	if inv := pd.Invalid(); len(inv) != 0 {
		t.Errorf("refused: %q", inv)
	}
}

func TestSeverity(t *testing.T) {
	for sev, want := range map[incidents.Severity]string{0: "critical", incidents.SEV1: "critical", incidents.SEV2: "error", incidents.SEV3: "warning", incidents.SEV4: "info"} {
		if got := Severity(sev); got != want {
			t.Errorf("Severity(%v) = %q, want %q", sev, got, want)
		}
	}
}

// PagerDuty's busy answers are retried; a refused event, or a page for
// somebody without a key, is not.
func TestFailures(t *testing.T) {
	pd := pagerdutytest.New(t, aliceKey)
	n := New(pd.URL, map[string]string{"alice": aliceKey, "mallory": strings.Repeat("x", 32)}, "")
	ctx := context.Background()
	var perm *notify.PermanentError
	for _, code := range []int{429, 500, 502, 408} {
		pd.FailNext(code)
		err := n.Deliver(ctx, msg(page("alice", 1, 0)))
		if err == nil || errors.As(err, &perm) || !strings.Contains(err.Error(), "HTTP") {
			t.Errorf("HTTP %d: %v, want a retry", code, err)
		}
	}
	if err := n.Deliver(ctx, msg(page("alice", 1, 0))); err != nil || pd.Notified() != 1 {
		t.Fatalf("after the failures: %v, notified %d", err, pd.Notified())
	}
	pd.FailNext(403)
	if err := n.Deliver(ctx, msg(page("alice", 2, 0))); !errors.As(err, &perm) {
		t.Errorf("HTTP 403: %v, want permanent", err)
	}
	// A key PagerDuty does not take (validated as 32 characters, this
	// one is refused by the fake as a bad event).
	n.keys["mallory"] = "short"
	if err := n.Deliver(ctx, msg(page("mallory", 1, 0))); !errors.As(err, &perm) || strings.Contains(err.Error(), "short") {
		t.Errorf("a bad key: %v, want permanent and the key unsaid", err)
	}
	if err := n.Deliver(ctx, msg(page("carol", 1, 0))); !errors.As(err, &perm) || !strings.Contains(err.Error(), "carol has no pagerduty_key") {
		t.Errorf("nobody's key: %v", err)
	}
	if got := len(pd.Invalid()); got != 1 {
		t.Errorf("%d events refused, want 1: %q", got, pd.Invalid())
	}
}

// A long summary is cut at PagerDuty's limit without splitting a
// character; a long dedup key is hashed, the same each time.
func TestLimits(t *testing.T) {
	pd := pagerdutytest.New(t, aliceKey)
	n := New(pd.URL, map[string]string{"alice": aliceKey}, "")
	pg := page("alice", 1, incidents.SEV1)
	pg.Subject = strings.Repeat("é", 600) // 1,200 bytes
	m := msg(pg)
	m.Key = strings.Repeat("s", 300) + "/" + pg.Key
	if err := n.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ev := pd.Events()[0]
	if s := ev.Payload.Summary; len(s) > 1024 || !utf8.ValidString(s) || !strings.HasSuffix(s, "é…") {
		t.Errorf("summary of %d bytes, valid %v", len(s), utf8.ValidString(s))
	}
	if k := ev.DedupKey; len(k) > 255 || k != DedupKey(m) || !strings.HasPrefix(k, "oncall-") {
		t.Errorf("dedup key %q", k)
	}
	u := msg(update(pg, incidents.PageResolve))
	u.Key = strings.Repeat("s", 300) + "/" + u.Page.Key
	if DedupKey(u) != DedupKey(m) {
		t.Error("the update's dedup key is not its page's")
	}
}

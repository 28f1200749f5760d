package integration

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/notify/pagerduty/pagerdutytest"
	"github.com/oncallhq/oncall/routing"
)

const routingKey = "AMpd0000000000000000000000000000"

func config(t *testing.T, pdURL, slackURL string) *routing.Config {
	t.Helper()
	rc, err := routing.Parse("", []byte(fmt.Sprintf(`route: {receiver: team}
receivers:
  - name: team
    pagerduty_configs: [{routing_key: %s, url: %q}]
    slack_configs: [{api_url: %q, channel: "#checkout", send_resolved: true}]
`, routingKey, pdURL+"/v2/enqueue", slackURL)))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func notification(integration string, firing bool, at time.Time) notify.Message {
	a := alerts.Alert{Labels: labels.FromStrings("alertname", "CheckoutDown", "service", "checkout", "severity", "critical"),
		Annotations: labels.FromStrings("summary", "checkout fails for every shopper"), StartsAt: at.Add(-5 * time.Minute), UpdatedAt: at}
	if !firing {
		a.EndsAt = at.Add(-time.Second)
	}
	return notify.Message{Key: "s1/n/1", Kind: notify.KindNotification, Notification: &notify.Notification{
		Receiver: "team", Integration: integration, GroupKey: `{}:{alertname="CheckoutDown"}`,
		GroupLabels: labels.FromStrings("alertname", "CheckoutDown"), Alerts: []alerts.Alert{a}, At: at}}
}

// A pagerduty_configs entry is Alertmanager's notifier: a firing group
// triggers one alert whose dedup key is the hash of the group key, the
// resolved group resolves it; PagerDuty's 5xx is retried and its 400 is
// final.
func TestPagerDutyConfigs(t *testing.T) {
	pd := pagerdutytest.New(t, routingKey)
	set, err := Build(config(t, pd.URL, "http://127.0.0.1:1/").AM, "https://oncall.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.Deliverer("team", "webhook", 0) != nil || set.Deliverer("team", "pagerduty", 1) != nil {
		t.Error("a deliverer for an integration the receiver does not have")
	}
	d := set.Deliverer("team", "pagerduty", 0)
	now := time.Now()
	ctx := context.Background()
	pd.FailNext(500)
	var perm *notify.PermanentError
	if err := d.Deliver(ctx, notification("pagerduty", true, now)); err == nil || errors.As(err, &perm) {
		t.Fatalf("a 500: %v, want a retry", err)
	}
	if err := d.Deliver(ctx, notification("pagerduty", true, now)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", sha256.Sum256([]byte(`{}:{alertname="CheckoutDown"}`)))
	as := pd.Alerts()
	if len(as) != 1 || as[0].DedupKey != want || as[0].Status != "triggered" || !strings.Contains(as[0].Summary, "CheckoutDown") {
		t.Fatalf("alerts %+v, want one triggered with dedup key %s", as, want)
	}
	if ev := pd.Events()[0]; ev.Payload.Severity != "error" || ev.Client != "Alertmanager" || !strings.HasPrefix(ev.ClientURL, "https://oncall.example.com") {
		t.Errorf("event as Alertmanager sends it: %+v %+v", ev, ev.Payload)
	}
	if err := d.Deliver(ctx, notification("pagerduty", false, now)); err != nil {
		t.Fatal(err)
	}
	if as := pd.Alerts(); as[0].Status != "resolved" {
		t.Errorf("after the resolved group: %s", as[0].Status)
	}
	pd.FailNext(400)
	if err := d.Deliver(ctx, notification("pagerduty", true, now)); !errors.As(err, &perm) {
		t.Errorf("a 400: %v, want final", err)
	}
}

// A slack_configs entry posts Alertmanager's message to the incoming
// webhook, firing and resolved alike with send_resolved.
func TestSlackConfigs(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	sl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(sl.Close)
	set, err := Build(config(t, "http://127.0.0.1:1", sl.URL+"/services/T0/B0/x").AM, "https://oncall.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := set.Deliverer("team", "slack", 0)
	now := time.Now()
	for _, firing := range []bool{true, false} {
		if err := d.Deliver(context.Background(), notification("slack", firing, now)); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0]["channel"] != "#checkout" {
		t.Fatalf("posted %v", got)
	}
	title := func(m map[string]any) string {
		atts, _ := m["attachments"].([]any)
		if len(atts) == 0 {
			return ""
		}
		a, _ := atts[0].(map[string]any)
		return fmt.Sprint(a["title"])
	}
	if title(got[0]) != "[FIRING:1] CheckoutDown (checkout critical)" || title(got[1]) != "[RESOLVED] CheckoutDown (checkout critical)" {
		t.Errorf("titles %q and %q", title(got[0]), title(got[1]))
	}
}

package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	amwebhook "github.com/prometheus/alertmanager/notify/webhook"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func notification() *notify.Notification {
	return &notify.Notification{Receiver: "team.x", GroupKey: `{}:{service="api"}`, GroupLabels: labels.FromStrings("service", "api"), At: t0,
		Alerts: []alerts.Alert{
			{Labels: labels.FromStrings("alertname", "Down", "service", "api", "instance", "a"), Annotations: labels.FromStrings("summary", "down", "runbook", "r"), StartsAt: t0.Add(-time.Hour), GeneratorURL: "http://prom/g"},
			{Labels: labels.FromStrings("alertname", "Down", "service", "api", "instance", "b"), Annotations: labels.FromStrings("summary", "down"), StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(-time.Minute)},
			{Labels: labels.FromStrings("alertname", "Slow", "service", "api"), StartsAt: t0.Add(-time.Minute)},
		}}
}

// The payload is the one Alertmanager's own webhook notifier builds.
func TestPayloadMatchesAlertmanager(t *testing.T) {
	n := notification()
	for _, max := range []uint64{0, 2} {
		got, _ := json.Marshal(NewPayload(n, "http://oncall:7767", max))

		tmpl, err := amtemplate.New()
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExternalURL, _ = url.Parse("http://oncall:7767")
		var as []*types.Alert
		for _, a := range n.Alerts {
			ta := &types.Alert{Alert: model.Alert{Labels: set(a.Labels), Annotations: set(a.Annotations), StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL}}
			as = append(as, ta)
		}
		var truncated uint64
		if max > 0 {
			truncated = uint64(len(as)) - max
			as = as[:max]
		}
		ref, _ := json.Marshal(&amwebhook.Message{Data: tmpl.Data(n.Receiver, set(n.GroupLabels), nil, "", as...), Version: "4", GroupKey: n.GroupKey, TruncatedAlerts: truncated})
		var gm, rm map[string]any
		json.Unmarshal(got, &gm)
		json.Unmarshal(ref, &rm)
		for k := range rm {
			if _, ok := gm[k]; !ok && (k == "notification_reason" || k == "routeLabels") {
				delete(rm, k) // newer than Alertmanager 0.25
			}
		}
		if !reflect.DeepEqual(gm, rm) {
			t.Errorf("max_alerts %d:\n oncall:       %s\n alertmanager: %s", max, got, ref)
		}
	}
}

func set(ls labels.Labels) model.LabelSet {
	m := model.LabelSet{}
	ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return m
}

func TestDeliver(t *testing.T) {
	var status int
	var got Payload
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		w.WriteHeader(status)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()
	u := srv.URL + "/hook?token=secret"
	conf := &amwebhook.WebhookConfig{URL: amcommoncfg.SecretTemplateURL(u), HTTPConfig: &commoncfg.HTTPClientConfig{Authorization: &commoncfg.Authorization{Type: "Bearer", Credentials: "tok"}}}
	nf, err := New(conf, "http://oncall")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.Message{Key: "k", Notification: notification()}
	ctx := context.Background()

	status = 200
	if err := nf.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got.GroupKey != `{}:{service="api"}` || got.Status != "firing" || len(got.Alerts) != 3 || auth != "Bearer tok" {
		t.Errorf("delivered %+v with auth %q", got, auth)
	}

	status = 503
	err = nf.Deliver(ctx, m)
	var perm *notify.PermanentError
	if err == nil || errors.As(err, &perm) {
		t.Errorf("a 5xx is retried: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the URL's secrets: %v", err)
	}
	status = 400
	if err := nf.Deliver(ctx, m); !errors.As(err, &perm) {
		t.Errorf("a 4xx is refused for good: %v", err)
	}
	if got := redact("https://user:pw@hooks.example.com/x/y?token=t#f"); got != "https://hooks.example.com/…" {
		t.Errorf("redact: %s", got)
	}
	down, _ := New(&amwebhook.WebhookConfig{URL: "http://user:pw@127.0.0.1:1/hook?token=t"}, "")
	if err := down.Deliver(ctx, m); err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token") {
		t.Errorf("connection error leaks secrets: %v", err)
	}
}

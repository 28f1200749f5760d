package notify

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// AppendJSON writes what json.Marshal would write for a message.
func TestAppendJSONIsMarshal(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 5, time.UTC)
	msgs := []Message{
		{},
		{ID: 7, Key: "id/INC-1/p1/ana", Kind: KindPage, Page: &incidents.Page{Key: "INC-1/p1/ana", Target: "ana", Subject: "<b>&"}, CreatedAt: t0,
			NextAttemptAt: t0.Add(time.Second), Attempts: 2, LastError: "refused \"x\""},
		{Key: "n", Kind: KindNotification, Supersede: "g", Superseded: true, Failed: true, SentAt: t0, CreatedAt: t0,
			Notification: &Notification{Receiver: "team \"x\"", Integration: "webhook", Index: 1, GroupKey: `{}:{a="b"}`, GroupLabels: labels.FromStrings("a", "b"), At: t0, Reason: "new alerts added",
				Alerts: []alerts.Alert{{Labels: labels.FromStrings("alertname", "A"), StartsAt: t0}, {Labels: labels.FromStrings("alertname", "B"), EndsAt: t0}}}},
	}
	for _, m := range msgs {
		got, err := m.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		type plain Message // json.Marshal without AppendJSON in the way
		want, _ := json.Marshal(plain(m))
		if !bytes.Equal(got, want) {
			t.Errorf("AppendJSON:\n got  %s\n want %s", got, want)
		}
		var back Message
		if err := json.Unmarshal(got, &back); err != nil || back.Key != m.Key || back.Attempts != m.Attempts {
			t.Errorf("decoding %s: %+v, %v", got, back, err)
		}
	}
}

package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// webhookMessage is what an Alertmanager webhook_configs entry posts.
type webhookMessage struct {
	Version  string `json:"version"`
	GroupKey string `json:"groupKey"`
	Status   string `json:"status"`
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	} `json:"alerts"`
}

func pairs(m map[string]string) []labels.Label {
	out := make([]labels.Label, 0, len(m))
	for k, v := range m {
		out = append(out, labels.Label{Name: k, Value: v})
	}
	return out
}

// alertmanagerWebhook takes the notifications of an existing Alertmanager
// (a webhook_configs entry with send_resolved: true pointing here) and puts
// their alerts into oncall's pipeline, to be routed by oncall's own tree.
// A firing alert stays firing until the Alertmanager says it resolved.
func (a *api) alertmanagerWebhook(w http.ResponseWriter, r *http.Request) {
	var m webhookMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.o.MaxBody)).Decode(&m); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad webhook body: %w", err))
		return
	}
	if m.Version != "4" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("webhook payload version %q: oncall reads version 4", m.Version))
		return
	}
	now := a.o.Now()
	var valid []alerts.Alert
	var invalid []string
	b := labels.NewScratchBuilder(8)
	for _, in := range m.Alerts {
		al := alerts.Alert{Labels: setOf(&b, pairs(in.Labels), true), Annotations: setOf(&b, pairs(in.Annotations), false), StartsAt: in.StartsAt,
			UpdatedAt: now, GeneratorURL: in.GeneratorURL}
		if in.Status == "resolved" {
			al.EndsAt = in.EndsAt
			if al.EndsAt.IsZero() || al.EndsAt.After(now) {
				al.EndsAt = now
			}
		}
		if err := al.Validate(); err != nil {
			invalid = append(invalid, err.Error())
			continue
		}
		valid = append(valid, al)
	}
	refused := a.o.Pipeline.Put(now, valid)
	switch {
	case len(invalid) > 0:
		writeError(w, http.StatusBadRequest, fmt.Errorf("%d invalid alerts: %s", len(invalid), strings.Join(invalid, "; ")))
	case refused > 0:
		writeError(w, http.StatusTooManyRequests, fmt.Errorf("%d of %d alerts refused: oncall holds its alerts.max_alerts limit", refused, len(valid)))
	default:
		w.WriteHeader(http.StatusOK)
	}
}

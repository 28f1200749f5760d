// Package webhook delivers group notifications to a webhook_configs entry
// of an alertmanager.yml with Alertmanager's payload (version 4, groupKey,
// truncatedAlerts), so every existing webhook integration keeps working.
// A 2xx is delivered, a 5xx is retried, another 4xx is refused for good.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	amwebhook "github.com/prometheus/alertmanager/notify/webhook"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
)

// Payload is the JSON body Alertmanager posts to a webhook.
type Payload struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []Alert           `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
}

// Alert is one alert of a payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// NewPayload renders a notification as Alertmanager would, keeping at most
// maxAlerts alerts (0: all).
func NewPayload(n *notify.Notification, externalURL string, maxAlerts uint64) Payload {
	as := n.Alerts
	var truncated uint64
	if maxAlerts > 0 && uint64(len(as)) > maxAlerts {
		truncated = uint64(len(as)) - maxAlerts
		as = as[:maxAlerts]
	}
	p := Payload{Receiver: regexp.QuoteMeta(n.Receiver), Status: n.Status(), Alerts: make([]Alert, 0, len(as)),
		GroupLabels: n.GroupLabels.Map(), CommonLabels: map[string]string{}, CommonAnnotations: map[string]string{},
		ExternalURL: externalURL, Version: "4", GroupKey: n.GroupKey, TruncatedAlerts: truncated}
	for i := range as {
		a := &as[i]
		p.Alerts = append(p.Alerts, Alert{Status: a.StateAt(n.At).String(), Labels: a.Labels.Map(), Annotations: a.Annotations.Map(),
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: alerts.FingerprintString(a.Fingerprint())})
	}
	if len(as) > 0 {
		p.CommonLabels, p.CommonAnnotations = common(as, func(a *alerts.Alert) labels.Labels { return a.Labels }), common(as, func(a *alerts.Alert) labels.Labels { return a.Annotations })
	}
	return p
}

// common is what every alert shares, computed over the alerts sent.
func common(as []alerts.Alert, of func(*alerts.Alert) labels.Labels) map[string]string {
	out := of(&as[0]).Map()
	for i := 1; i < len(as) && len(out) > 0; i++ {
		ls := of(&as[i])
		for k, v := range out {
			if ls.Get(k) != v {
				delete(out, k)
			}
		}
	}
	return out
}

// Notifier posts to one webhook.
type Notifier struct {
	conf        *amwebhook.WebhookConfig
	client      *http.Client
	externalURL string
}

// New returns a notifier for one webhook_configs entry.
func New(conf *amwebhook.WebhookConfig, externalURL string) (*Notifier, error) {
	hc := commoncfg.DefaultHTTPClientConfig
	if conf.HTTPConfig != nil {
		hc = *conf.HTTPConfig
	}
	client, err := commoncfg.NewClientFromConfig(hc, "webhook")
	if err != nil {
		return nil, fmt.Errorf("webhook http_config: %w", err)
	}
	client.Timeout = 30 * time.Second
	if conf.Timeout > 0 {
		client.Timeout = conf.Timeout
	}
	if strings.Contains(string(conf.URL), "{{") {
		return nil, errors.New("webhook url: templated URLs are not supported")
	}
	return &Notifier{conf: conf, client: client, externalURL: externalURL}, nil
}

func (n *Notifier) url() (string, error) {
	if n.conf.URLFile != "" {
		b, err := os.ReadFile(n.conf.URLFile)
		if err != nil {
			return "", fmt.Errorf("webhook url_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return string(n.conf.URL), nil
}

// Deliver posts the message's notification.
func (n *Notifier) Deliver(ctx context.Context, m notify.Message) error {
	if m.Notification == nil {
		return notify.Permanent(fmt.Errorf("webhook: message %s carries no notification", m.Key))
	}
	body, err := json.Marshal(NewPayload(m.Notification, n.externalURL, n.conf.MaxAlerts))
	if err != nil {
		return notify.Permanent(err)
	}
	u, err := n.url()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "oncall")
	resp, err := n.client.Do(req)
	if err != nil {
		// The URL may hold a secret: say only where it failed.
		return fmt.Errorf("webhook %s: %w", redact(u), unwrapURL(err))
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("webhook %s: unexpected status code %d: %s", redact(u), resp.StatusCode, bytes.TrimSpace(detail))
	default:
		return notify.Permanent(fmt.Errorf("webhook %s: unexpected status code %d: %s", redact(u), resp.StatusCode, bytes.TrimSpace(detail)))
	}
}

// redact keeps only the scheme and host of a webhook URL: its path and
// query often are the secret (a chat service's incoming-webhook URL), and
// its user info may hold a password.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return "(a webhook URL)"
	}
	out := pu.Scheme + "://" + pu.Host
	if pu.Path != "" && pu.Path != "/" || pu.RawQuery != "" {
		out += "/…"
	}
	return out
}

func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/notify/console"
	"github.com/oncallhq/oncall/notify/integration"
	"github.com/oncallhq/oncall/notify/pagerduty"
	"github.com/oncallhq/oncall/notify/slack"
	"github.com/oncallhq/oncall/notify/webhook"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/routing"
)

// delivery knows where each outbox message goes: pages to the console
// file and to the paged person's PagerDuty and Slack, page updates to
// those two, console notifications to the console file, webhook
// notifications to the webhook_configs entry they were decided for, and
// the notifications of the other integrations (PagerDuty, Slack, email,
// …) to Alertmanager's own notifiers.
type delivery struct {
	console   *console.Receiver
	webhooks  map[string]*webhook.Notifier
	pagerduty *pagerduty.Notifier
	slack     *slack.Notifier
	// afterPD and afterSlack hold a page update back until its page
	// went out.
	afterPD, afterSlack notify.Deliverer
	fanout              *notify.Fanout
	// others are the receivers' integrations but webhooks, with
	// Alertmanager's notifiers.
	others *integration.Set
}

func webhookID(receiver string, index int) string { return fmt.Sprintf("%s/%d", receiver, index) }

func newDelivery(cfg config.Config, rc *routing.Config, externalURL string, box notify.Lookup, log *slog.Logger) (*delivery, error) {
	file := cfg.Notify.Console.File
	if file == "" {
		file = filepath.Join(cfg.StatePath(), "pages.log")
	}
	c, err := console.Open(file)
	if err != nil {
		return nil, err
	}
	d := &delivery{console: c, webhooks: map[string]*webhook.Notifier{}, fanout: notify.NewFanout()}
	keys, members := map[string]string{}, map[string]string{}
	for _, u := range cfg.Users {
		if u.PagerDutyKey != "" {
			keys[u.Name] = u.PagerDutyKey
		}
		if u.SlackID != "" {
			members[u.Name] = u.SlackID
		}
	}
	if len(keys) > 0 {
		d.pagerduty = pagerduty.New(cfg.PagerDuty.EventsURL, keys, externalURL)
		d.afterPD = notify.AfterPage(box, d.pagerduty, func(k string) bool { return d.fanout.Took(k, "pagerduty") })
	}
	if len(members) > 0 && cfg.Slack.BotToken != "" {
		d.slack = slack.New(cfg.Slack.BotToken, cfg.Slack.APIURL, members)
		d.afterSlack = notify.AfterPage(box, d.slack, func(k string) bool { return d.fanout.Took(k, "slack") })
	}
	var errs []error
	for _, r := range rc.AM.Receivers {
		for i, w := range r.WebhookConfigs {
			n, err := webhook.New(w, externalURL)
			if err != nil {
				errs = append(errs, fmt.Errorf("receiver %q webhook_configs[%d]: %w", r.Name, i, err))
				continue
			}
			d.webhooks[webhookID(r.Name, i)] = n
		}
	}
	others, err := integration.Build(rc.AM, externalURL, log)
	if err != nil {
		errs = append(errs, err)
	}
	d.others = others
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return d, nil
}

// route implements notify.Router.
func (d *delivery) route(m notify.Message) (notify.Deliverer, string, error) {
	n := m.Notification
	switch {
	case m.Page != nil:
		return d.page(m)
	case n == nil:
		return nil, "", fmt.Errorf("message %s carries nothing to deliver", m.Key)
	case n.Integration == pipeline.KindConsole:
		return d.console, "console", nil
	case n.Integration == pipeline.KindWebhook:
		id := webhookID(n.Receiver, n.Index)
		if w := d.webhooks[id]; w != nil {
			return w, "webhook " + id, nil
		}
		return nil, "", fmt.Errorf("receiver %q has no webhook_configs[%d] any more", n.Receiver, n.Index)
	}
	if in := d.others.Deliverer(n.Receiver, n.Integration, n.Index); in != nil {
		return in, fmt.Sprintf("%s %s/%d", n.Integration, n.Receiver, n.Index), nil
	}
	return nil, "", fmt.Errorf("receiver %q has no %s_configs[%d] any more", n.Receiver, n.Integration, n.Index)
}

// page routes a page to the console and the paging services of the
// person paged, and its updates to those services; a person's pages go
// out in order on a channel of their own, their updates on another.
func (d *delivery) page(m notify.Message) (notify.Deliverer, string, error) {
	user := m.Page.Target
	var parts []notify.Part
	if m.Kind != notify.KindPageUpdate {
		parts = append(parts, notify.Part{Name: "console", D: d.console})
	}
	if d.pagerduty != nil && d.pagerduty.Pages(user) {
		parts = append(parts, notify.Part{Name: "pagerduty", D: d.afterPD})
	}
	if d.slack != nil && d.slack.Pages(user) {
		parts = append(parts, notify.Part{Name: "slack", D: d.afterSlack})
	}
	switch {
	case len(parts) == 0:
		return discard{}, "page updates", nil
	case len(parts) == 1 && parts[0].Name == "console":
		return d.console, "console", nil
	case m.Kind == notify.KindPageUpdate:
		// Apart from the pages: a channel has one deliverer, and an
		// update waits for its page by itself (AfterPage).
		return d.fanout.To(parts...), "page updates to " + user, nil
	}
	return d.fanout.To(parts...), "pages to " + user, nil
}

// discard takes page updates that no paging service waits for.
type discard struct{}

func (discard) Deliver(context.Context, notify.Message) error { return nil }

// Close closes the console file.
func (d *delivery) Close() error { return d.console.Close() }

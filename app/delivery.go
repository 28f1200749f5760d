package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/notify/console"
	"github.com/oncallhq/oncall/notify/webhook"
	"github.com/oncallhq/oncall/pipeline"
	"github.com/oncallhq/oncall/routing"
)

// delivery knows where each outbox message goes: pages and console
// notifications to the console file, webhook notifications to the
// webhook_configs entry they were decided for.
type delivery struct {
	console  *console.Receiver
	webhooks map[string]*webhook.Notifier
}

func webhookID(receiver string, index int) string { return fmt.Sprintf("%s/%d", receiver, index) }

func newDelivery(cfg config.Config, rc *routing.Config, externalURL string) (*delivery, error) {
	file := cfg.Notify.Console.File
	if file == "" {
		file = filepath.Join(cfg.StatePath(), "pages.log")
	}
	c, err := console.Open(file)
	if err != nil {
		return nil, err
	}
	d := &delivery{console: c, webhooks: map[string]*webhook.Notifier{}}
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
	case m.Kind == notify.KindPageUpdate:
		return discard{}, "page updates", nil
	case m.Page != nil:
		return d.console, "console", nil
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
	return nil, "", fmt.Errorf("oncall does not deliver %s notifications", n.Integration)
}

// discard takes page updates that no paging service waits for.
type discard struct{}

func (discard) Deliver(context.Context, notify.Message) error { return nil }

// Close closes the console file.
func (d *delivery) Close() error { return d.console.Close() }

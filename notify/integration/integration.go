// Package integration delivers group notifications to the integrations of
// an alertmanager.yml that oncall does not implement itself (PagerDuty,
// Slack, email, Opsgenie, Microsoft Teams, Telegram, Discord, Jira, …)
// with Alertmanager's own notifiers: built by its receiver builder,
// rendered with its templates (and the file's own), called with the
// context its dispatcher gives them. A receiver moved over from
// Alertmanager sends the same messages with the same dedup keys.
package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	amnotify "github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
)

// Set holds the integrations of a configuration's receivers.
type Set struct {
	byID map[string]*amnotify.Integration
}

func id(receiver, kind string, index int) string {
	return fmt.Sprintf("%s/%s/%d", receiver, kind, index)
}

// Build makes the integrations of every receiver of am but its webhooks
// (oncall delivers those itself), with the templates am names;
// externalURL is what templates read as .ExternalURL.
func Build(am *amconfig.Config, externalURL string, log *slog.Logger) (*Set, error) {
	tmpl, err := template.FromGlobs(am.Templates)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if externalURL != "" {
		if tmpl.ExternalURL, err = url.Parse(externalURL); err != nil {
			return nil, fmt.Errorf("external URL: %w", err)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Set{byID: map[string]*amnotify.Integration{}}
	var errs []error
	for _, r := range am.Receivers {
		rc := r
		rc.WebhookConfigs = nil
		ints, err := receiver.BuildReceiverIntegrations(rc, tmpl, log.With("receiver", r.Name))
		if err != nil {
			errs = append(errs, fmt.Errorf("receiver %q: %w", r.Name, err))
		}
		for i := range ints {
			in := ints[i]
			s.byID[id(r.Name, in.Name(), in.Index())] = &in
		}
	}
	return s, errors.Join(errs...)
}

// Deliverer returns the deliverer of a receiver's integration (nil if it
// has none such).
func (s *Set) Deliverer(receiver, kind string, index int) notify.Deliverer {
	in := s.byID[id(receiver, kind, index)]
	if in == nil {
		return nil
	}
	return deliverer{in}
}

type deliverer struct{ in *amnotify.Integration }

// Timeout bounds one delivery.
const Timeout = 30 * time.Second

// Deliver sends a notification as Alertmanager's notify stage would: an
// error Alertmanager would retry is retried, any other is final.
func (d deliverer) Deliver(ctx context.Context, m notify.Message) error {
	n := m.Notification
	if n == nil {
		return notify.Permanent(fmt.Errorf("message %s is not a notification", m.Key))
	}
	// Alertmanager's notifiers rely on their caller for a deadline (their
	// HTTP clients have none): a receiver that hangs must not hold up the
	// outbox.
	ctx, cancel := context.WithTimeout(Context(ctx, n), Timeout)
	defer cancel()
	as := Alerts(n.Alerts)
	retry, err := d.in.Notify(ctx, as...)
	switch {
	case err == nil:
		return nil
	case retry:
		return fmt.Errorf("%s: %w", d.in, err)
	}
	return notify.Permanent(fmt.Errorf("%s: %w", d.in, err))
}

// Context carries what Alertmanager's dispatcher gives a notifier: the
// group key (PagerDuty's and Opsgenie's dedup keys come from it), the
// receiver, the group labels, why it notifies and the flush's instant.
func Context(ctx context.Context, n *notify.Notification) context.Context {
	gl := model.LabelSet{}
	n.GroupLabels.Range(func(l labels.Label) { gl[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	ctx = amnotify.WithGroupKey(ctx, n.GroupKey)
	ctx = amnotify.WithReceiverName(ctx, n.Receiver)
	ctx = amnotify.WithGroupLabels(ctx, gl)
	ctx = amnotify.WithNotificationReason(ctx, reason(n.Reason))
	return amnotify.WithNow(ctx, n.At)
}

// reason is Alertmanager's NotifyReason of its words.
func reason(s string) amnotify.NotifyReason {
	for r := amnotify.ReasonFirstNotification; r < amnotify.ReasonUnknown; r++ {
		if r.String() == s {
			return r
		}
	}
	return amnotify.ReasonUnknown
}

// Alerts are the notification's alerts as Alertmanager's notifiers take
// them.
func Alerts(as []alerts.Alert) []*types.Alert {
	out := make([]*types.Alert, len(as))
	for i := range as {
		a := &as[i]
		ls, an := model.LabelSet{}, model.LabelSet{}
		a.Labels.Range(func(l labels.Label) { ls[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		a.Annotations.Range(func(l labels.Label) { an[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		updated := a.UpdatedAt
		if updated.IsZero() {
			updated = time.Now()
		}
		out[i] = &types.Alert{Alert: model.Alert{Labels: ls, Annotations: an, StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL}, UpdatedAt: updated}
	}
	return out
}

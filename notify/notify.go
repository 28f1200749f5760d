// Package notify is the last stage of the pipeline: the durable outbox and
// its relay. Everything oncall sends — a page to a person, a group
// notification to a webhook or the console — is first written to the
// outbox in the same transaction as the state change that caused it, then
// delivered at least once by the relay, which retries with backoff and lets
// a newer notification of a group supersede an undelivered older one.
// Receivers (sub-packages) dedupe by the message key.
package notify

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// ErrNotFound is the error of a message that is not in the outbox.
var ErrNotFound = errors.New("no such message")

// Kind says what a message carries.
type Kind string

// Message kinds.
const (
	KindPage         Kind = "page"
	KindPageUpdate   Kind = "page-update"
	KindNotification Kind = "notification"
)

// Message is one item of the outbox.
type Message struct {
	ID int64 `json:"id"`
	// Key is unique across the life of every store (it begins with the
	// store's identity): receivers use it to deliver exactly once.
	Key  string `json:"key"`
	Kind Kind   `json:"kind"`
	// Supersede, when set, names what the message is the latest state of
	// (an integration and a group): an undelivered older message with the
	// same value is dropped once a newer one exists.
	Supersede    string          `json:"supersede,omitempty"`
	Page         *incidents.Page `json:"page,omitempty"`
	Notification *Notification   `json:"notification,omitempty"`

	CreatedAt     time.Time `json:"createdAt"`
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	SentAt        time.Time `json:"sentAt,omitzero"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"lastError,omitempty"`
	// Superseded is set instead of SentAt when a newer message made this
	// one moot; Failed when the receiver refused it for good (an HTTP 4xx).
	Superseded bool `json:"superseded,omitempty"`
	Failed     bool `json:"failed,omitempty"`
}

// Pending reports whether the message still has to be delivered.
func (m Message) Pending() bool { return m.SentAt.IsZero() && !m.Superseded && !m.Failed }

// Notification is one message about one alert group to one integration of
// a receiver, as Alertmanager sends it.
type Notification struct {
	Receiver    string        `json:"receiver"`
	Integration string        `json:"integration"`
	Index       int           `json:"index"`
	GroupKey    string        `json:"groupKey"`
	GroupLabels labels.Labels `json:"groupLabels"`
	// Alerts are the group's alerts at the flush; the ends of those still
	// firing are cleared.
	Alerts []alerts.Alert `json:"alerts"`
	// At is when the group flushed: alert statuses are read at this instant.
	At time.Time `json:"at"`
	// Reason is why the group is notified, in Alertmanager's words
	// (nflog.Reason).
	Reason string `json:"reason,omitempty"`
}

// Status is "firing" if any alert fires, else "resolved".
func (n *Notification) Status() string {
	for i := range n.Alerts {
		if !n.Alerts[i].ResolvedAt(n.At) {
			return "firing"
		}
	}
	return "resolved"
}

// Pages wraps pages and page updates for the outbox, keyed by their own
// keys.
func Pages(pages []incidents.Page) []Message {
	out := make([]Message, len(pages))
	for i := range pages {
		pg := pages[i]
		kind := KindPage
		if pg.IsUpdate() {
			kind = KindPageUpdate
		}
		out[i] = Message{Key: pg.Key, Kind: kind, Page: &pg, CreatedAt: pg.CreatedAt}
	}
	return out
}

// Clip cuts text to at most max bytes for a receiver with a limit
// (PagerDuty's summary, a Slack section), on a character boundary, and
// ends it with "…" when it cut.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

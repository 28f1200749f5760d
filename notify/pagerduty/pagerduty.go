// Package pagerduty pages people through PagerDuty's Events API v2. A
// page triggers an alert on the PagerDuty service of the person paged
// (their pagerduty_key), so PagerDuty's phone calls, texts and pushes
// wake them; its dedup key is the page's outbox key, so a delivery
// retried after a lost answer is still one alert. The page's updates
// acknowledge and resolve that alert when the incident is acknowledged
// or closed in oncall, and PagerDuty stops notifying.
package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
)

// Limits of the Events API v2.
const (
	maxSummary  = 1024
	maxDedupKey = 255
	timeout     = 15 * time.Second
)

// Notifier delivers pages of the people it has keys for.
type Notifier struct {
	c           *pagerduty.Client
	keys        map[string]string
	externalURL string
}

// New returns a notifier that pages each user of keys (name → integration
// key) at eventsURL ("" for https://events.pagerduty.com); externalURL,
// when set, links each alert to the incident in oncall.
func New(eventsURL string, keys map[string]string, externalURL string) *Notifier {
	var opts []pagerduty.ClientOptions
	if eventsURL != "" {
		opts = append(opts, pagerduty.WithV2EventsAPIEndpoint(strings.TrimSuffix(eventsURL, "/")))
	}
	c := pagerduty.NewClient("", opts...)
	c.HTTPClient = &http.Client{Timeout: timeout}
	return &Notifier{c: c, keys: keys, externalURL: strings.TrimSuffix(externalURL, "/")}
}

// Pages reports whether user is paged through PagerDuty.
func (n *Notifier) Pages(user string) bool { return n.keys[user] != "" }

// Deliver implements notify.Deliverer for pages and page updates.
func (n *Notifier) Deliver(ctx context.Context, m notify.Message) error {
	ev, err := n.Event(m)
	if err != nil {
		return notify.Permanent(err)
	}
	if _, err := n.c.ManageEventWithContext(ctx, ev); err != nil {
		return classify(err)
	}
	return nil
}

// Event is the Events API event of a page or page update.
func (n *Notifier) Event(m notify.Message) (*pagerduty.V2Event, error) {
	pg := m.Page
	if pg == nil {
		return nil, fmt.Errorf("message %s is not a page", m.Key)
	}
	key := n.keys[pg.Target]
	if key == "" {
		return nil, fmt.Errorf("%s has no pagerduty_key", pg.Target)
	}
	ev := &pagerduty.V2Event{RoutingKey: key, DedupKey: DedupKey(m), Client: "oncall"}
	if n.externalURL != "" {
		ev.ClientURL = fmt.Sprintf("%s/api/v1/incidents/%d", n.externalURL, pg.IncidentID)
	}
	switch pg.Kind {
	case incidents.PageAcknowledge, incidents.PageResolve:
		ev.Action = pg.Kind
		return ev, nil
	case incidents.PageTrigger, incidents.PageEscalate, "":
	default:
		return nil, fmt.Errorf("page %s: unknown kind %q", pg.Key, pg.Kind)
	}
	ev.Action = "trigger"
	details := map[string]string{"incident": incidents.Ref(pg.IncidentID), "step": pg.StepName}
	if pg.Body != "" {
		details["details"] = pg.Body
	}
	if pg.RunbookURL != "" {
		details["runbook_url"] = pg.RunbookURL
		ev.Links = append(ev.Links, map[string]string{"href": pg.RunbookURL, "text": "Runbook"})
	}
	if pg.Severity != 0 {
		details["severity"] = pg.Severity.String()
	}
	ev.Payload = &pagerduty.V2Payload{
		Summary: notify.Clip(pg.Subject, maxSummary), Source: "oncall", Severity: Severity(pg.Severity),
		Timestamp: pg.CreatedAt.UTC().Format(time.RFC3339), Class: pg.StepName, Details: details,
	}
	return ev, nil
}

// DedupKey is the PagerDuty alert of a page: its outbox key (unique in
// every store), for an update the key of the page it updates; hashed if
// longer than PagerDuty takes.
func DedupKey(m notify.Message) string {
	k := m.Key
	if pg := m.Page; pg != nil && pg.Of != "" {
		k = strings.TrimSuffix(m.Key, pg.Key) + pg.Of
	}
	if len(k) > maxDedupKey {
		sum := sha256.Sum256([]byte(k))
		k = "oncall-" + hex.EncodeToString(sum[:])
	}
	return k
}

// Severity is PagerDuty's severity of an incident's: SEV1 critical, SEV2
// error, SEV3 warning, SEV4 info; a page without one is critical (it
// asks a person to act now).
func Severity(s incidents.Severity) string {
	switch s {
	case incidents.SEV2:
		return "error"
	case incidents.SEV3:
		return "warning"
	case incidents.SEV4:
		return "info"
	}
	return "critical"
}

// classify makes PagerDuty's refusals permanent: a 4xx other than 408
// and 429 is an event that retrying cannot fix (a bad key, a bad field).
// The deliverer's name ("pagerduty") is the fan-out's to add.
func classify(err error) error {
	var api pagerduty.APIError
	if errors.As(err, &api) {
		code := api.StatusCode
		if code >= 400 && code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout {
			return notify.Permanent(fmt.Errorf("event refused (HTTP %d): %w", code, err))
		}
		return fmt.Errorf("HTTP %d: %w", code, err)
	}
	return err
}

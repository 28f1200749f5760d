package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/oncallhq/oncall/alerts"
)

// Alarm is what one flush of an alert group tells an incident receiver.
type Alarm struct {
	Receiver string
	GroupKey string
	// Firing are the group's firing alerts after silences and inhibition;
	// none means every alert of the group resolved.
	Firing []alerts.Alert
}

// Key identifies the incident of the alarm's group at its receiver.
func (a Alarm) Key() string { return a.Receiver + " " + a.GroupKey }

// Tx is what the incident lifecycle needs from a store transaction.
type Tx interface {
	// Incident returns the incident with the id (ErrNotFound if none).
	Incident(ctx context.Context, id int64) (Incident, error)
	// OpenIncident returns the open incident with the key, if any.
	OpenIncident(ctx context.Context, key string) (Incident, bool, error)
	// CreateIncident stores a new incident and sets its ID.
	CreateIncident(ctx context.Context, inc *Incident) error
	UpdateIncident(ctx context.Context, inc Incident) error
}

// Receive applies an alarm at now: the first firing notification of a
// group opens an incident and pages the first step of policy; later ones
// are noted on the open incident (one problem, one page); when every alert
// resolved, a triggered incident resolves and an acknowledged one is left
// to its owner with a note. It returns the incident it changed (nil if
// none) and the pages to send.
func Receive(ctx context.Context, tx Tx, d Directory, policy string, a Alarm, now time.Time) (*Incident, []Page, error) {
	inc, open, err := tx.OpenIncident(ctx, a.Key())
	if err != nil {
		return nil, nil, err
	}
	if len(a.Firing) == 0 {
		if !open {
			return nil, nil, nil
		}
		if inc.Status == StatusTriggered {
			inc.Resolve("oncall", "every alert of the group resolved", now)
		} else {
			inc.Note(now, "alerts", "every alert of the group resolved; resolve the incident when done")
		}
		inc.AlertsFiring = 0
		return &inc, nil, tx.UpdateIncident(ctx, inc)
	}
	if open {
		if n := len(a.Firing); n != inc.AlertsFiring {
			inc.Note(now, "alerts", fmt.Sprintf("%d alerts firing: %s", n, names(a.Firing)))
			inc.AlertsFiring = n
		}
		return &inc, nil, tx.UpdateIncident(ctx, inc)
	}
	inc = fromAlerts(a, now)
	if err := tx.CreateIncident(ctx, &inc); err != nil {
		return nil, nil, err
	}
	pages, err := inc.Start(d, policy, now)
	if err != nil {
		inc.Note(now, "error", err.Error())
	}
	return &inc, pages, tx.UpdateIncident(ctx, inc)
}

func names(as []alerts.Alert) string {
	seen := map[string]bool{}
	var out []string
	for i := range as {
		if n := as[i].Name(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// fromAlerts is a new incident described by its group's firing alerts.
func fromAlerts(a Alarm, now time.Time) Incident {
	inc := Incident{Key: a.Key(), OpenedAt: now, Status: StatusTriggered, AlertsFiring: len(a.Firing)}
	for i := range a.Firing {
		al := &a.Firing[i]
		if inc.Title == "" {
			inc.Title = al.Summary()
			inc.Summary = al.Annotations.Get("description")
			inc.Service = al.Labels.Get("service")
			inc.Severity = al.Severity()
		} else {
			inc.Summary += "\nalso: " + al.Summary()
		}
		if inc.RunbookURL == "" {
			inc.RunbookURL = al.Annotations.Get("runbook_url")
		}
	}
	if inc.Title == "" {
		inc.Title = a.GroupKey
	}
	inc.Summary = strings.TrimPrefix(inc.Summary, "\n")
	return inc
}

// Store is what acting on incidents needs from the store.
type Store interface {
	Incident(ctx context.Context, id int64) (Incident, error)
	// UpdateIncidents runs f in one transaction.
	UpdateIncidents(ctx context.Context, f func(Tx) error) error
}

// Acknowledge records in st that by owns incident id; its escalation stops.
func Acknowledge(ctx context.Context, st Store, id int64, by string, now time.Time) (Incident, error) {
	return act(ctx, st, id, func(inc *Incident) error { return inc.Acknowledge(by, now) })
}

// Resolve closes incident id in st.
func Resolve(ctx context.Context, st Store, id int64, by, why string, now time.Time) (Incident, error) {
	return act(ctx, st, id, func(inc *Incident) error { return inc.Resolve(by, why, now) })
}

func act(ctx context.Context, st Store, id int64, f func(*Incident) error) (Incident, error) {
	var out Incident
	err := st.UpdateIncidents(ctx, func(tx Tx) error {
		inc, err := tx.Incident(ctx, id)
		if err != nil {
			return err
		}
		if err := f(&inc); err != nil {
			return err
		}
		out = inc
		return tx.UpdateIncident(ctx, inc)
	})
	return out, err
}

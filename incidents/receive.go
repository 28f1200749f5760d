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
	// Severity, when set, is the severity of an incident the alarm opens;
	// otherwise the first alert's severity label decides.
	Severity Severity
}

// Key identifies the incident of the alarm's group at its receiver.
func (a Alarm) Key() string { return a.Receiver + " " + a.GroupKey }

// Tx is what the incident lifecycle needs from a store transaction.
type Tx interface {
	// Incident returns the incident with the id (ErrNotFound if none).
	Incident(ctx context.Context, id int64) (Incident, error)
	// OpenIncident returns the open incident the key (an alert group)
	// attaches to, by its Key or one of its Links, if any.
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
// none) and the pages to send (updates of earlier pages too).
func Receive(ctx context.Context, tx Tx, s Settings, policy string, a Alarm, now time.Time) (*Incident, []Page, error) {
	inc, open, err := tx.OpenIncident(ctx, a.Key())
	if err != nil {
		return nil, nil, err
	}
	if !open && len(a.Firing) == 0 {
		return nil, nil, nil
	}
	if open {
		before := inc.AlertsFiring
		inc.setFiring(a.Key(), len(a.Firing))
		switch {
		case len(a.Firing) > 0 && inc.AlertsFiring != before:
			inc.Note(now, "alerts", fmt.Sprintf("%d alerts firing: %s", inc.AlertsFiring, names(a.Firing)))
		case len(a.Firing) > 0:
		case inc.AlertsFiring == 0 && inc.Status == StatusTriggered && inc.DeclaredBy == "":
			inc.Resolve(Actor{Source: "alerts"}, "every alert of the group resolved", now)
		case inc.AlertsFiring == 0:
			inc.Note(now, "alerts", "every alert of the group resolved; resolve the incident when done")
		default:
			inc.Note(now, "alerts", fmt.Sprintf("every alert of %s resolved; %d still firing", groupName(a), inc.AlertsFiring))
		}
		return &inc, inc.Settle(), tx.UpdateIncident(ctx, inc)
	}
	inc = fromAlerts(a, s.Severities, now)
	if err := tx.CreateIncident(ctx, &inc); err != nil {
		return nil, nil, err
	}
	inc.event(now, "opened", inc.Title, Actor{Source: "alerts"})
	pages, err := inc.Start(s, policy, now)
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
func fromAlerts(a Alarm, sev Severities, now time.Time) Incident {
	inc := Incident{Key: a.Key(), OpenedAt: now, Status: StatusTriggered, Severity: a.Severity}
	inc.setFiring(a.Key(), len(a.Firing))
	for i := range a.Firing {
		al := &a.Firing[i]
		if inc.Title == "" {
			inc.Title = al.Summary()
			inc.Summary = al.Annotations.Get("description")
			inc.Service = al.Labels.Get("service")
			inc.AlertSeverity = al.Severity()
			if inc.Severity == 0 {
				inc.Severity = sev.ForAlert(inc.AlertSeverity)
			}
		} else {
			inc.Summary += "\nalso: " + al.Summary()
		}
		if inc.RunbookURL == "" {
			inc.RunbookURL = al.Annotations.Get("runbook_url")
		}
		if inc.QueryURL == "" {
			inc.QueryURL = al.GeneratorURL
		}
		if !al.StartsAt.IsZero() && (inc.FiringSince.IsZero() || al.StartsAt.Before(inc.FiringSince)) {
			inc.FiringSince = al.StartsAt
		}
	}
	if inc.Title == "" {
		inc.Title = a.GroupKey
	}
	inc.Summary = strings.TrimPrefix(inc.Summary, "\n")
	return inc
}

// Preview is the incident an alarm would open and the pages it would send
// at now under policy, as Receive makes them, without a store: what
// `oncall alerts preview` shows. The incident has no id yet (INC-0).
func Preview(s Settings, policy string, a Alarm, now time.Time) (Incident, []Page, error) {
	inc := fromAlerts(a, s.Severities, now)
	inc.event(now, "opened", inc.Title, Actor{Source: "alerts"})
	pages, err := inc.Start(s, policy, now)
	return inc, pages, err
}

// groupName is the alarm's group in words.
func groupName(a Alarm) string {
	return fmt.Sprintf("group %s at %s", a.GroupKey, a.Receiver)
}

// setFiring records how many alerts of the group key fire, and the sum
// over every group linked.
func (i *Incident) setFiring(key string, n int) {
	if i.GroupFiring == nil {
		i.GroupFiring = map[string]int{}
		if i.AlertsFiring > 0 && i.Key != "" {
			i.GroupFiring[i.Key] = i.AlertsFiring // stored before groups were counted apart
		}
	}
	if n == 0 {
		delete(i.GroupFiring, key)
	} else {
		i.GroupFiring[key] = n
	}
	i.AlertsFiring = 0
	for _, v := range i.GroupFiring {
		i.AlertsFiring += v
	}
}

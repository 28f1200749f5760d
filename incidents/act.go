package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Store is what acting on incidents needs: one transaction that reads
// and writes incidents and queues the pages f returns, all or nothing.
type Store interface {
	UpdateIncidents(ctx context.Context, f func(Tx) ([]Page, error)) error
}

// Act runs f on incident id in one transaction of st and stores the
// result with the pages f returns. An error from f changes nothing.
func Act(ctx context.Context, st Store, id int64, f func(*Incident) ([]Page, error)) (Incident, error) {
	var out Incident
	err := st.UpdateIncidents(ctx, func(tx Tx) ([]Page, error) {
		inc, err := tx.Incident(ctx, id)
		if err != nil {
			return nil, err
		}
		pages, err := f(&inc)
		if err != nil {
			return nil, err
		}
		out = inc
		return append(pages, inc.Settle()...), tx.UpdateIncident(ctx, inc)
	})
	return out, err
}

// Acknowledge records in st that by owns incident id.
func Acknowledge(ctx context.Context, st Store, s Settings, id int64, by Actor, now time.Time) (Incident, error) {
	return Act(ctx, st, id, func(inc *Incident) ([]Page, error) { return nil, inc.Acknowledge(s, by, now) })
}

// Resolve closes incident id in st.
func Resolve(ctx context.Context, st Store, id int64, by Actor, why string, now time.Time) (Incident, error) {
	return Act(ctx, st, id, func(inc *Incident) ([]Page, error) { return nil, inc.Resolve(by, why, now) })
}

// Declaration is an incident declared by hand.
type Declaration struct {
	Title      string
	Summary    string
	Severity   Severity
	Service    string
	RunbookURL string
	// Policy, when set, is paged at once (the service's, usually).
	Policy string
	Drill  bool
	// Commander, when set, is the incident commander from the start.
	Commander string
	By        Actor
}

// Declare opens an incident that no alert opened, in st, and pages its
// policy if it has one.
func Declare(ctx context.Context, st Store, s Settings, d Declaration, now time.Time) (Incident, error) {
	if strings.TrimSpace(d.Title) == "" {
		return Incident{}, fmt.Errorf("declare: the title is empty: %w", ErrInvalid)
	}
	if d.Severity == 0 {
		d.Severity = SEV3
	}
	if d.Severity.String() == "" {
		return Incident{}, fmt.Errorf("declare: severity %d is not SEV1 to SEV4: %w", d.Severity, ErrInvalid)
	}
	if d.Policy != "" {
		if _, err := s.People.Freeze(d.Policy); err != nil {
			return Incident{}, fmt.Errorf("declare: %v: %w", err, ErrInvalid)
		}
	}
	inc := Incident{Title: d.Title, Summary: d.Summary, Severity: d.Severity, Service: d.Service, RunbookURL: d.RunbookURL, Drill: d.Drill,
		DeclaredBy: d.By.orOncall(), Status: StatusTriggered, OpenedAt: now}
	err := st.UpdateIncidents(ctx, func(tx Tx) ([]Page, error) {
		if err := tx.CreateIncident(ctx, &inc); err != nil {
			return nil, err
		}
		what := "declared"
		if d.Drill {
			what = "drill declared"
		}
		text := fmt.Sprintf("%s by %s: %s (%s)", what, inc.DeclaredBy, d.Title, d.Severity)
		inc.event(now, "opened", text, d.By)
		if d.Commander != "" {
			if err := inc.Assign(RoleCommander, d.Commander, d.By, now); err != nil {
				return nil, err
			}
		}
		var pages []Page
		if d.Policy != "" {
			var err error
			if pages, err = inc.Start(s, d.Policy, now); err != nil {
				return nil, err
			}
		}
		return pages, tx.UpdateIncident(ctx, inc)
	})
	return inc, err
}

// Merge folds incident src into incident into, in one transaction.
func Merge(ctx context.Context, st Store, src, into int64, by Actor, now time.Time) (Incident, error) {
	var out Incident
	err := st.UpdateIncidents(ctx, func(tx Tx) ([]Page, error) {
		s, err := tx.Incident(ctx, src)
		if err != nil {
			return nil, err
		}
		dst, err := tx.Incident(ctx, into)
		if err != nil {
			return nil, err
		}
		if err := dst.MergeInto(&s, by, now); err != nil {
			return nil, err
		}
		pages := s.Settle()
		if err := tx.UpdateIncident(ctx, s); err != nil {
			return nil, err
		}
		out = dst
		return pages, tx.UpdateIncident(ctx, dst)
	})
	return out, err
}

package sqlite

// Incidents: the rows, the index of the alert groups that attach to each
// (incident_keys) and of when each escalates next.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/store"
)

func (q queries) Incident(ctx context.Context, id int64) (incidents.Incident, error) {
	var out []incidents.Incident
	if err := queryJSON(ctx, q.db, &out, `SELECT body FROM incidents WHERE id = ?`, id); err != nil {
		return incidents.Incident{}, err
	}
	if len(out) == 0 {
		return incidents.Incident{}, fmt.Errorf("incident %d: %w", id, incidents.ErrNotFound)
	}
	return out[0], nil
}

func (q queries) OpenIncident(ctx context.Context, key string) (incidents.Incident, bool, error) {
	var out []incidents.Incident
	err := queryJSON(ctx, q.db, &out, `SELECT i.body FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
		WHERE k.key = ? AND i.status != 'resolved' ORDER BY i.id DESC LIMIT 1`, key)
	if err != nil || len(out) == 0 {
		return incidents.Incident{}, false, err
	}
	return out[0], true, nil
}

func (q queries) Incidents(ctx context.Context, f store.IncidentFilter) ([]incidents.Incident, error) {
	qs := `SELECT body FROM incidents WHERE 1`
	var args []any
	if f.OpenOnly {
		qs += ` AND status != 'resolved'`
	}
	if !f.Since.IsZero() {
		qs += ` AND (status != 'resolved' OR resolved_at >= ? OR resolved_at IS NULL)`
		args = append(args, f.Since.UnixMilli())
	}
	qs += ` ORDER BY id DESC LIMIT ?`
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	var out []incidents.Incident
	return out, queryJSON(ctx, q.db, &out, qs, append(args, limit)...)
}

func (q queries) DueEscalations(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id FROM incidents WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, id`, now.UnixMilli())
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err)
		}
		out = append(out, id)
	}
	return out, wrap(rows.Err())
}

func (q queries) NextEscalation(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT min(next_at) FROM incidents WHERE next_at IS NOT NULL`).Scan(&v)
	return fromMS(v), wrap(err)
}

func (q queries) CreateIncident(ctx context.Context, inc *incidents.Incident) error {
	if _, ok := q.db.(*sql.DB); ok {
		return q.atomic(ctx, func(q queries) error { return q.CreateIncident(ctx, inc) })
	}
	if err := q.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM incidents`).Scan(&inc.ID); err != nil {
		return wrap(err)
	}
	b, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	if _, err = q.db.ExecContext(ctx, `INSERT INTO incidents(id, key, status, opened_at, next_at, resolved_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inc.ID, inc.Key, inc.Status.String(), inc.OpenedAt.UnixMilli(), nextAt(*inc), resolvedAt(*inc), string(b)); err != nil {
		return wrap(err)
	}
	if err := q.linkChannel(ctx, *inc, ""); err != nil {
		return err
	}
	return q.linkKeys(ctx, *inc)
}

// linkKeys records the alert groups that attach to the incident.
func (q queries) linkKeys(ctx context.Context, inc incidents.Incident) error {
	for _, k := range inc.Keys() {
		if _, err := q.db.ExecContext(ctx, `INSERT OR IGNORE INTO incident_keys(key, incident_id) VALUES (?, ?)`, k, inc.ID); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// resolvedAt is when a resolved incident was resolved, for the index.
func resolvedAt(inc incidents.Incident) any {
	if inc.Status != incidents.StatusResolved {
		return nil
	}
	return ms(inc.ResolvedAt)
}

// nextAt is when the incident's escalation is next due, for the index:
// an open incident's next step or acknowledgement expiry.
func nextAt(inc incidents.Incident) any {
	if inc.Status != incidents.StatusTriggered && inc.Status != incidents.StatusAcknowledged || inc.Escalation.NextAt.IsZero() {
		return nil
	}
	// Rounded up to the millisecond: a timer read back as due must be due
	// to the nanosecond, or the loop would wake, find nothing to do and
	// wake again at once.
	return (inc.Escalation.NextAt.UnixNano() + 999_999) / 1_000_000
}

func (q queries) UpdateIncident(ctx context.Context, inc incidents.Incident) error {
	if _, ok := q.db.(*sql.DB); ok {
		return q.atomic(ctx, func(q queries) error { return q.UpdateIncident(ctx, inc) })
	}
	b, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	var was string
	if err := q.db.QueryRowContext(ctx, `SELECT coalesce(json_extract(body, '$.channel'), '') FROM incidents WHERE id = ?`, inc.ID).Scan(&was); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incident %d: %w", inc.ID, incidents.ErrNotFound)
		}
		return wrap(err)
	}
	if _, err := q.db.ExecContext(ctx, `UPDATE incidents SET key = ?, status = ?, next_at = ?, resolved_at = ?, body = ? WHERE id = ?`,
		inc.Key, inc.Status.String(), nextAt(inc), resolvedAt(inc), string(b), inc.ID); err != nil {
		return wrap(err)
	}
	if err := q.linkChannel(ctx, inc, was); err != nil {
		return err
	}
	return q.linkKeys(ctx, inc)
}

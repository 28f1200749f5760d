package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/store"
)

// AddChecklistRun stores a run and sets its ID (the row's, kept out of
// the JSON body).
func (q queries) AddChecklistRun(ctx context.Context, run *checklist.Run) error {
	r := *run
	r.ID = 0
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	res, err := q.db.ExecContext(ctx, `INSERT INTO checklist_runs(checklist, service, at, body) VALUES (?, ?, ?, ?)`,
		run.Checklist, run.Service, run.At.UnixMilli(), string(b))
	if err != nil {
		return wrap(err)
	}
	run.ID, err = res.LastInsertId()
	return wrap(err)
}

// ChecklistRuns lists runs newest first.
func (q queries) ChecklistRuns(ctx context.Context, f store.ChecklistRunFilter) ([]checklist.Run, error) {
	where, args := checklistWhere(f.Checklist, f.Service)
	query := `SELECT id, body FROM checklist_runs` + where + ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var out []checklist.Run
	err := queryRows(ctx, q.db, query, args, func(id int64, r *checklist.Run) { r.ID = id; out = append(out, *r) })
	return out, err
}

// AddChecklistRecord stores a record and sets its ID.
func (q queries) AddChecklistRecord(ctx context.Context, rec *checklist.Record) error {
	r := *rec
	r.ID = 0
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	res, err := q.db.ExecContext(ctx, `INSERT INTO checklist_records(kind, checklist, check_id, service, at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(rec.Kind), rec.Checklist, rec.Check, rec.Service, rec.At.UnixMilli(), rec.Expires.UnixMilli(), string(b))
	if err != nil {
		return wrap(err)
	}
	rec.ID, err = res.LastInsertId()
	return wrap(err)
}

// ChecklistRecords lists records oldest first.
func (q queries) ChecklistRecords(ctx context.Context, f store.ChecklistRecordFilter) ([]checklist.Record, error) {
	where, args := checklistWhere(f.Checklist, f.Service)
	var conds []string
	if where != "" {
		conds = append(conds, strings.TrimPrefix(where, " WHERE "))
	}
	if f.Kind != "" {
		conds = append(conds, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if !f.CurrentAt.IsZero() {
		conds = append(conds, "at <= ? AND expires_at > ?")
		args = append(args, f.CurrentAt.UnixMilli(), f.CurrentAt.UnixMilli())
	}
	query := `SELECT id, body FROM checklist_records`
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	var out []checklist.Record
	err := queryRows(ctx, q.db, query+` ORDER BY id`, args, func(id int64, r *checklist.Record) { r.ID = id; out = append(out, *r) })
	return out, err
}

// checklistWhere selects by checklist and service when they are set.
func checklistWhere(cl, service string) (string, []any) {
	var conds []string
	var args []any
	if cl != "" {
		conds = append(conds, "checklist = ?")
		args = append(args, cl)
	}
	if service != "" {
		conds = append(conds, "service = ?")
		args = append(args, service)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// queryRows decodes rows of (id, JSON body).
func queryRows[T any](ctx context.Context, db conn, q string, args []any, add func(int64, *T)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return wrap(err)
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return fmt.Errorf("store: decode: %w", err)
		}
		add(id, &v)
	}
	return wrap(rows.Err())
}

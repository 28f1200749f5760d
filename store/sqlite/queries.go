package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/routing/nflog"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/store"
)

// conn is what queries run on: the database or a transaction.
type conn interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
}

// queries implements store.Reader and store.Writer on a conn.
type queries struct {
	db       conn
	identity string
}

var _ store.Tx = queries{}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func fpKey(fp uint64) string { return alerts.FingerprintString(fp) }

func (q queries) Alerts(ctx context.Context) ([]alerts.Alert, error) {
	var out []alerts.Alert
	if err := queryJSON(ctx, q.db, &out, `SELECT body FROM alerts ORDER BY fp`); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Status = alerts.Status{} // computed when listed, never stored
	}
	return out, nil
}

// alertRows is how many alerts one INSERT writes: fewer statements, far
// less per-row overhead.
const alertRows = 100

func (q queries) AlertsWrittenSince(ctx context.Context, since time.Time, notBy string) ([]alerts.Alert, time.Time, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT body, written_at FROM alerts WHERE written_at > ? AND writer != ? ORDER BY written_at`, since.UnixMilli(), notBy)
	if err != nil {
		return nil, time.Time{}, wrap(err)
	}
	defer rows.Close()
	var out []alerts.Alert
	var newest int64
	for rows.Next() {
		var body string
		var at int64
		if err := rows.Scan(&body, &at); err != nil {
			return nil, time.Time{}, wrap(err)
		}
		var a alerts.Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, time.Time{}, fmt.Errorf("stored alert: %w", err)
		}
		a.Status = alerts.Status{}
		out = append(out, a)
		newest = max(newest, at)
	}
	if newest == 0 {
		return out, time.Time{}, wrap(rows.Err())
	}
	return out, time.UnixMilli(newest).UTC(), wrap(rows.Err())
}

func (q queries) PutAlerts(ctx context.Context, writer string, as []alerts.Alert) error {
	if _, ok := q.db.(*sql.DB); ok && len(as) > 0 {
		return q.atomic(ctx, func(q queries) error { return q.PutAlerts(ctx, writer, as) })
	}
	now := time.Now().UnixMilli()
	// In fingerprint order, consecutive rows land on the same pages.
	type row struct {
		fp int64
		a  *alerts.Alert
	}
	rows := make([]row, len(as))
	for i := range as {
		rows[i] = row{int64(as[i].Fingerprint()), &as[i]}
	}
	slices.SortFunc(rows, func(x, y row) int { return cmp.Compare(x.fp, y.fp) })
	var buf []byte
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, 4*alertRows)
	for len(rows) > 0 {
		n := min(len(rows), alertRows)
		st := stmts[n]
		if st == nil {
			var err error
			st, err = q.db.PrepareContext(ctx, `INSERT INTO alerts(fp, body, written_at, writer) VALUES (?, ?, ?, ?)`+strings.Repeat(`, (?, ?, ?, ?)`, n-1)+
				` ON CONFLICT(fp) DO UPDATE SET body = excluded.body, written_at = excluded.written_at, writer = excluded.writer`)
			if err != nil {
				return wrap(err)
			}
			stmts[n] = st
		}
		args = args[:0]
		for _, r := range rows[:n] {
			a := *r.a
			a.Status = alerts.Status{}
			buf = a.AppendJSON(buf[:0])
			args = append(args, r.fp, string(buf), now, writer)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return wrap(err)
		}
		rows = rows[n:]
	}
	return nil
}

func (q queries) AppendHistory(ctx context.Context, ts []alerts.Transition) error {
	return q.batch(ctx, `INSERT INTO alert_history(at, name, body) VALUES (?, ?, ?)`, len(ts), func(i int) ([]any, error) {
		b, err := json.Marshal(ts[i])
		return []any{ts[i].At.UnixMilli(), ts[i].Name(), string(b)}, err
	})
}

func (q queries) ExpireHistory(ctx context.Context, before time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM alert_history WHERE at < ?`, before.UnixMilli())
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (q queries) History(ctx context.Context, f store.HistoryFilter) ([]alerts.Transition, error) {
	qs := `SELECT body FROM alert_history WHERE 1`
	var args []any
	if !f.Since.IsZero() {
		qs += ` AND at >= ?`
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		qs += ` AND at <= ?`
		args = append(args, f.Until.UnixMilli())
	}
	if f.Name != "" {
		qs += ` AND name = ?`
		args = append(args, f.Name)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	qs += ` ORDER BY at DESC, id DESC LIMIT ?`
	var out []alerts.Transition
	if err := queryJSON(ctx, q.db, &out, qs, append(args, limit)...); err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

func (q queries) DeleteAlerts(ctx context.Context, fps []uint64) error {
	return q.batch(ctx, `DELETE FROM alerts WHERE fp = ?`, len(fps), func(i int) ([]any, error) { return []any{int64(fps[i])}, nil })
}

func (q queries) RuleAlerts(ctx context.Context) ([]alerts.RuleAlert, error) {
	var out []alerts.RuleAlert
	return out, queryJSON(ctx, q.db, &out, `SELECT body FROM rule_alerts ORDER BY fp`)
}

func (q queries) ReplaceRuleAlerts(ctx context.Context, as []alerts.RuleAlert) error {
	if _, ok := q.db.(*sql.DB); ok {
		return q.atomic(ctx, func(q queries) error { return q.ReplaceRuleAlerts(ctx, as) })
	}
	if _, err := q.db.ExecContext(ctx, `DELETE FROM rule_alerts`); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return q.batch(ctx, `INSERT INTO rule_alerts(fp, body) VALUES (?, ?) ON CONFLICT(fp) DO UPDATE SET body = excluded.body`, len(as), func(i int) ([]any, error) {
		b, err := json.Marshal(as[i])
		return []any{fpKey(as[i].Fingerprint()), string(b)}, err
	})
}

func (q queries) Groups(ctx context.Context) ([]dispatch.GroupState, error) {
	var out []dispatch.GroupState
	return out, queryJSON(ctx, q.db, &out, `SELECT body FROM alert_groups ORDER BY id`)
}

func (q queries) PutGroups(ctx context.Context, gs []dispatch.GroupState) error {
	return q.batch(ctx, `INSERT INTO alert_groups(id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body`, len(gs), func(i int) ([]any, error) {
		b, err := json.Marshal(gs[i])
		return []any{gs[i].ID, string(b)}, err
	})
}

func (q queries) DeleteGroups(ctx context.Context, ids []string) error {
	return q.batch(ctx, `DELETE FROM alert_groups WHERE id = ?`, len(ids), func(i int) ([]any, error) { return []any{ids[i]}, nil })
}

func nflogKey(k nflog.Key) string {
	b, _ := json.Marshal(k)
	return string(b)
}

func (q queries) NotificationLog(ctx context.Context) ([]nflog.Entry, error) {
	var out []nflog.Entry
	return out, queryJSON(ctx, q.db, &out, `SELECT body FROM nflog ORDER BY key`)
}

func (q queries) PutNotificationLog(ctx context.Context, es []nflog.Entry) error {
	return q.batch(ctx, `INSERT INTO nflog(key, expires_at, body) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at, body = excluded.body`, len(es), func(i int) ([]any, error) {
		b, err := json.Marshal(es[i])
		return []any{nflogKey(es[i].Key), es[i].ExpiresAt.UnixMilli(), string(b)}, err
	})
}

func (q queries) ExpireNotificationLog(ctx context.Context, now time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM nflog WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (q queries) Silence(ctx context.Context, id string) (silence.Silence, error) {
	var out []silence.Silence
	if err := queryJSON(ctx, q.db, &out, `SELECT body FROM silences WHERE id = ?`, id); err != nil {
		return silence.Silence{}, err
	}
	if len(out) == 0 {
		return silence.Silence{}, fmt.Errorf("silence %q: %w", id, silence.ErrNotFound)
	}
	return out[0], nil
}

func (q queries) Silences(ctx context.Context) ([]silence.Silence, error) {
	var out []silence.Silence
	return out, queryJSON(ctx, q.db, &out, `SELECT body FROM silences ORDER BY id`)
}

func (q queries) PutSilence(ctx context.Context, s silence.Silence) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO silences(id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body`, s.ID, string(b))
	return wrap(err)
}

func (q queries) DeleteSilences(ctx context.Context, ids []string) error {
	return q.batch(ctx, `DELETE FROM silences WHERE id = ?`, len(ids), func(i int) ([]any, error) { return []any{ids[i]}, nil })
}

// attemptMS is when a message is due, in ms; 0 for at once.
func attemptMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (q queries) Enqueue(ctx context.Context, msgs []notify.Message) error {
	if _, ok := q.db.(*sql.DB); ok {
		return q.atomic(ctx, func(q queries) error { return q.Enqueue(ctx, msgs) })
	}
	stmt, err := q.db.PrepareContext(ctx, `INSERT INTO messages(key, kind, created_at, pending, next_attempt_at, body) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return wrap(err)
	}
	defer stmt.Close()
	for i := range msgs {
		m := &msgs[i]
		if !strings.HasPrefix(m.Key, q.identity+"/") {
			m.Key = q.identity + "/" + m.Key
		}
		m.ID = 0
		b, err := m.AppendJSON(nil)
		if err != nil {
			return err
		}
		res, err := stmt.ExecContext(ctx, m.Key, string(m.Kind), m.CreatedAt.UnixMilli(), m.Pending(), attemptMS(m.NextAttemptAt), string(b))
		if err != nil {
			return fmt.Errorf("store: enqueue %s: %w", m.Key, err)
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func (q queries) MarkMessages(ctx context.Context, msgs []notify.Message) error {
	return q.batch(ctx, `UPDATE messages SET pending = ?, next_attempt_at = ?, body = ? WHERE id = ?`, len(msgs), func(i int) ([]any, error) {
		m := msgs[i]
		id := m.ID
		m.ID = 0
		b, err := m.AppendJSON(nil)
		return []any{m.Pending(), attemptMS(m.NextAttemptAt), string(b), id}, err
	})
}

func (q queries) messages(ctx context.Context, qs string, args ...any) ([]notify.Message, error) {
	rows, err := q.db.QueryContext(ctx, qs, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, wrap(err)
		}
		var m notify.Message
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return nil, fmt.Errorf("store: message %d: %w", id, err)
		}
		m.ID = id
		out = append(out, m)
	}
	return out, wrap(rows.Err())
}

func (q queries) PendingMessages(ctx context.Context, now time.Time, limit int) ([]notify.Message, error) {
	return q.messages(ctx, `SELECT id, body FROM messages WHERE pending = 1 AND next_attempt_at <= ? ORDER BY id LIMIT ?`, now.UnixMilli(), limit)
}

func (q queries) NextAttempt(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM messages WHERE pending = 1`).Scan(&v)
	if v.Valid && v.Int64 == 0 {
		return time.UnixMilli(0).UTC(), wrap(err)
	}
	return fromMS(v), wrap(err)
}

func (q queries) Messages(ctx context.Context, f store.MessageFilter) ([]notify.Message, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	if f.Kind == "" {
		return q.messages(ctx, `SELECT id, body FROM messages ORDER BY id DESC LIMIT ?`, limit)
	}
	return q.messages(ctx, `SELECT id, body FROM messages WHERE kind = ? ORDER BY id DESC LIMIT ?`, string(f.Kind), limit)
}

func (q queries) Message(ctx context.Context, key string) (notify.Message, error) {
	ms, err := q.messages(ctx, `SELECT id, body FROM messages WHERE key = ?`, key)
	if err != nil {
		return notify.Message{}, err
	}
	if len(ms) == 0 {
		return notify.Message{}, fmt.Errorf("message %q: %w", key, notify.ErrNotFound)
	}
	return ms[0], nil
}

func (q queries) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `INSERT INTO leases(name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.holder = excluded.holder OR leases.until <= ?`, name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, wrap(err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err)
}

func (q queries) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM messages WHERE pending = 1`).Scan(&n, &oldest)
	return n, fromMS(oldest), wrap(err)
}

func (q queries) Lease(ctx context.Context, name string) (string, time.Time, error) {
	var holder string
	var until sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT holder, until FROM leases WHERE name = ?`, name).Scan(&holder, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return holder, fromMS(until), wrap(err)
}

func (q queries) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return wrap(err)
}

// atomic runs f in a transaction: the caller's, or a new one.
func (q queries) atomic(ctx context.Context, f func(queries) error) error {
	db, ok := q.db.(*sql.DB)
	if !ok {
		return f(q)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback()
	if err := f(queries{db: tx, identity: q.identity}); err != nil {
		return err
	}
	return wrap(tx.Commit())
}

// batch runs one prepared statement n times with args(i), atomically.
func (q queries) batch(ctx context.Context, stmt string, n int, args func(i int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	if _, ok := q.db.(*sql.DB); ok {
		return q.atomic(ctx, func(q queries) error { return q.batch(ctx, stmt, n, args) })
	}
	st, err := q.db.PrepareContext(ctx, stmt)
	if err != nil {
		return wrap(err)
	}
	defer st.Close()
	for i := range n {
		a, err := args(i)
		if err != nil {
			return fmt.Errorf("store: encode: %w", err)
		}
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func queryJSON[T any](ctx context.Context, db conn, out *[]T, q string, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return wrap(err)
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return fmt.Errorf("store: decode: %w", err)
		}
		*out = append(*out, v)
	}
	return wrap(rows.Err())
}

func wrap(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("store: %w", err)
}

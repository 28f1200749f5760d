// Package store persists oncall's state — alert states, alert groups,
// incidents and the page outbox — so that nothing is forgotten across a
// restart. SQLite (pure Go, no cgo) is the embedded default.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
)

// SQLite is a store in one SQLite file. One process writes it at a time.
type SQLite struct {
	db   *sql.DB
	path string
}

// Snapshot is everything the engine needs to resume after a restart.
type Snapshot struct {
	Alerts    []alerts.RuleAlert
	Groups    []alerts.GroupState
	Incidents []incidents.Incident // open ones
	// MaxIncidentID is the highest incident ID ever used.
	MaxIncidentID int64
}

// Change is one atomic write: state snapshots plus what changed because of
// them. Pages are written in the same transaction as the incident updates
// that caused them (a transactional outbox), so a crash never loses a page nor
// sends one whose incident was not saved.
type Change struct {
	// Alerts and Groups, when non-nil, replace the stored snapshots.
	Alerts    []alerts.RuleAlert
	Groups    []alerts.GroupState
	Incidents []incidents.Incident
	Pages     []incidents.Page
}

var migrations = []string{
	`CREATE TABLE alerts (fp TEXT PRIMARY KEY, body TEXT NOT NULL);
	 CREATE TABLE alert_groups (key TEXT PRIMARY KEY, body TEXT NOT NULL);
	 CREATE TABLE incidents (id INTEGER PRIMARY KEY, key TEXT NOT NULL, status TEXT NOT NULL, opened_at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX incidents_open ON incidents(status, key);
	 CREATE TABLE pages (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, incident_id INTEGER NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER, body TEXT NOT NULL);
	 CREATE INDEX pages_pending ON pages(sent_at);`,
}

// OpenSQLite opens (creating if needed) the store at path and migrates it.
func OpenSQLite(path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &SQLite{db: db, path: path}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %q: %w", path, err)
	}
	return s, nil
}

// Path is the file the store lives in.
func (s *SQLite) Path() string { return s.path }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func (s *SQLite) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	if err := s.db.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_version(version) VALUES (?)`, i+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Load reads the snapshot the engine resumes from.
func (s *SQLite) Load(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	if err := queryJSON(ctx, s.db, &snap.Alerts, `SELECT body FROM alerts ORDER BY fp`); err != nil {
		return snap, err
	}
	if err := queryJSON(ctx, s.db, &snap.Groups, `SELECT body FROM alert_groups ORDER BY key`); err != nil {
		return snap, err
	}
	if err := queryJSON(ctx, s.db, &snap.Incidents, `SELECT body FROM incidents WHERE status != 'resolved' ORDER BY id`); err != nil {
		return snap, err
	}
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM incidents`).Scan(&snap.MaxIncidentID)
	return snap, err
}

// Apply writes a change atomically. Pages whose key already exists are
// ignored, so applying the same change twice pages nobody twice.
func (s *SQLite) Apply(ctx context.Context, c Change) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if c.Alerts != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alerts`); err != nil {
			return err
		}
		for _, a := range c.Alerts {
			if err := execJSON(ctx, tx, `INSERT INTO alerts(fp, body) VALUES (?, ?)`, a, fmt.Sprintf("%016x", a.Fingerprint())); err != nil {
				return err
			}
		}
	}
	if c.Groups != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_groups`); err != nil {
			return err
		}
		for _, g := range c.Groups {
			if err := execJSON(ctx, tx, `INSERT INTO alert_groups(key, body) VALUES (?, ?)`, g, g.Key); err != nil {
				return err
			}
		}
	}
	for _, inc := range c.Incidents {
		if inc.ID <= 0 {
			return fmt.Errorf("store: incident without an id: %q", inc.Title)
		}
		if err := execJSON(ctx, tx, `INSERT INTO incidents(id, key, status, opened_at, body) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET key = excluded.key, status = excluded.status, body = excluded.body`,
			inc, inc.ID, inc.Key, inc.Status.String(), inc.OpenedAt.UnixMilli()); err != nil {
			return err
		}
	}
	for _, p := range c.Pages {
		if err := execJSON(ctx, tx, `INSERT INTO pages(key, incident_id, created_at, body) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`,
			p, p.Key, p.IncidentID, p.CreatedAt.UnixMilli()); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Incidents returns incidents, newest first; all of them or only open ones.
func (s *SQLite) Incidents(ctx context.Context, openOnly bool, limit int) ([]incidents.Incident, error) {
	q := `SELECT body FROM incidents`
	if openOnly {
		q += ` WHERE status != 'resolved'`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	var out []incidents.Incident
	return out, queryJSON(ctx, s.db, &out, q, limit)
}

// Incident returns one incident by id.
func (s *SQLite) Incident(ctx context.Context, id int64) (incidents.Incident, error) {
	var out []incidents.Incident
	if err := queryJSON(ctx, s.db, &out, `SELECT body FROM incidents WHERE id = ?`, id); err != nil {
		return incidents.Incident{}, err
	}
	if len(out) == 0 {
		return incidents.Incident{}, fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}

// ErrNotFound is returned for a lookup that matches nothing.
var ErrNotFound = errors.New("not found")

// PendingPages returns pages not yet delivered, oldest first, with their ids.
func (s *SQLite) PendingPages(ctx context.Context) ([]incidents.Page, error) {
	return s.pages(ctx, `SELECT id, body FROM pages WHERE sent_at IS NULL ORDER BY id`)
}

// RecentPages returns the last limit pages, newest first.
func (s *SQLite) RecentPages(ctx context.Context, limit int) ([]incidents.Page, error) {
	return s.pages(ctx, `SELECT id, body FROM pages ORDER BY id DESC LIMIT ?`, limit)
}

func (s *SQLite) pages(ctx context.Context, q string, args ...any) ([]incidents.Page, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []incidents.Page
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		var p incidents.Page
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("store: page %d: %w", id, err)
		}
		p.ID = id
		out = append(out, p)
	}
	return out, rows.Err()
}

// MarkPage records a delivery attempt; a zero sentAt means it failed.
func (s *SQLite) MarkPage(ctx context.Context, p incidents.Page, sentAt time.Time) error {
	var sent any
	if !sentAt.IsZero() {
		p.SentAt = sentAt
		sent = sentAt.UnixMilli()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE pages SET sent_at = ?, body = ? WHERE id = ?`, sent, string(b), p.ID)
	return err
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func execJSON(ctx context.Context, db execer, q string, v any, args ...any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode: %w", err)
	}
	if _, err := db.ExecContext(ctx, q, append(args, string(b))...); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func queryJSON[T any](ctx context.Context, db *sql.DB, out *[]T, q string, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return fmt.Errorf("store: decode: %w", err)
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

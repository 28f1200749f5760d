// Package sqlite is oncall's embedded store: one SQLite file (pure Go, no
// cgo) in WAL mode with full synchronous writes, versioned migrations, and
// an integrity check when it opens. Several processes may share the file;
// the pipeline lease decides which one runs the pipeline.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/oncallhq/oncall/store"
)

// Store is a store in one SQLite file.
type Store struct {
	queries
	db       *sql.DB
	path     string
	identity string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating, 0600 in a 0700 directory) the store at path,
// checks its integrity and migrates it to the current schema.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	} else {
		f.Close()
	}
	dsn := "file:" + path + "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=cache_size(-16384)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{queries: queries{db: db}, db: db, path: path}
	if err := s.check(); err != nil {
		db.Close()
		if b, at := newestBackup(path); b != "" {
			return nil, fmt.Errorf("store: %s: %w. A backup taken %s is at %s: stop every oncall on this state directory, move %s aside and copy the backup in its place",
				path, err, at.UTC().Format(time.RFC3339), b, filepath.Base(path))
		}
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'identity'`).Scan(&s.identity); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: no identity: %w", path, err)
	}
	s.queries.identity = s.identity
	return s, nil
}

// BackupPath is where Backup writes: beside the store, ".backup" added.
// A backup of another store (this one was emptied or replaced) is never
// overwritten: then the path gets this store's identity too.
func (s *Store) BackupPath() string {
	p := s.path + ".backup"
	if id := backupIdentity(p); id != "" && id != s.identity {
		return p + "-" + s.identity
	}
	return p
}

// newestBackup is the newest backup beside the store at path (its own or
// another identity's), and when it was taken; "" if there is none.
func newestBackup(path string) (string, time.Time) {
	found, _ := filepath.Glob(path + ".backup*")
	best, at := "", time.Time{}
	for _, f := range found {
		if strings.HasSuffix(f, ".tmp") {
			continue
		}
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(at) {
			best, at = f, fi.ModTime()
		}
	}
	return best, at
}

// BackupAge is how old the store's backup is (a very long time if it has
// none).
func (s *Store) BackupAge(now time.Time) time.Duration {
	fi, err := os.Stat(s.BackupPath())
	if err != nil {
		return 1 << 62
	}
	return now.Sub(fi.ModTime())
}

// backupIdentity reads the identity of the store backed up at path ("" if
// there is none).
func backupIdentity(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return ""
	}
	defer db.Close()
	var id string
	db.QueryRow(`SELECT value FROM meta WHERE key = 'identity'`).Scan(&id)
	return id
}

// Backup writes a consistent copy of the store to BackupPath (0600),
// replacing the previous one only once the new one is complete. The
// store makes one when it opens and when it closes, oncall serve every
// six hours; a damaged store's error names it.
func (s *Store) Backup(ctx context.Context) error {
	dst := s.BackupPath()
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("store: backup to %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// check refuses a damaged file rather than running on half a database.
func (s *Store) check() error {
	var res string
	if err := s.db.QueryRow(`PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		// quick_check lists every problem, a line each: the first says enough.
		first, rest, more := strings.Cut(res, "\n")
		if more {
			first += fmt.Sprintf(" and %d more problems", strings.Count(rest, "\n")+1)
		}
		return fmt.Errorf("damaged database (integrity check: %s)", first)
	}
	return nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// Identity is the store's random identity.
func (s *Store) Identity() string { return s.identity }

// Close backs the store up and closes it.
func (s *Store) Close() error {
	berr := s.Backup(context.Background())
	return errors.Join(berr, s.db.Close())
}

// Update runs f in one IMMEDIATE transaction.
func (s *Store) Update(ctx context.Context, f func(store.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if err := f(queries{db: tx, identity: s.identity}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// migrations are applied in order, each in its own transaction; the
// schema_version table records how far a file is.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE alerts (fp TEXT PRIMARY KEY, body TEXT NOT NULL);
	 CREATE TABLE alert_groups (key TEXT PRIMARY KEY, body TEXT NOT NULL);
	 CREATE TABLE incidents (id INTEGER PRIMARY KEY, key TEXT NOT NULL, status TEXT NOT NULL, opened_at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX incidents_open ON incidents(status, key);
	 CREATE TABLE pages (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, incident_id INTEGER NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER, body TEXT NOT NULL);
	 CREATE INDEX pages_pending ON pages(sent_at);`,
	// 2: the store becomes the truth of the pipeline: an identity, alerts
	// as Alertmanager models them, groups, the notification log,
	// silences, one outbox for pages and notifications, leases. Alerts
	// are keyed by their fingerprint as an integer (a rowid table writes
	// several times faster than one with a text key). Rule
	// alert state moves to its own table; queued pages move to the outbox.
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 ALTER TABLE alerts RENAME TO rule_alerts;
	 CREATE TABLE alerts (fp INTEGER PRIMARY KEY, body TEXT NOT NULL);
	 DROP TABLE alert_groups;
	 CREATE TABLE alert_groups (id TEXT PRIMARY KEY, body TEXT NOT NULL);
	 CREATE TABLE nflog (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE TABLE silences (id TEXT PRIMARY KEY, body TEXT NOT NULL);
	 ALTER TABLE incidents ADD COLUMN next_at INTEGER;
	 UPDATE incidents SET next_at = CAST(unixepoch(json_extract(body, '$.escalation.next_at'), 'subsec') * 1000 AS INTEGER)
	   WHERE status = 'triggered' AND json_extract(body, '$.escalation.next_at') IS NOT NULL;
	 CREATE INDEX incidents_due ON incidents(status, next_at);
	 CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
	   created_at INTEGER NOT NULL, pending INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX messages_pending ON messages(pending, next_attempt_at);
	 CREATE INDEX messages_kind ON messages(kind, id);
	 INSERT INTO messages(key, kind, created_at, pending, next_attempt_at, body)
	   SELECT key, 'page', created_at, sent_at IS NULL, 0,
	     json_object('key', key, 'kind', 'page', 'page', json(body), 'createdAt', json_extract(body, '$.created_at'),
	       'sentAt', json_extract(body, '$.sent_at'), 'attempts', coalesce(json_extract(body, '$.attempts'), 0))
	   FROM pages ORDER BY id;
	 DROP TABLE pages;
	 CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until INTEGER NOT NULL);`,
	// 3: incidents have severities SEV1–SEV4 (the alert's severity label
	// moves to alert_severity), several alert groups each (incident_keys),
	// timers while acknowledged (the ack timeout), so next_at no longer
	// depends on the status, and a resolved_at to select by.
	`CREATE TABLE incident_keys (key TEXT NOT NULL, incident_id INTEGER NOT NULL, PRIMARY KEY (key, incident_id));
	 INSERT INTO incident_keys(key, incident_id) SELECT key, id FROM incidents WHERE key != '';
	 UPDATE incidents SET body = json_set(body, '$.alert_severity', json_extract(body, '$.severity'), '$.severity',
	   CASE json_extract(body, '$.severity') WHEN 'critical' THEN 'SEV1' WHEN 'page' THEN 'SEV2' WHEN 'ticket' THEN 'SEV4' WHEN 'info' THEN 'SEV4' ELSE 'SEV3' END)
	   WHERE json_extract(body, '$.severity') IS NULL OR json_extract(body, '$.severity') NOT LIKE 'SEV_';
	 DROP INDEX incidents_due;
	 CREATE INDEX incidents_due ON incidents(next_at) WHERE next_at IS NOT NULL;
	 ALTER TABLE incidents ADD COLUMN resolved_at INTEGER;
	 UPDATE incidents SET resolved_at = CAST(unixepoch(json_extract(body, '$.resolved_at'), 'subsec') * 1000 AS INTEGER)
	   WHERE status = 'resolved' AND json_extract(body, '$.resolved_at') IS NOT NULL;
	 CREATE INDEX incidents_resolved ON incidents(resolved_at);`,
	// 4: alerts say who wrote them and when, so that the leader picks up
	// what a standby received.
	`ALTER TABLE alerts ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
	 ALTER TABLE alerts ADD COLUMN writer TEXT NOT NULL DEFAULT '';
	 CREATE INDEX alerts_written ON alerts(written_at);`,
	// 5: the history of every alert's transitions.
	`CREATE TABLE alert_history (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX alert_history_at ON alert_history(at);
	 CREATE INDEX alert_history_name ON alert_history(name, at);`,
	// 6: readiness checklists: runs with their per-check results, and the
	// attestations, waivers and pushed results they read.
	`CREATE TABLE checklist_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, checklist TEXT NOT NULL, service TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX checklist_runs_service ON checklist_runs(service, checklist, id);
	 CREATE TABLE checklist_records (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, checklist TEXT NOT NULL, check_id TEXT NOT NULL,
	   service TEXT NOT NULL, at INTEGER NOT NULL, expires_at INTEGER NOT NULL, body TEXT NOT NULL);
	 CREATE INDEX checklist_records_service ON checklist_records(service, checklist, id);`,
	// 7: incident chat channels (the incident each belongs to) and the
	// messages the chat bot keeps of them.
	`CREATE TABLE incident_channels (channel TEXT PRIMARY KEY, incident_id INTEGER NOT NULL);
	 CREATE TABLE chat_messages (channel TEXT NOT NULL, id TEXT NOT NULL, incident_id INTEGER NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL,
	   PRIMARY KEY (channel, id));
	 CREATE INDEX chat_messages_incident ON chat_messages(incident_id, at);`,
}

func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	if err := s.db.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d): upgrade oncall", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if err := s.apply(i); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM meta WHERE key = 'identity'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		b := make([]byte, 8)
		rand.Read(b)
		if _, err := s.db.Exec(`INSERT INTO meta(key, value) VALUES ('identity', ?)`, hex.EncodeToString(b)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) apply(i int) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range strings.Split(migrations[i], ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.Exec(stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, strings.TrimSpace(stmt))
		}
	}
	if _, err := tx.Exec(`INSERT INTO schema_version(version) VALUES (?)`, i+1); err != nil {
		return err
	}
	return tx.Commit()
}

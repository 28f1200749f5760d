package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "state", "oncall.db")
		return func() (store.Store, error) { return Open(path) }
	})
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(filepath.Join(dir, "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "oncall.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

// A file damaged past its header is refused, not half-used.
func TestRefusesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		inc := incidents.Incident{Key: strings.Repeat("k", 500) + string(rune('a'+i%26)), OpenedAt: time.Now()}
		if err := s.CreateIncident(context.Background(), &inc); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "damaged") && !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("opening a truncated database: %v", err)
	}
	if !strings.Contains(err.Error(), "A backup taken") || !strings.Contains(err.Error(), path+".backup") {
		t.Errorf("the error should offer the backup: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error takes several lines: %q", err)
	}
	// A newer backup under another identity's name is the one offered.
	later := path + ".backup-0123abcd"
	b, _ := os.ReadFile(path + ".backup")
	os.WriteFile(later, b, 0o600)
	os.Chtimes(later, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), later) {
		t.Errorf("the newest backup is not offered: %v", err)
	}
	os.Remove(later)
	// The backup is a whole store: put in place, it opens with every incident.
	if err := os.Rename(path+".backup", path); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	s, err = Open(path)
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer s.Close()
	if all, _ := s.Incidents(context.Background(), store.IncidentFilter{}); len(all) != 200 {
		t.Errorf("the backup holds %d incidents, want 200", len(all))
	}
}

// A store written by the first schema is migrated: its incidents, their
// escalation schedule and its queued pages carry over.
func TestMigratesFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(migrations[0], ";") {
		if strings.TrimSpace(stmt) != "" {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)`)
	exec(`INSERT INTO incidents(id, key, status, opened_at, body) VALUES (3, 'page:{service="mm"}', 'triggered', 0,
		'{"id":3,"key":"page:{service=\"mm\"}","title":"down","status":"triggered","opened_at":"2026-11-23T10:00:00Z","escalation":{"policy":"p","step":1,"next_at":"2026-11-23T10:05:00Z"}}')`)
	exec(`INSERT INTO pages(key, incident_id, created_at, sent_at, body) VALUES ('INC-3/r0/s1/bob', 3, 0, NULL,
		'{"key":"INC-3/r0/s1/bob","incident_id":3,"kind":"escalate","target":"bob","subject":"[INC-3] down","created_at":"2026-11-23T10:00:00Z","attempts":2}')`)
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if next, err := s.NextEscalation(ctx); err != nil || !next.Equal(time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("escalation schedule after migration: %v, %v", next, err)
	}
	msgs, err := s.PendingMessages(ctx, time.Now(), 10)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != notify.KindPage || msgs[0].Page == nil || msgs[0].Page.Target != "bob" || msgs[0].Attempts != 2 {
		t.Fatalf("queued page after migration: %+v, %v", msgs, err)
	}
	inc := incidents.Incident{Key: "new", OpenedAt: time.Now()}
	if err := s.CreateIncident(ctx, &inc); err != nil || inc.ID != 4 {
		t.Errorf("next incident id %d (%v), want 4", inc.ID, err)
	}
}

// A store of the second schema gains severities and linked alert groups:
// an alert's severity label becomes the alert_severity and maps to SEV1–4,
// and open incidents are found by their alert group as before.
func TestMigratesSeveritiesAndKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:2] {
		for _, stmt := range strings.Split(m, ";") {
			if strings.TrimSpace(stmt) != "" {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	for i, sev := range []string{"critical", "page", "ticket", "warning"} {
		status := "triggered"
		if i == 3 {
			status = "resolved"
		}
		body := fmt.Sprintf(`{"id":%d,"key":"pager k%d","title":"t","severity":%q,"status":%q,"opened_at":"2026-11-23T10:00:00Z","escalation":{"policy":"p"}}`, i+1, i+1, sev, status)
		if _, err := db.Exec(`INSERT INTO incidents(id, key, status, opened_at, body) VALUES (?, ?, ?, 0, ?)`, i+1, fmt.Sprintf("pager k%d", i+1), status, body); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	want := []incidents.Severity{incidents.SEV1, incidents.SEV2, incidents.SEV4, incidents.SEV3}
	for i, sev := range want {
		inc, err := s.Incident(ctx, int64(i+1))
		if err != nil || inc.Severity != sev || inc.AlertSeverity == "" {
			t.Errorf("incident %d: %v %q, %v; want %v", i+1, inc.Severity, inc.AlertSeverity, err, sev)
		}
	}
	if inc, ok, err := s.OpenIncident(ctx, "pager k2"); err != nil || !ok || inc.ID != 2 {
		t.Errorf("open incident by its group after migration: %d %v %v", inc.ID, ok, err)
	}
	if _, ok, _ := s.OpenIncident(ctx, "pager k4"); ok {
		t.Error("a resolved incident is not open")
	}
}

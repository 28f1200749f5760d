package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oncallhq/oncall/config"
)

// An emptied oncall.db is noticed instead of silently starting over (and
// reusing incident numbers pages were sent for); --adopt-store accepts it.
func TestRefusesAnEmptiedStore(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "oncall.yaml"), []byte("server: {listen: '127.0.0.1:0'}\nstate_dir: state\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	s, err := New(ctx, cfg, log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = New(ctx, cfg, log, Options{}); err != nil {
		t.Fatalf("the same store again: %v", err)
	}
	s.Close()

	db := filepath.Join(dir, "state", "oncall.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		os.Truncate(f, 0)
	}
	_, err = New(ctx, cfg, log, Options{})
	if err == nil || !strings.Contains(err.Error(), "emptied or replaced") || !strings.Contains(err.Error(), "--adopt-store") ||
		!strings.Contains(err.Error(), "oncall.db.backup") {
		t.Fatalf("an emptied store: %v", err)
	}
	// The refused store did not overwrite the backup of the real one.
	backups, _ := filepath.Glob(db + ".backup*")
	if len(backups) != 2 {
		t.Errorf("backups %v: the real store's, and the refused one's beside it", backups)
	}
	s, err = New(ctx, cfg, log, Options{AdoptStore: true})
	if err != nil {
		t.Fatalf("adopting it: %v", err)
	}
	s.Close()
	if s, err = New(ctx, cfg, log, Options{}); err != nil {
		t.Fatalf("once adopted, it is this directory's store: %v", err)
	}
	s.Close()
}

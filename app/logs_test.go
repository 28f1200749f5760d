package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/config"
)

// Readiness says which log file cannot be read (oncall is blind to its
// lines) and passes again once it can.
func TestLogReadiness(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("msg=a\n"), 0o600)
	bad := filepath.Join(dir, "b.log")
	os.Symlink(bad, bad) // a loop: opening it fails
	l, err := newLogPipeline(config.Logs{Files: []string{filepath.Join(dir, "*.log")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range l.sources {
		s.Stream(ctx, false, l.add)
	}
	cs := l.check(ctx, time.Now())
	if len(cs) != 1 || cs[0].OK || cs[0].Name != "logs" || !strings.Contains(cs[0].Reason, "b.log") {
		t.Fatalf("with an unreadable file: %+v", cs)
	}
	os.Remove(bad)
	os.WriteFile(bad, []byte("msg=b\n"), 0o600)
	for _, s := range l.sources {
		s.Stream(ctx, false, l.add)
	}
	if cs := l.check(ctx, time.Now()); len(cs) != 1 || !cs[0].OK || cs[0].Reason != "2 files followed" {
		t.Errorf("fixed: %+v", cs)
	}
	none, _ := newLogPipeline(config.Logs{})
	if cs := none.check(ctx, time.Now()); len(cs) != 0 {
		t.Errorf("without log files: %+v", cs)
	}
}

package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// identified is what checkIdentity needs from the store.
type identified interface{ Identity() string }

// checkIdentity notices an emptied or foreign store: the state directory
// records the identity of its store the first time, and later refuses a
// database with another one, unless told to adopt it. Without this, an
// emptied oncall.db would silently start over and, say, reuse incident
// numbers that pages were already sent for.
func checkIdentity(stateDir string, st identified, adopt bool) error {
	path := filepath.Join(stateDir, "store.id")
	b, err := os.ReadFile(path)
	switch {
	case err == nil && strings.TrimSpace(string(b)) == st.Identity():
		return nil
	case err == nil && !adopt:
		restore := "Restore the right oncall.db"
		if _, berr := os.Stat(filepath.Join(stateDir, "oncall.db.backup")); berr == nil {
			restore = "Restore the right oncall.db (a backup of it may be " + filepath.Join(stateDir, "oncall.db.backup") + ")"
		}
		return fmt.Errorf("%s: this state directory's store was %s, but %s is store %s: the database was emptied or replaced, and what it held (incidents, pages, silences) is not in it. %s, or run with --adopt-store to carry on with this one",
			stateDir, strings.TrimSpace(string(b)), filepath.Join(stateDir, "oncall.db"), st.Identity(), restore)
	case err != nil && !os.IsNotExist(err):
		return fmt.Errorf("state directory: %w", err)
	}
	return os.WriteFile(path, []byte(st.Identity()+"\n"), 0o600)
}

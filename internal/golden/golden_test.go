package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               { r.TB.Helper() }
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

// A match passes, a difference or a missing file fails, and -update
// writes the file (directories too) so that it then matches.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.txt")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("same\n"), 0o644)
	for _, tc := range []struct {
		name, path, got string
		fail            bool
	}{
		{"same", path, "same\n", false},
		{"differs", path, "other\n", true},
		{"missing", filepath.Join(dir, "none.txt"), "x", true},
	} {
		r := &recorder{TB: t}
		Check(r, tc.path, tc.got)
		if r.failed != tc.fail {
			t.Errorf("%s: failed %v, want %v", tc.name, r.failed, tc.fail)
		}
	}
	*update = true
	defer func() { *update = false }()
	fresh := filepath.Join(dir, "new", "y.txt")
	Check(t, fresh, []byte("written\n"))
	*update = false
	r := &recorder{TB: t}
	Check(r, fresh, "written\n")
	if r.failed {
		t.Error("-update did not write the file")
	}
}

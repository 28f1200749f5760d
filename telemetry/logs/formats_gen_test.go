package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genFormat writes n lines of a pattern format, every 7th an error, every
// 11th a warning, and every 50th line malformed (not of the format).
func genFormat(format string, n int) (string, int, int, int) {
	var b strings.Builder
	errs, warns, bad := 0, 0, 0
	for i := 1; i <= n; i++ {
		if i%50 == 0 {
			b.WriteString("\xff\xfe garbage that is no log line at all\n")
			bad++
			continue
		}
		lvl := "info"
		switch {
		case i%7 == 0:
			lvl, errs = "error", errs+1
		case i%11 == 0:
			lvl, warns = "warn", warns+1
		}
		switch format {
		case "syslog":
			pri := map[string]int{"error": 11, "warn": 12, "info": 14}[lvl]
			fmt.Fprintf(&b, "<%d>Nov 23 10:%02d:%02d web-1 matchmaking[42]: request %d handled\n", pri, (i/60)%60, i%60, i)
		case "go":
			fmt.Fprintf(&b, "2026/11/23 10:%02d:%02d %s request %d handled\n", (i/60)%60, i%60, strings.ToUpper(lvl), i)
		case "python":
			py := map[string]string{"error": "ERROR", "warn": "WARNING", "info": "INFO"}[lvl]
			fmt.Fprintf(&b, "2026-11-23 10:%02d:%02d,%03d - matchmaking.api - %s - request %d handled\n", (i/60)%60, i%60, i%1000, py, i)
		}
	}
	return b.String(), errs, warns, bad
}

// Realistic generated logs in each pattern format, with malformed and
// non-UTF-8 lines mixed in: exact counts through Grep and the tailer.
func TestPatternFormatsExactCounts(t *testing.T) {
	for _, format := range []string{"syslog", "go", "python"} {
		data, errs, warns, bad := genFormat(format, 2000)
		count := func(filter string) uint64 {
			return grepCount(t, strings.NewReader(data), filter, GrepOptions{}).Matched
		}
		if got := count("level=error"); got != uint64(errs) {
			t.Errorf("%s: level=error %d, want %d", format, got, errs)
		}
		if got := count("level>=warn"); got != uint64(errs+warns) {
			t.Errorf("%s: level>=warn %d, want %d", format, got, errs+warns)
		}
		if got := count("garbage"); got != uint64(bad) {
			t.Errorf("%s: malformed lines %d, want %d", format, got, bad)
		}
		path := filepath.Join(t.TempDir(), format+".log")
		os.WriteFile(path, []byte(data), 0o644)
		tl := NewTailer(path, false)
		es, err := tl.Poll()
		tl.Close()
		if err != nil {
			t.Fatal(err)
		}
		if tl.Format() == nil || tl.Format().Name != format {
			t.Errorf("%s: detected %v", format, tl.Format())
		}
		if len(es) != 2000 || tl.Stats().Unparsed != uint64(bad) {
			t.Errorf("%s: %d entries, %d unparsed; want 2000 and %d", format, len(es), tl.Stats().Unparsed, bad)
		}
	}
}

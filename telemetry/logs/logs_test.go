package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	r := NewRing(3)
	for i := range 5 {
		r.Add(Entry{Message: fmt.Sprint(i)})
	}
	if r.Len() != 3 || r.Dropped() != 2 {
		t.Fatalf("len %d dropped %d", r.Len(), r.Dropped())
	}
	msgs := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprintf("%d:%s", e.Seq, e.Message))
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		after uint64
		limit int
		want  string
	}{
		{0, 10, "3:2 4:3 5:4"},
		{3, 10, "4:3 5:4"},
		{4, 1, "5:4"},
		{5, 10, ""},
		{99, 10, ""},
	}
	for _, tc := range tests {
		if got := msgs(r.After(tc.after, tc.limit)); got != tc.want {
			t.Errorf("After(%d, %d) = %q, want %q", tc.after, tc.limit, got, tc.want)
		}
	}
	for _, tc := range []struct {
		after uint64
		limit int
		want  string
	}{{0, 2, "4:3 5:4"}, {3, 10, "4:3 5:4"}, {4, 2, "5:4"}, {5, 2, ""}, {0, 1, "5:4"}} {
		if got := msgs(r.Tail(tc.after, tc.limit)); got != tc.want {
			t.Errorf("Tail(%d, %d) = %q, want %q", tc.after, tc.limit, got, tc.want)
		}
	}
	if got := msgs(r.Last(2)); got != "4:3 5:4" {
		t.Errorf("Last(2) = %q", got)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line       string
		structured bool
		want       Entry
	}{
		{`{"ts":"2026-11-23T10:00:00Z","level":"error","service":"mm","msg":"query timed out","trace_id":"ab12","status":503}`, true,
			Entry{Time: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Level: LevelError, Service: "mm", Message: "query timed out", TraceID: "ab12", Fields: map[string]string{"status": "503"}}},
		{`time=1763892000 level=WARN msg="slow request" svc=api request_id=r-1 duration=1.2s`, true,
			Entry{Time: time.Unix(1763892000, 0).UTC(), Level: LevelWarn, Service: "api", Message: "slow request", TraceID: "r-1", Fields: map[string]string{"duration": "1.2s"}}},
		{`panic: runtime error: index out of range`, false, Entry{Message: "panic: runtime error: index out of range"}},
		{"bad \xff byte", false, Entry{Message: "bad \uFFFD byte"}},
		{`{"msg": "unterminated`, false, Entry{Message: `{"msg": "unterminated`}},
	}
	for _, tc := range tests {
		got, ok := ParseLine([]byte(tc.line))
		if ok != tc.structured || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseLine(%q) =\n  %+v, %v\nwant\n  %+v, %v", tc.line, got, ok, tc.want, tc.structured)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"level":"info","msg":"x"}`))
	f.Add([]byte(`a=1 b="two words" c=`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _ := ParseLine(b)
		if e.Level < LevelUnknown || e.Level > LevelFatal {
			t.Fatalf("level out of range: %v", e.Level)
		}
	})
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func messages(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

func TestTailerRotationAndTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	tl := NewTailer(path, false)
	defer tl.Close()
	poll := func(want ...string) {
		t.Helper()
		got, err := tl.Poll()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(messages(got)) != fmt.Sprint(want) {
			t.Fatalf("got %q, want %q", messages(got), want)
		}
	}
	poll() // the file does not exist yet
	appendFile(t, path, "msg=one\nmsg=tw")
	poll("one") // the partial line waits for its newline
	appendFile(t, path, "o\n")
	poll("two")
	// Rotation by rename: lines written to the old file before the rename
	// are read, then the new file from its start.
	appendFile(t, path, "msg=three\n")
	os.Rename(path, path+".1")
	appendFile(t, path+".1", "msg=four\n")
	appendFile(t, path, "msg=five\n")
	poll("three", "four", "five")
	// copytruncate: the file is emptied in place and written again.
	os.Truncate(path, 0)
	appendFile(t, path, "msg=six\n")
	poll("six")
	st := tl.Stats()
	if st.Lines != 6 || st.Rotations != 1 || st.Truncations != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTailerLongLinesAndFromEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, "msg=old\n")
	tl := NewTailer(path, true)
	defer tl.Close()
	if got, _ := tl.Poll(); len(got) != 0 {
		t.Fatalf("fromEnd read old lines: %q", messages(got))
	}
	appendFile(t, path, strings.Repeat("x", MaxLineBytes+100)+"\nmsg=after\n")
	got, err := tl.Poll()
	if err != nil || len(got) != 2 || len(got[0].Message) != MaxLineBytes || got[1].Message != "after" {
		t.Fatalf("got %d entries, err %v", len(got), err)
	}
	if tl.Stats().LongLines != 1 {
		t.Errorf("long lines = %d", tl.Stats().LongLines)
	}
}

// The default 100k-entry buffer of realistic parsed lines stays within 64 MiB.
func TestRingMemory(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(genLog(DefaultRingSize))), "\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewRing(DefaultRingSize)
	for _, l := range lines {
		e, _ := ParseLine([]byte(l))
		r.Add(e)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := after.HeapAlloc - before.HeapAlloc
	t.Logf("100k entries: %.1f MiB (%d B/entry)", float64(used)/(1<<20), used/uint64(r.Len()))
	if used > 64<<20 {
		t.Errorf("100k entries take %d MiB, want at most 64", used>>20)
	}
	runtime.KeepAlive(r)
}

// A ring takes memory for what it holds, not for its capacity: an
// oncall without log sources keeps no 100k-entry array around, and a full
// ring holds exactly its capacity.
func TestRingGrowsWithItsEntries(t *testing.T) {
	r := NewRing(5000)
	if cap(r.buf) != 0 {
		t.Fatalf("an empty ring holds an array of %d entries", cap(r.buf))
	}
	for i := range 12_000 {
		r.Add(Entry{Message: fmt.Sprint(i)})
		switch {
		case i < 1024 && cap(r.buf) > 1024:
			t.Fatalf("%d entries: an array of %d", i+1, cap(r.buf))
		case cap(r.buf) > 5000:
			t.Fatalf("%d entries: an array of %d, beyond the capacity", i+1, cap(r.buf))
		}
	}
	if got := r.Last(2); len(got) != 2 || got[0].Message != "11998" || got[1].Message != "11999" || r.Dropped() != 7000 {
		t.Fatalf("last two %v, dropped %d; want 11998, 11999 and 7000", got, r.Dropped())
	}
}

func TestTailerDetectsFormatAndJoinsStackTraces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "py.log")
	appendFile(t, path, `2026-11-23 10:00:00,123 - worker - ERROR - candidate query failed
Traceback (most recent call last):
  File "worker.py", line 12, in run
    rows = db.query(q)
TimeoutError: query timed out
2026-11-23 10:00:01,000 - worker - INFO - retry succeeded
`)
	tl := NewTailer(path, false)
	defer tl.Close()
	got, err := tl.Poll()
	if err != nil {
		t.Fatal(err)
	}
	if tl.Format() == nil || tl.Format().Name != "python" {
		t.Fatalf("format = %v", tl.Format())
	}
	if len(got) != 2 {
		t.Fatalf("%d entries, want 2 (the whole traceback joins the error): %q", len(got), messages(got))
	}
	if !strings.Contains(got[0].Message, "Traceback") || !strings.HasSuffix(got[0].Message, "TimeoutError: query timed out") || got[0].Level != LevelError {
		t.Errorf("first entry = %+v", got[0])
	}
	if tl.Stats().Lines != 6 {
		t.Errorf("lines = %d, want 6", tl.Stats().Lines)
	}
}

// A writer appends and rotates by rename while the tailer polls
// concurrently, with up to 500 unread lines in the file being rotated away:
// every line is read exactly once, in order. (A file rotated away entirely
// before the tailer ever opened it is lost, as with tail -F; logrotate runs
// far less often than a poll.)
func TestTailerUnderConcurrentWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	const total = 3000
	var seen atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, _ := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		for i := 1; i <= total; i++ {
			fmt.Fprintf(f, "{\"msg\":\"line %d\"}\n", i)
			switch {
			case i%1000 == 0: // rotate: rename, then a new file
				for seen.Load() < int64(i-500) {
					runtime.Gosched()
				}
				f.Close()
				os.Rename(path, fmt.Sprintf("%s.%d", path, i))
				f, _ = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			}
		}
		f.Close()
	}()
	tl := NewTailer(path, false)
	defer tl.Close()
	var got []string
	poll := func() {
		es, err := tl.Poll()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, messages(es)...)
		seen.Store(int64(len(got)))
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			poll()
		}
	}
	poll()
	poll()
	if len(got) != total {
		t.Fatalf("read %d lines, want %d (rotations %d)", len(got), total, tl.Stats().Rotations)
	}
	for i, m := range got {
		if m != fmt.Sprintf("line %d", i+1) {
			t.Fatalf("line %d is %q", i+1, m)
		}
	}
}

// A tailer handed an open file keeps its offset on that file: a rotation
// before the first poll does not make it skip the start of the new file.
func TestTailerFromOpenFileAcrossEarlyRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	appendFile(t, path, "msg=searched\n")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTailerFrom(f, path, 13)
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	appendFile(t, path, "msg=one\n")
	os.Rename(path, path+".1")
	appendFile(t, path, "msg=two\n")
	got, err := tl.Poll()
	if err != nil || fmt.Sprint(messages(got)) != "[one two]" {
		t.Fatalf("got %q, %v", messages(got), err)
	}
}

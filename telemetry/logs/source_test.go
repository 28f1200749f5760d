package logs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Every kind of source satisfies the one interface.
var _ = []Source{&FileSource{}, &ReaderSource{}, &LokiSource{}}

func collect(t *testing.T, s Source, follow bool) []string {
	t.Helper()
	var got []string
	err := s.Stream(context.Background(), follow, func(es []Entry) error {
		got = append(got, messages(es)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFileSourceGlob(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, filepath.Join(dir, "a.log"), "msg=a1\nmsg=a2\n")
	appendFile(t, filepath.Join(dir, "b.log"), "msg=b1\n")
	s := &FileSource{Pattern: filepath.Join(dir, "*.log")}
	if got := strings.Join(collect(t, s, false), ","); got != "a1,a2,b1" {
		t.Errorf("got %s", got)
	}
	if st := s.Stats(); len(st) != 2 || st[filepath.Join(dir, "a.log")].Lines != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// Following, with the poll interval on a fake clock: a file that appears
// later is picked up on the next poll.
func TestFileSourceFollow(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := &FileSource{Pattern: filepath.Join(dir, "*.log"), Interval: time.Second}
		batches := make(chan []string, 10)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- s.Stream(ctx, true, func(es []Entry) error { batches <- messages(es); return nil })
		}()
		synctest.Wait()
		appendFile(t, filepath.Join(dir, "late.log"), "msg=hello\n")
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case b := <-batches:
			if strings.Join(b, ",") != "hello" {
				t.Errorf("batch %v", b)
			}
		default:
			t.Fatal("the new file was not read on the next poll")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestReaderSource(t *testing.T) {
	in := `{"level":"error","msg":"one"}` + "\nplain two\n" + `{"msg":"three"}`
	s := &ReaderSource{Label: "stdin", R: strings.NewReader(in)}
	if got := strings.Join(collect(t, s, true), ","); got != "one,plain two,three" {
		t.Errorf("got %s", got)
	}
}

func TestLokiSource(t *testing.T) {
	srv := fakeLoki(t, map[string][]string{"api": {`level=info msg=first`, `level=error msg=second`}})
	defer srv.Close()
	l, _ := NewLoki(srv.URL, "", "tenant-1")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := &LokiSource{Client: l, Query: `{job="api"}`, Since: start, Until: start.Add(time.Minute)}
	if got := strings.Join(collect(t, s, false), ","); got != "first,second" {
		t.Errorf("got %s", got)
	}
}

// A file that cannot be read does not stop the source: the others are
// followed, the problem is reported, and it is read once it can be.
// Read once, the same file is an error.
func TestFileSourceUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, filepath.Join(dir, "a.log"), "msg=a1\n")
	bad := filepath.Join(dir, "b.log")
	if err := os.Symlink(bad, bad); err != nil { // a symlink loop: opening it fails (even as root)
		t.Fatal(err)
	}
	s := &FileSource{Pattern: filepath.Join(dir, "*.log")}
	if err := s.Stream(context.Background(), false, func([]Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "b.log") {
		t.Errorf("read once: %v", err)
	}
	synctest.Test(t, func(t *testing.T) {
		s := &FileSource{Pattern: filepath.Join(dir, "*.log"), Interval: time.Second}
		var got []string
		var mu sync.Mutex
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- s.Stream(ctx, true, func(es []Entry) error { mu.Lock(); got = append(got, messages(es)...); mu.Unlock(); return nil })
		}()
		synctest.Wait()
		if ps := s.Problems(); len(ps) != 1 || ps[bad] == nil {
			t.Fatalf("problems %v", ps)
		}
		appendFile(t, filepath.Join(dir, "a.log"), "msg=a2\n")
		time.Sleep(time.Second)
		synctest.Wait()
		// The loop goes; a file takes its name.
		os.Remove(bad)
		appendFile(t, bad, "msg=b1\n")
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		if strings.Join(got, ",") != "a1,a2,b1" {
			t.Errorf("read %v", got)
		}
		mu.Unlock()
		if ps := s.Problems(); len(ps) != 0 {
			t.Errorf("problems after the fix: %v", ps)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

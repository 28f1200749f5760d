package logs

import (
	"context"
	"path/filepath"
	"strings"
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

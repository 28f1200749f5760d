package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Source is one place log entries come from: files (FileSource), a stream
// such as stdin or journalctl's output (ReaderSource), or Loki (LokiSource).
// The server's pipeline and oncall logs read every kind through it.
type Source interface {
	// Name says where the entries come from, for messages and metrics.
	Name() string
	// Stream sends entries in batches, oldest first. Without follow it
	// returns once what exists now is read; with follow it keeps reading
	// until ctx ends.
	Stream(ctx context.Context, follow bool, emit func([]Entry) error) error
}

// FileSource follows the files a glob matches, each like tail -F (rotation,
// truncation, files appearing later), polling every Interval (250ms if 0).
type FileSource struct {
	Pattern  string
	Interval time.Duration
	// FromEnd skips what the files hold when the source starts.
	FromEnd bool

	mu      sync.Mutex
	tailers map[string]*Tailer
	// failing holds, by path, why a file could not be read at the last
	// poll; the source goes on with the others and tries it again.
	failing map[string]error
}

// Problems says which files could not be read at the last poll, and why.
func (s *FileSource) Problems() map[string]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]error, len(s.failing))
	for p, err := range s.failing {
		out[p] = err
	}
	return out
}

// Name is the glob.
func (s *FileSource) Name() string { return s.Pattern }

// Stats returns the tailer counters of every file seen, by path.
func (s *FileSource) Stats() map[string]TailStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]TailStats, len(s.tailers))
	for p, t := range s.tailers {
		out[p] = t.Stats()
	}
	return out
}

// Stream implements Source.
func (s *FileSource) Stream(ctx context.Context, follow bool, emit func([]Entry) error) error {
	if _, err := filepath.Match(s.Pattern, ""); err != nil {
		return fmt.Errorf("log files %q: %w", s.Pattern, err)
	}
	interval := s.Interval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	defer func() {
		s.mu.Lock()
		for _, t := range s.tailers {
			t.Close()
		}
		s.mu.Unlock()
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := s.poll(emit); err != nil {
			return err
		}
		if !follow {
			// Read once: a file that could not be read is an error.
			var errs []error
			for _, err := range s.Problems() {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (s *FileSource) poll(emit func([]Entry) error) error {
	matches, _ := filepath.Glob(s.Pattern)
	if len(matches) == 0 {
		matches = []string{s.Pattern} // follow a file that does not exist yet
	}
	s.mu.Lock()
	if s.tailers == nil {
		s.tailers = map[string]*Tailer{}
	}
	for _, m := range matches {
		if s.tailers[m] == nil {
			s.tailers[m] = NewTailer(m, s.FromEnd)
		}
	}
	paths := make([]string, 0, len(s.tailers))
	for p := range s.tailers {
		paths = append(paths, p)
	}
	s.mu.Unlock()
	sort.Strings(paths)
	for _, p := range paths {
		s.mu.Lock()
		t := s.tailers[p]
		s.mu.Unlock()
		es, err := t.Poll()
		if len(es) > 0 {
			if err := emit(es); err != nil {
				return err
			}
		}
		// A file that cannot be read now (permissions, an I/O error) may
		// be readable at the next poll: keep following the others.
		s.mu.Lock()
		if err != nil {
			if s.failing == nil {
				s.failing = map[string]error{}
			}
			s.failing[p] = err
		} else {
			delete(s.failing, p)
		}
		s.mu.Unlock()
	}
	return nil
}

// ReaderSource parses a stream of lines — stdin, journalctl -o json — with
// the format detected from its first lines. A stream ends at EOF whether or
// not it is followed.
type ReaderSource struct {
	Label string
	R     io.Reader
}

// Name is the label.
func (s *ReaderSource) Name() string { return s.Label }

// Stream implements Source.
func (s *ReaderSource) Stream(ctx context.Context, _ bool, emit func([]Entry) error) error {
	const batch = 1000
	buf := make([]Entry, 0, batch)
	_, err := Grep(s.R, Filter{}, GrepOptions{Parse: true}, func(_ []byte, e *Entry) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.Source = s.Label
		buf = append(buf, *e)
		if len(buf) == batch {
			err := emit(buf)
			buf = make([]Entry, 0, batch)
			return err
		}
		return nil
	})
	if err == nil && len(buf) > 0 {
		err = emit(buf)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// LokiSource reads a LogQL query from Loki: the history since Since (the
// last hour if zero), then, when followed, live over the tail API.
type LokiSource struct {
	Client *Loki
	Query  string
	// Since and Until bound the history read (Since defaults to an hour ago,
	// Until to now); following continues from the end of it.
	Since, Until time.Time
	// Dropped is called with the entries Loki reports it dropped while
	// tailing (it drops when the reader is too slow).
	Dropped func(n int)
}

// Name is the query.
func (s *LokiSource) Name() string { return "loki " + s.Query }

// Stream implements Source.
func (s *LokiSource) Stream(ctx context.Context, follow bool, emit func([]Entry) error) error {
	start := s.Since
	if start.IsZero() {
		start = time.Now().Add(-time.Hour)
	}
	end := s.Until
	if end.IsZero() {
		end = time.Now()
	}
	for {
		es, err := s.Client.QueryRange(ctx, s.Query, start, end, 5000)
		if err != nil {
			return err
		}
		if len(es) > 0 {
			if err := emit(es); err != nil {
				return err
			}
			start = es[len(es)-1].Time.Add(time.Nanosecond)
		}
		if len(es) < 5000 {
			break
		}
	}
	if !follow {
		return nil
	}
	return s.Client.Tail(ctx, s.Query, end, func(es []Entry, dropped int) error {
		if dropped > 0 && s.Dropped != nil {
			s.Dropped(dropped)
		}
		if len(es) == 0 {
			return nil
		}
		return emit(es)
	})
}

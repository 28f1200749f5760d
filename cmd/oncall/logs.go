package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// logPipeline tails the configured log files (globs re-scanned as files
// appear) into a ring the API serves.
type logPipeline struct {
	patterns []string
	ring     *logs.Ring
	tailers  map[string]*logs.Tailer
}

func newLogPipeline(cfg config.Logs) (*logPipeline, error) {
	for _, p := range cfg.Files {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, err
		}
	}
	return &logPipeline{patterns: cfg.Files, ring: logs.NewRing(cfg.Buffer), tailers: map[string]*logs.Tailer{}}, nil
}

// After serves entries to the API, oldest first.
func (l *logPipeline) After(seq uint64, limit int) []logs.Entry { return l.ring.After(seq, limit) }

// Tail serves the newest entries to the API.
func (l *logPipeline) Tail(seq uint64, limit int) []logs.Entry { return l.ring.Tail(seq, limit) }

// poll reads what every file gained since the last poll.
func (l *logPipeline) poll() {
	for _, p := range l.patterns {
		matches, _ := filepath.Glob(p)
		if len(matches) == 0 {
			matches = []string{p} // follow a file that does not exist yet
		}
		for _, m := range matches {
			if l.tailers[m] == nil {
				l.tailers[m] = logs.NewTailer(m, false)
			}
		}
	}
	for _, t := range l.tailers {
		if es, _ := t.Poll(); len(es) > 0 {
			l.ring.Add(es...)
		}
	}
}

func (l *logPipeline) run(ctx context.Context) error {
	if len(l.patterns) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	defer func() {
		for _, tl := range l.tailers {
			tl.Close()
		}
	}()
	for {
		l.poll()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// logPipeline tails the configured log files (globs re-scanned as files
// appear) into a ring the API serves.
type logPipeline struct {
	patterns []string
	ring     *logs.Ring
	rules    []logRule
	mu       sync.Mutex // guards tailers, stats and rule counts
	tailers  map[string]*logs.Tailer
	stats    map[string]logs.TailStats
	// record, when set, receives each rule's count after every poll (the
	// embedded TSDB), so alerting rules can use it without a scrape.
	record func(name string, count float64, at time.Time)
}

// logRule counts the log lines that match a filter.
type logRule struct {
	name   string
	filter logs.Filter
	count  uint64
}

func newLogPipeline(cfg config.Logs) (*logPipeline, error) {
	for _, p := range cfg.Files {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, err
		}
	}
	l := &logPipeline{patterns: cfg.Files, ring: logs.NewRing(cfg.Buffer), tailers: map[string]*logs.Tailer{}, stats: map[string]logs.TailStats{}}
	for _, r := range cfg.Rules {
		f, err := logs.ParseFilter(r.Filter)
		if err != nil {
			return nil, fmt.Errorf("logs.rules %q: %w", r.Name, err)
		}
		l.rules = append(l.rules, logRule{name: r.Name, filter: f})
	}
	return l, nil
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
	for name, t := range l.tailers {
		es, _ := t.Poll()
		if len(es) > 0 {
			l.ring.Add(es...)
		}
		l.mu.Lock()
		l.stats[name] = t.Stats()
		for i := range l.rules {
			for j := range es {
				if l.rules[i].filter.Match(&es[j]) {
					l.rules[i].count++
				}
			}
		}
		l.mu.Unlock()
	}
	if l.record != nil {
		now := time.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, r := range l.rules {
			l.record(r.name, float64(r.count), now)
		}
	}
}

var (
	logLinesDesc   = prometheus.NewDesc("oncall_log_lines_total", "Log lines read, by file and outcome (read, unparsed, cut at the length limit).", []string{"file", "outcome"}, nil)
	logEventsDesc  = prometheus.NewDesc("oncall_log_file_events_total", "Rotations and truncations seen, by file.", []string{"file", "event"}, nil)
	logDroppedDesc = prometheus.NewDesc("oncall_log_buffer_dropped_total", "Log entries evicted from the in-memory buffer.", nil, nil)
	// LogMatchesMetric is what log rules count into; alerting rules use it.
	logMatchesDesc = prometheus.NewDesc(logMatchesMetric, "Log lines matching each log rule's filter.", []string{"rule"}, nil)
)

// logMatchesMetric is the counter log rules feed.
const logMatchesMetric = "oncall_log_matches_total"

// Describe implements prometheus.Collector: every dropped or unparsed line
// is visible on /metrics.
func (l *logPipeline) Describe(ch chan<- *prometheus.Desc) {
	ch <- logLinesDesc
	ch <- logEventsDesc
	ch <- logDroppedDesc
	ch <- logMatchesDesc
}

// Collect implements prometheus.Collector.
func (l *logPipeline) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, st := range l.stats {
		ch <- prometheus.MustNewConstMetric(logLinesDesc, prometheus.CounterValue, float64(st.Lines), name, "read")
		ch <- prometheus.MustNewConstMetric(logLinesDesc, prometheus.CounterValue, float64(st.Unparsed), name, "unparsed")
		ch <- prometheus.MustNewConstMetric(logLinesDesc, prometheus.CounterValue, float64(st.LongLines), name, "cut")
		ch <- prometheus.MustNewConstMetric(logEventsDesc, prometheus.CounterValue, float64(st.Rotations), name, "rotation")
		ch <- prometheus.MustNewConstMetric(logEventsDesc, prometheus.CounterValue, float64(st.Truncations), name, "truncation")
	}
	ch <- prometheus.MustNewConstMetric(logDroppedDesc, prometheus.CounterValue, float64(l.ring.Dropped()))
	for _, r := range l.rules {
		ch <- prometheus.MustNewConstMetric(logMatchesDesc, prometheus.CounterValue, float64(r.count), r.name)
	}
}

func (l *logPipeline) run(ctx context.Context) error {
	if len(l.patterns) == 0 && len(l.rules) == 0 {
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

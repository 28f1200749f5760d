package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// logPipeline reads the configured log sources into a ring the API serves,
// and counts the lines each log rule matches.
type logPipeline struct {
	sources []*logs.FileSource
	ring    *logs.Ring
	mu      sync.Mutex // guards the rule counts
	rules   []logRule
	// record, when set, receives each rule's count every second (the
	// embedded TSDB), so alerting rules can use it without a scrape.
	record func(name string, count float64, at time.Time)
	log    *slog.Logger
}

// logRule counts the log lines that match a filter.
type logRule struct {
	name   string
	filter logs.Filter
	count  uint64
}

func newLogPipeline(cfg config.Logs) (*logPipeline, error) {
	l := &logPipeline{ring: logs.NewRing(cfg.Buffer)}
	for _, p := range cfg.Files {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("logs.files %q: %w", p, err)
		}
		l.sources = append(l.sources, &logs.FileSource{Pattern: p})
	}
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

// check says whether every log file can be read: one that cannot (a
// permission, a loop, an I/O error) is followed again at every poll, and
// until then oncall is blind to its lines.
func (l *logPipeline) check(_ context.Context, _ time.Time) []health.Check {
	if len(l.sources) == 0 {
		return nil
	}
	var bad []string
	files := 0
	for _, s := range l.sources {
		files += len(s.Stats())
		for path, err := range s.Problems() {
			bad = append(bad, path+": "+err.Error())
		}
	}
	if len(bad) == 0 {
		return []health.Check{{Name: "logs", OK: true, Reason: fmt.Sprintf("%d files followed", files)}}
	}
	slices.Sort(bad)
	return []health.Check{{Name: "logs", Reason: strings.Join(bad, "; ")}}
}

// add takes one batch from a source: into the ring, and through the rules.
func (l *logPipeline) add(es []logs.Entry) error {
	l.ring.Add(es...)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.rules {
		for j := range es {
			if l.rules[i].filter.Match(&es[j]) {
				l.rules[i].count++
			}
		}
	}
	return nil
}

// recordRules hands every rule's count to record.
func (l *logPipeline) recordRules(at time.Time) {
	if l.record == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.rules {
		l.record(r.name, float64(r.count), at)
	}
}

// run follows every source until ctx is done, recording rule counts each
// second.
func (l *logPipeline) run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range l.sources {
		wg.Go(func() {
			if err := s.Stream(ctx, true, l.add); err != nil && l.log != nil {
				l.log.Error("log source stopped", "source", s.Name(), "err", err)
			}
		})
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		l.recordRules(time.Now())
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-t.C:
		}
	}
}

var (
	logLinesDesc   = prometheus.NewDesc("oncall_log_lines_total", "Log lines read, by file and outcome (read, unparsed, cut at the length limit).", []string{"file", "outcome"}, nil)
	logEventsDesc  = prometheus.NewDesc("oncall_log_file_events_total", "Rotations and truncations seen, by file.", []string{"file", "event"}, nil)
	logDroppedDesc = prometheus.NewDesc("oncall_log_buffer_dropped_total", "Log entries evicted from the in-memory buffer.", nil, nil)
	// logMatchesDesc is what log rules count into; alerting rules use it.
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
	stats := map[string]logs.TailStats{}
	for _, s := range l.sources {
		for name, st := range s.Stats() {
			stats[name] = st
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, st := range stats {
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

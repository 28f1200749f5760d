package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// Target is one /metrics endpoint the embedded scraper reads.
type Target struct {
	Job string
	URL string
}

// TargetHealth is the outcome of a target's last scrape.
type TargetHealth struct {
	Target     Target
	Up         bool
	LastScrape time.Time
	LastError  string
}

// EmbeddedOptions configure an Embedded source.
type EmbeddedOptions struct {
	// Dir is the TSDB directory; "" uses a temporary one removed by Close.
	Dir            string
	Retention      time.Duration // default 2h
	ScrapeInterval time.Duration // default 15s
	ScrapeTimeout  time.Duration // default min(10s, interval)
	Targets        []Target
	Logger         *slog.Logger
}

// Embedded scrapes its targets into an in-process TSDB and answers queries
// with the real PromQL engine — what a small Prometheus would do, in-process.
type Embedded struct {
	opts   EmbeddedOptions
	db     *tsdb.DB
	engine *promql.Engine
	client *http.Client
	tmpDir string

	mu      sync.Mutex
	targets []*targetState
}

// NewEmbedded opens the TSDB and prepares the scraper; scraping starts with
// Run or ScrapeOnce.
func NewEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.Retention <= 0 {
		opts.Retention = 2 * time.Hour
	}
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = 15 * time.Second
	}
	if opts.ScrapeTimeout <= 0 {
		opts.ScrapeTimeout = min(10*time.Second, opts.ScrapeInterval)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Embedded{opts: opts, client: &http.Client{}}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "oncall-tsdb-")
		if err != nil {
			return nil, fmt.Errorf("embedded tsdb: %w", err)
		}
		dir, e.tmpDir = d, d
	}
	tOpts := tsdb.DefaultOptions()
	tOpts.RetentionDuration = opts.Retention.Milliseconds()
	tOpts.MinBlockDuration = min(tOpts.MinBlockDuration, opts.Retention.Milliseconds())
	tOpts.MaxBlockDuration = tOpts.MinBlockDuration
	db, err := tsdb.Open(dir, nil, nil, tOpts, nil)
	if err != nil {
		e.cleanup()
		return nil, fmt.Errorf("embedded tsdb %q: %w", dir, err)
	}
	e.db = db
	e.engine = promql.NewEngine(promql.EngineOpts{
		MaxSamples: 50_000_000, Timeout: 30 * time.Second, LookbackDelta: 5 * time.Minute,
		EnableAtModifier: true, EnableNegativeOffset: true,
	})
	for _, t := range opts.Targets {
		e.targets = append(e.targets, newTargetState(t))
	}
	return e, nil
}

func (e *Embedded) cleanup() {
	if e.tmpDir != "" {
		os.RemoveAll(e.tmpDir)
	}
}

// Close closes the TSDB (and removes it when it was temporary).
func (e *Embedded) Close() error {
	err := e.db.Close()
	e.cleanup()
	return err
}

// Run scrapes every target each ScrapeInterval until ctx is done.
func (e *Embedded) Run(ctx context.Context) error {
	t := time.NewTicker(e.opts.ScrapeInterval)
	defer t.Stop()
	for {
		if err := e.ScrapeOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			e.opts.Logger.Debug("scrape", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Targets reports the health of every target.
func (e *Embedded) Targets() []TargetHealth {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]TargetHealth, len(e.targets))
	for i, t := range e.targets {
		out[i] = t.health
	}
	return out
}

// Instant evaluates expr at one instant.
func (e *Embedded) Instant(ctx context.Context, expr string, at time.Time) (Vector, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.db, nil, expr, at)
	return run(ctx, expr, q, err, func(v parser.Value) (Vector, error) { return fromPromQL(expr, v) })
}

// Range evaluates expr over [start, end] at step.
func (e *Embedded) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	q, err := e.engine.NewRangeQuery(ctx, e.db, nil, expr, start, end, step)
	return run(ctx, expr, q, err, func(v parser.Value) ([]Series, error) {
		m, ok := v.(promql.Matrix)
		if !ok {
			return nil, fmt.Errorf("query %q: range result is %s, not a matrix", expr, v.Type())
		}
		out := make([]Series, len(m))
		for i, s := range m {
			out[i].Labels = s.Metric
			for _, p := range s.Floats {
				out[i].Points = append(out[i].Points, Point{T: time.UnixMilli(p.T).UTC(), V: p.F})
			}
		}
		return out, nil
	})
}

// run executes a prepared query and converts its result before the query's
// memory is released.
func run[T any](ctx context.Context, expr string, q promql.Query, err error, convert func(parser.Value) (T, error)) (T, error) {
	var zero T
	if err != nil {
		return zero, fmt.Errorf("query %q: %w", expr, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return zero, fmt.Errorf("query %q: %w", expr, res.Err)
	}
	return convert(res.Value)
}

func fromPromQL(expr string, v parser.Value) (Vector, error) {
	switch v := v.(type) {
	case promql.Vector:
		out := make(Vector, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				continue // native histograms are not scraped by oncall
			}
			out = append(out, Sample{Labels: s.Metric, Value: s.F, T: time.UnixMilli(s.T).UTC()})
		}
		return out, nil
	case promql.Scalar:
		return Vector{{Labels: labels.EmptyLabels(), Value: v.V, T: time.UnixMilli(v.T).UTC()}}, nil
	default:
		return nil, fmt.Errorf("query %q: result is %T, want a vector or scalar", expr, v)
	}
}

// appender is the part of the TSDB the scraper writes through.
func (e *Embedded) appender(ctx context.Context) storage.Appender { return e.db.Appender(ctx) }

// staleNaN marks a series as gone, as Prometheus does.
var staleNaN = math.Float64frombits(value.StaleNaN)

// Append adds one sample directly, bypassing the scraper: for backfill
// and for rule unit tests that load their input series.
func (e *Embedded) Append(ls labels.Labels, t time.Time, v float64) error {
	app := e.appender(context.Background())
	if _, err := app.Append(0, ls, t.UnixMilli(), v); err != nil {
		app.Rollback()
		return fmt.Errorf("append %s: %w", ls, err)
	}
	return app.Commit()
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/oncallhq/oncall/telemetry/metrics/recent"
)

// Target is one /metrics endpoint the embedded scraper reads.
type Target struct {
	// Job becomes the job label of every series scraped from the target.
	Job string
	// URL is the full address of the endpoint, e.g. http://127.0.0.1:9100/metrics.
	URL string
}

// Validate reports whether the target can be scraped.
func (t Target) Validate() error {
	if t.Job == "" {
		return fmt.Errorf("target %q: job is empty", t.URL)
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q of job %q: want an http(s)://host[:port]/path url", t.URL, t.Job)
	}
	return nil
}

// TargetHealth is the outcome of a target's last scrape.
type TargetHealth struct {
	Target     Target
	Up         bool
	LastScrape time.Time // the timestamp the last scrape's samples carry
	LastError  string    // empty when the last scrape succeeded
}

// EmbeddedOptions configure an Embedded source.
type EmbeddedOptions struct {
	// Dir is the TSDB directory; "" uses a temporary one removed by Close.
	Dir string
	// Retention is how long samples are kept; default 2h.
	Retention time.Duration
	// ScrapeInterval is the period of Run; default 15s.
	ScrapeInterval time.Duration
	// ScrapeTimeout bounds one scrape of one target; default min(10s, ScrapeInterval).
	ScrapeTimeout time.Duration
	// Targets are the endpoints scraped.
	Targets []Target
	// Logger receives scrape and TSDB events; nil discards them.
	Logger *slog.Logger
}

// Default engine settings, those of a stock Prometheus.
const (
	defaultLookbackDelta = 5 * time.Minute
	defaultQueryTimeout  = 30 * time.Second
	defaultMaxSamples    = 50_000_000
	// defaultSubqueryStep is the step of a subquery written without one
	// (`x[30m:]`): Prometheus uses its evaluation interval, 1m by default.
	defaultSubqueryStep = time.Minute
)

// errClosed is returned by an Embedded used after Close.
var errClosed = errors.New("embedded metrics: closed")

// Embedded scrapes its targets into an in-process TSDB and answers queries
// with the real PromQL engine — what a small Prometheus would do, in-process.
// It is safe for concurrent use.
type Embedded struct {
	opts    EmbeddedOptions
	db      *tsdb.DB
	recent  *recent.Cache // in front of db for rules: every append goes through it
	engine  *promql.Engine
	tmpDir  string
	targets []*targetState

	// life guards closed: scrapes and queries hold it for reading, Close
	// for writing, so the TSDB is never closed under a running query.
	life   sync.RWMutex
	closed bool
}

// NewEmbedded validates opts, opens the TSDB and prepares the scraper;
// scraping starts with Run or ScrapeOnce.
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
	if opts.ScrapeTimeout > opts.ScrapeInterval {
		return nil, fmt.Errorf("embedded metrics: scrape timeout %q is longer than the scrape interval %q",
			opts.ScrapeTimeout.String(), opts.ScrapeInterval.String())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	seen := map[Target]bool{}
	e := &Embedded{opts: opts}
	for _, t := range opts.Targets {
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("embedded metrics: %w", err)
		}
		if seen[t] {
			return nil, fmt.Errorf("embedded metrics: target %q of job %q listed twice", t.URL, t.Job)
		}
		seen[t] = true
		e.targets = append(e.targets, newTargetState(t))
	}

	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "oncall-tsdb-")
		if err != nil {
			return nil, fmt.Errorf("embedded metrics: %w", err)
		}
		dir, e.tmpDir = d, d
	}
	tOpts := tsdb.DefaultOptions()
	tOpts.RetentionDuration = opts.Retention.Milliseconds()
	tOpts.MinBlockDuration = min(tOpts.MinBlockDuration, opts.Retention.Milliseconds())
	tOpts.MaxBlockDuration = tOpts.MinBlockDuration
	// The TSDB narrates WAL replays and compactions at Info; keep warnings.
	quiet := slog.New(minLevel{opts.Logger.Handler(), slog.LevelWarn})
	db, err := tsdb.Open(dir, quiet, nil, tOpts, nil)
	if err != nil {
		e.removeTmp()
		return nil, fmt.Errorf("embedded metrics: open tsdb %q: %w", dir, err)
	}
	e.db = db
	e.recent = recent.New(db, recent.Options{Lookback: defaultLookbackDelta})
	e.engine = promql.NewEngine(promql.EngineOpts{
		Logger:                   quiet,
		MaxSamples:               defaultMaxSamples,
		Timeout:                  defaultQueryTimeout,
		LookbackDelta:            defaultLookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return defaultSubqueryStep.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
	return e, nil
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled drops records below the minimum level.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the minimum level on the derived handler.
func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

// WithGroup keeps the minimum level on the derived handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

func (e *Embedded) removeTmp() {
	if e.tmpDir != "" {
		os.RemoveAll(e.tmpDir)
	}
}

// Close closes the TSDB, removing it when it was temporary. It waits for
// running scrapes and queries; later calls return nil, and later scrapes
// and queries fail.
func (e *Embedded) Close() error {
	e.life.Lock()
	defer e.life.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	err := errors.Join(e.engine.Close(), e.db.Close())
	e.removeTmp()
	if err != nil {
		return fmt.Errorf("embedded metrics: close: %w", err)
	}
	return nil
}

// Run scrapes every target now and then every ScrapeInterval, stamping
// samples with time.Now, until ctx is done; it returns ctx's error. Failed
// scrapes are logged and visible in Targets.
func (e *Embedded) Run(ctx context.Context) error {
	t := time.NewTicker(e.opts.ScrapeInterval)
	defer t.Stop()
	for {
		if err := e.ScrapeOnce(ctx, time.Now()); errors.Is(err, errClosed) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Targets reports the health of every target, in the order of the options.
func (e *Embedded) Targets() []TargetHealth {
	out := make([]TargetHealth, len(e.targets))
	for i, t := range e.targets {
		out[i] = t.Health()
	}
	return out
}

// Instant evaluates expr at one instant. A scalar result is one sample with
// empty labels; errors quote expr.
func (e *Embedded) Instant(ctx context.Context, expr string, at time.Time) (Vector, error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return nil, fmt.Errorf("query %q: %w", expr, errClosed)
	}
	q, err := e.engine.NewInstantQuery(ctx, e.db, nil, expr, at)
	return run(ctx, expr, q, err, func(v promqlValue) (Vector, error) { return instantResult(expr, v) })
}

// RuleQuery evaluates a rule's expression at t as Prometheus's rule
// manager does against its own TSDB: PromQL's vector (or a scalar as one
// sample), with no conversion on the way.
func (e *Embedded) RuleQuery(ctx context.Context, expr string, t time.Time) (promql.Vector, error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return nil, fmt.Errorf("query %q: %w", expr, errClosed)
	}
	return rules.EngineQueryFunc(e.engine, e.recent)(ctx, expr, t)
}

// Query evaluates expr at one instant, whatever the type of its result;
// errors quote expr.
func (e *Embedded) Query(ctx context.Context, expr string, at time.Time) (Result, error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return Result{}, fmt.Errorf("query %q: %w", expr, errClosed)
	}
	q, err := e.engine.NewInstantQuery(ctx, e.db, nil, expr, at)
	return run(ctx, expr, q, err, anyResult(at))
}

// Range evaluates expr over [start, end] at step; errors quote expr.
func (e *Embedded) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return nil, fmt.Errorf("query %q: %w", expr, errClosed)
	}
	q, err := e.engine.NewRangeQuery(ctx, e.db, nil, expr, start, end, step)
	return run(ctx, expr, q, err, func(v promqlValue) ([]Series, error) { return rangeResult(expr, v) })
}

// Append writes one sample directly, bypassing the scraper: for backfill
// and for rule unit tests that load their input series. Staleness markers
// are not written for such series.
func (e *Embedded) Append(ls labels.Labels, t time.Time, v float64) error {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	app := e.recent.Appender(context.Background())
	if _, err := app.Append(0, ls, t.UnixMilli(), v); err != nil {
		app.Rollback()
		return fmt.Errorf("append %s: %w", ls, err)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("append %s: %w", ls, err)
	}
	return nil
}

// AppenderV2 appends to the TSDB: rules write their recorded series and
// the ALERTS and ALERTS_FOR_STATE series through it.
func (e *Embedded) AppenderV2(ctx context.Context) storage.AppenderV2 {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return closedAppender{}
	}
	return e.recent.AppenderV2(ctx)
}

// Collector is the metrics of the cache rules query through: what answered
// their selects, and what it holds.
func (e *Embedded) Collector() prometheus.Collector { return e.recent }

// closedAppender refuses every sample: the TSDB is closed.
type closedAppender struct{}

func (closedAppender) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, errClosed
}
func (closedAppender) Commit() error   { return errClosed }
func (closedAppender) Rollback() error { return nil }

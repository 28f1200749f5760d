package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
)

// acceptHeader prefers the Prometheus text format and takes OpenMetrics
// from targets that only speak that.
const acceptHeader = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// maxBody bounds what one scrape reads.
const maxBody = 64 << 20

// staleNaN marks a series as gone, as Prometheus does.
var staleNaN = math.Float64frombits(value.StaleNaN)

// scrapeClient is shared by all targets; timeouts come from the context.
var scrapeClient = &http.Client{}

// reportNames are the series Prometheus adds for every scrape, in the order
// scrapeTarget fills their values.
var reportNames = [...]string{
	"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added",
}

// targetState is what the scraper remembers of one target between scrapes.
type targetState struct {
	target   Target
	instance string
	report   [len(reportNames)]labels.Labels

	// scrapeMu serialises scrapes of this target; it guards the fields below.
	scrapeMu sync.Mutex
	// series are the series the last scrape wrote, by the hash of their
	// exposed labels: those missing from the next scrape get a staleness
	// marker, and the TSDB reference saves a lookup per sample.
	series     map[uint64]cachedSeries
	reportRefs [len(reportNames)]storage.SeriesRef

	healthMu sync.Mutex
	health   TargetHealth
}

type cachedSeries struct {
	exposed labels.Labels // as the target exposed it
	stored  labels.Labels // with job and instance
	ref     storage.SeriesRef
}

func newTargetState(t Target) *targetState {
	ts := &targetState{target: t, instance: t.URL, series: map[uint64]cachedSeries{}, health: TargetHealth{Target: t}}
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		ts.instance = u.Host
	}
	for i, name := range reportNames {
		ts.report[i] = labels.FromStrings(model.MetricNameLabel, name, "instance", ts.instance, "job", t.Job)
	}
	return ts
}

// Health returns the outcome of the last scrape.
func (ts *targetState) Health() TargetHealth {
	ts.healthMu.Lock()
	defer ts.healthMu.Unlock()
	return ts.health
}

// ScrapeOnce scrapes every target once, concurrently, stamping the samples
// with at, as one Prometheus scrape would: every series gets the job and
// instance (host:port) labels of its target, and up, scrape_duration_seconds,
// scrape_samples_scraped, scrape_samples_post_metric_relabeling and
// scrape_series_added are written per target. A series missing from a
// target's answer, or every series of a target that failed, gets a staleness
// marker. Samples older than what the TSDB holds are dropped. The errors of
// all failed targets are returned joined.
func (e *Embedded) ScrapeOnce(ctx context.Context, at time.Time) error {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	errs := make([]error, len(e.targets))
	var wg sync.WaitGroup
	for i, ts := range e.targets {
		wg.Go(func() { errs[i] = e.scrapeTarget(ctx, ts, at) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Embedded) scrapeTarget(ctx context.Context, ts *targetState, at time.Time) error {
	ts.scrapeMu.Lock()
	defer ts.scrapeMu.Unlock()

	start := time.Now()
	samples, scrapeErr := e.fetch(ctx, ts.target)
	took := time.Since(start)

	t := at.UnixMilli()
	app := e.recent.Appender(ctx)
	next := make(map[uint64]cachedSeries, len(samples))
	added, rejected := 0, 0
	for _, s := range samples {
		h := s.Labels.Hash()
		c, ok := ts.series[h]
		if !ok || !labels.Equal(c.exposed, s.Labels) {
			c = cachedSeries{exposed: s.Labels, stored: ts.withTargetLabels(s.Labels)}
			added++
		}
		ref, err := app.Append(c.ref, c.stored, t, s.Value)
		if err != nil {
			rejected++ // out of order or duplicate: Prometheus drops those too
		} else {
			c.ref = ref
		}
		next[h] = c // still exposed, so not stale, even when rejected
	}
	for h, c := range ts.series {
		if _, ok := next[h]; !ok {
			app.Append(c.ref, c.stored, t, staleNaN) // an older at is rejected, as above
		}
	}
	ts.series = next

	up := 1.0
	if scrapeErr != nil {
		up = 0
	}
	values := [len(reportNames)]float64{up, took.Seconds(), float64(len(samples)), float64(len(samples)), float64(added)}
	for i, v := range values {
		if ref, err := app.Append(ts.reportRefs[i], ts.report[i], t, v); err == nil {
			ts.reportRefs[i] = ref
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("scrape %q: commit: %w", ts.target.URL, err)
	}
	if rejected > 0 {
		e.opts.Logger.Debug("scrape: samples dropped", "target", ts.target.URL, "count", rejected, "at", at)
	}
	ts.setHealth(e, at, scrapeErr)
	if scrapeErr != nil {
		return fmt.Errorf("scrape %q: %w", ts.target.URL, scrapeErr)
	}
	return nil
}

// setHealth records the scrape's outcome and logs changes of state.
func (ts *targetState) setHealth(e *Embedded, at time.Time, err error) {
	ts.healthMu.Lock()
	defer ts.healthMu.Unlock()
	wasUp, first := ts.health.Up, ts.health.LastScrape.IsZero()
	ts.health = TargetHealth{Target: ts.target, Up: err == nil, LastScrape: at}
	switch {
	case err != nil:
		ts.health.LastError = err.Error()
		if wasUp || first {
			e.opts.Logger.Warn("scrape target down", "job", ts.target.Job, "target", ts.target.URL, "err", err)
		}
	case !wasUp && !first:
		e.opts.Logger.Info("scrape target up", "job", ts.target.Job, "target", ts.target.URL)
	}
}

// withTargetLabels adds job and instance; an exposed label of the same name
// is kept as exported_<name>, as Prometheus does without honor_labels.
func (ts *targetState) withTargetLabels(exposed labels.Labels) labels.Labels {
	b := labels.NewBuilder(exposed)
	for _, l := range [...]labels.Label{{Name: "job", Value: ts.target.Job}, {Name: "instance", Value: ts.instance}} {
		if v := exposed.Get(l.Name); v != "" {
			name := "exported_" + l.Name
			for exposed.Has(name) {
				name = "exported_" + name
			}
			b.Set(name, v)
		}
		b.Set(l.Name, l.Value)
	}
	return b.Labels()
}

// fetch reads and parses the target's exposition within the scrape timeout.
func (e *Embedded) fetch(ctx context.Context, t Target) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("%g", e.opts.ScrapeTimeout.Seconds()))
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil, fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("body exceeds %d bytes", maxBody)
	}
	return parseBody(resp.Header.Get("Content-Type"), body)
}

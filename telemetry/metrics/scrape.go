package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// targetState is what the scraper remembers of one target between scrapes:
// the series it exposed last time, so the ones that vanish get a staleness
// marker.
type targetState struct {
	target   Target
	instance string
	last     map[uint64]labels.Labels
	health   TargetHealth
}

func newTargetState(t Target) *targetState {
	inst := t.URL
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		inst = u.Host
	}
	return &targetState{target: t, instance: inst, last: map[uint64]labels.Labels{}, health: TargetHealth{Target: t}}
}

// ScrapeOnce scrapes every target once, stamping samples with at. A target
// that fails gets up=0 and its series are marked stale; the errors of all
// targets are returned joined.
func (e *Embedded) ScrapeOnce(ctx context.Context, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, ts := range e.targets {
		if err := e.scrapeTarget(ctx, ts, at); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *Embedded) scrapeTarget(ctx context.Context, ts *targetState, at time.Time) error {
	start := time.Now()
	samples, scrapeErr := e.fetch(ctx, ts)
	took := time.Since(start)
	app := e.appender(ctx)
	t := at.UnixMilli()
	seen := make(map[uint64]labels.Labels, len(samples))
	for _, s := range samples {
		b := labels.NewBuilder(s.Labels)
		b.Set("job", ts.target.Job)
		b.Set("instance", ts.instance)
		ls := b.Labels()
		if _, err := app.Append(0, ls, t, s.Value); err != nil {
			continue // out of order or duplicate: Prometheus drops those too
		}
		seen[ls.Hash()] = ls
	}
	for h, ls := range ts.last {
		if _, ok := seen[h]; !ok {
			app.Append(0, ls, t, staleNaN)
		}
	}
	ts.last = seen
	up := 1.0
	ts.health = TargetHealth{Target: ts.target, Up: true, LastScrape: at}
	if scrapeErr != nil {
		up = 0
		ts.health.Up, ts.health.LastError = false, scrapeErr.Error()
	}
	for name, v := range map[string]float64{"up": up, "scrape_duration_seconds": took.Seconds(), "scrape_samples_scraped": float64(len(samples))} {
		app.Append(0, labels.FromStrings("__name__", name, "job", ts.target.Job, "instance", ts.instance), t, v)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("scrape %q: commit: %w", ts.target.URL, err)
	}
	if scrapeErr != nil {
		return fmt.Errorf("scrape %q: %w", ts.target.URL, scrapeErr)
	}
	return nil
}

func (e *Embedded) fetch(ctx context.Context, ts *targetState) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.target.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return ParseExposition(io.LimitReader(resp.Body, 256<<20))
}

// ParseExposition parses the Prometheus text exposition format into samples
// named the way Prometheus stores them (histograms as _bucket/_sum/_count).
func ParseExposition(r io.Reader) ([]Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	var out []Sample
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			base := make([]string, 0, 2+2*len(m.GetLabel()))
			for _, lp := range m.GetLabel() {
				base = append(base, lp.GetName(), lp.GetValue())
			}
			add := func(suffix string, v float64, extra ...string) {
				kv := append(append([]string{"__name__", name + suffix}, base...), extra...)
				out = append(out, Sample{Labels: labels.FromStrings(kv...), Value: v})
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					add("_bucket", float64(b.GetCumulativeCount()), "le", formatFloat(b.GetUpperBound()))
				}
				if !inf {
					add("_bucket", float64(h.GetSampleCount()), "le", "+Inf")
				}
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add("", q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
				}
				add("_sum", s.GetSampleSum())
				add("_count", float64(s.GetSampleCount()))
			default:
				add("", m.GetUntyped().GetValue())
			}
		}
	}
	return out, nil
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

package alerts

import (
	"context"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// savedState shows the state an Engine was started with as the
// ALERTS_FOR_STATE series a Prometheus group restores its for-state from:
// for each pending or firing alert, one sample at the last evaluation it
// was seen active, whose value is when it became active.
type savedState struct{ e *Engine }

func (s savedState) Querier(mint, maxt int64) (storage.Querier, error) {
	s.e.mu.Lock()
	saved := slices.Clone(s.e.saved)
	s.e.mu.Unlock()
	var series []storage.Series
	for _, a := range saved {
		if a.State != StatePending && a.State != StateFiring {
			continue
		}
		t := a.LastSeenAt.UnixMilli()
		if t < mint || t > maxt {
			continue
		}
		b := labels.NewBuilder(a.Labels)
		b.Set(labels.MetricName, "ALERTS_FOR_STATE")
		series = append(series, storage.NewListSeries(b.Labels(), []chunks.Sample{fsample{t: t, f: float64(a.ActiveAt.Unix())}}))
	}
	return stateQuerier{series}, nil
}

type stateQuerier struct{ series []storage.Series }

func (q stateQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range q.series {
		ls := s.Labels()
		if slices.IndexFunc(ms, func(m *labels.Matcher) bool { return !m.Matches(ls.Get(m.Name)) }) < 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &listSet{series: out, i: -1}
}

func (stateQuerier) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (stateQuerier) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (stateQuerier) Close() error { return nil }

type listSet struct {
	series []storage.Series
	i      int
}

func (l *listSet) Next() bool                        { l.i++; return l.i < len(l.series) }
func (l *listSet) At() storage.Series                { return l.series[l.i] }
func (l *listSet) Err() error                        { return nil }
func (l *listSet) Warnings() annotations.Annotations { return nil }

// fsample is one float sample.
type fsample struct {
	t int64
	f float64
}

func (s fsample) T() int64                      { return s.t }
func (s fsample) F() float64                    { return s.f }
func (s fsample) H() *histogram.Histogram       { return nil }
func (s fsample) FH() *histogram.FloatHistogram { return nil }
func (s fsample) ST() int64                     { return 0 }
func (s fsample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s fsample) Copy() chunks.Sample           { return s }

// discard is an Appendable that keeps nothing.
type discard struct{}

func (discard) AppenderV2(context.Context) storage.AppenderV2 { return discardAppender{} }

type discardAppender struct{}

func (discardAppender) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, nil
}
func (discardAppender) Commit() error   { return nil }
func (discardAppender) Rollback() error { return nil }

package recent

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// batch is what an appender took, for the arrays once it is committed.
type batch struct {
	c       *Cache
	samples []sample
	taints  []storage.SeriesRef
}

func (b *batch) float(ref storage.SeriesRef, t int64, v float64) {
	b.samples = append(b.samples, sample{ref: ref, t: t, v: v})
}

func (b *batch) taint(ref storage.SeriesRef) { b.taints = append(b.taints, ref) }

// commit commits db's transaction and then the batch to the arrays.
func (b *batch) commit(db storage.AppenderTransaction) error {
	defer b.reset()
	return b.c.commit(b.samples, b.taints, db.Commit)
}

// rollback forgets the batch and rolls db's transaction back.
func (b *batch) rollback(db storage.AppenderTransaction) error {
	b.reset()
	return db.Rollback()
}

// reset empties the batch, its array going back to the pool.
func (b *batch) reset() {
	if cap(b.samples) > 0 && cap(b.samples) <= 1<<20 {
		s := b.samples[:0]
		samplePool.Put(&s)
	}
	b.samples, b.taints = nil, b.taints[:0]
}

// samplePool holds the arrays of finished batches: a scrape's appender
// would otherwise grow one to the size of the scrape every time.
var samplePool sync.Pool

func newBatch(c *Cache) batch {
	b := batch{c: c}
	if p, ok := samplePool.Get().(*[]sample); ok {
		b.samples = (*p)[:0]
	}
	return b
}

// Appender is the TSDB's appender; the samples it commits reach the arrays.
func (c *Cache) Appender(ctx context.Context) storage.Appender {
	return &appender{Appender: c.db.Appender(ctx), b: newBatch(c)}
}

// appender passes everything to the TSDB's appender and notes the samples
// it took: floats for the arrays, anything else as a taint of the series.
type appender struct {
	storage.Appender
	b batch
}

func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	ref, err := a.Appender.Append(ref, l, t, v)
	if err == nil {
		a.b.float(ref, t, v)
	}
	return ref, err
}

func (a *appender) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	ref, err := a.Appender.AppendHistogram(ref, l, t, h, fh)
	if err == nil {
		a.b.taint(ref)
	}
	return ref, err
}

func (a *appender) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	ref, err := a.Appender.AppendSTZeroSample(ref, l, t, st)
	if err == nil {
		a.b.taint(ref)
	}
	return ref, err
}

func (a *appender) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	ref, err := a.Appender.AppendHistogramSTZeroSample(ref, l, t, st, h, fh)
	if err == nil {
		a.b.taint(ref)
	}
	return ref, err
}

func (a *appender) Commit() error   { return a.b.commit(a.Appender) }
func (a *appender) Rollback() error { return a.b.rollback(a.Appender) }

// AppenderV2 is the TSDB's appender of the second kind; the samples it
// commits reach the arrays.
func (c *Cache) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &appenderV2{app: c.db.AppenderV2(ctx), b: newBatch(c)}
}

type appenderV2 struct {
	app storage.AppenderV2
	b   batch
}

func (a *appenderV2) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	ref, err := a.app.Append(ref, ls, st, t, v, h, fh, opts)
	var partial *storage.AppendPartialError
	if err != nil && !errors.As(err, &partial) {
		return ref, err // the sample was not taken
	}
	if h != nil || fh != nil {
		a.b.taint(ref)
	} else {
		a.b.float(ref, t, v)
	}
	return ref, err
}

func (a *appenderV2) Commit() error   { return a.b.commit(a.app) }
func (a *appenderV2) Rollback() error { return a.b.rollback(a.app) }

package recent

import (
	"context"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// Querier is a querier of [mint, maxt]: selects the arrays can answer are
// answered from them, the others by the TSDB's querier. It holds the
// Cache's lock for reading until Close, so that no commit changes a cached
// series under a query (the TSDB's isolation does the same for its own).
func (c *Cache) Querier(mint, maxt int64) (storage.Querier, error) {
	c.mu.RLock()
	return &querier{c: c, mint: mint, maxt: maxt}, nil
}

type querier struct {
	c          *Cache
	mint, maxt int64
	db         storage.Querier // the TSDB's, made at the first select it answers
	ix         tsdb.IndexReader
	blocks     int // 0 not looked at, 1 none overlaps, 2 some do
	sets       []*seriesSet
	closed     bool
}

// tsdb is the TSDB's querier of the same range. Made under the read lock,
// it sees the cached series as the arrays hold them; the others may have
// moved on since the querier was made, as if the query had started now.
func (q *querier) tsdb() (storage.Querier, error) {
	if q.db == nil {
		db, err := q.c.db.Querier(q.mint, q.maxt)
		if err != nil {
			return nil, err
		}
		q.db = db
	}
	return q.db, nil
}

func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if q.closed {
		return storage.ErrSeriesSet(errClosed)
	}
	if ss, ok := q.serve(ctx, sortSeries, hints, ms); ok {
		q.c.served.Add(1)
		return ss
	}
	q.c.fallback.Add(1)
	db, err := q.tsdb()
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	return db.Select(ctx, sortSeries, hints, ms...)
}

// serve answers a select from the arrays when they hold, for every series
// it selects, each sample the TSDB would return, or — for an instant
// vector selector — each one PromQL reads: the newest at or before each
// evaluation time.
func (q *querier) serve(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms []*labels.Matcher) (_ storage.SeriesSet, ok bool) {
	if hints == nil || hints.Func == "series" || hints.DisableTrimming || hints.ShardCount > 0 {
		return nil, false
	}
	start, end := hints.Start, hints.End
	instant := hints.Range == 0 && q.c.lookback > 0
	if q.overlapsBlock() || (!instant && start < q.c.db.Head().MinTime()) {
		return nil, false
	}
	// first is the first evaluation time of an instant vector selector.
	first := start + q.c.lookback - 1
	if n := q.c.newest.Load(); hints.Range > 0 && n > start {
		q.c.stretch(n - start)
	}
	if q.ix == nil {
		ix, err := q.c.db.Head().Index()
		if err != nil {
			return nil, false
		}
		q.ix = ix
	}
	p, err := tsdb.PostingsForMatchers(ctx, q.ix, ms...)
	if err != nil {
		return nil, false
	}
	if sortSeries {
		p = q.ix.SortedPostings(p)
	}
	set := &seriesSet{series: getSeries()}
	defer func() {
		if !ok {
			putSeries(set.series)
		}
	}()
	bare := barable(hints, ms)
	missing := false
	for p.Next() {
		ref := p.At()
		r := q.c.series[ref]
		switch {
		case r == nil:
			q.c.want(ref, start)
			missing = true
			continue
		case r.from == tainted:
			return nil, false
		case r.from > start && !(instant && len(r.p) > 0 && r.p[0].t <= first):
			missing = true
			continue
		}
		if missing {
			continue
		}
		lo, hi := r.p.within(start, end)
		if lo == hi {
			continue // the TSDB may return it, with no samples: PromQL skips it
		}
		ls := r.ls
		if bare {
			ls = r.bare
		}
		set.series = append(set.series, series{ls: ls, p: r.p[lo:hi]})
	}
	if p.Err() != nil || missing {
		return nil, false
	}
	q.sets = append(q.sets, set)
	return set, true
}

// seriesPool holds the slices served selects return, for the next ones
// once their querier is closed: a rule's select per evaluation would
// otherwise allocate one for every series it selects.
var seriesPool sync.Pool

func getSeries() []series {
	if p, ok := seriesPool.Get().(*[]series); ok {
		return (*p)[:0]
	}
	return nil
}

func putSeries(s []series) {
	if cap(s) == 0 || cap(s) > 1<<16 {
		return
	}
	clear(s[:cap(s)])
	s = s[:0]
	seriesPool.Put(&s)
}

// barable reports whether a select may return its series without their
// metric name: the range of a rate or an increase, whose result has no
// name, of a selector that names one metric. PromQL then gives the same
// result, without the "possible non-counter" note (that rules never read)
// it would make per series and evaluation.
func barable(hints *storage.SelectHints, ms []*labels.Matcher) bool {
	if hints.Range <= 0 || (hints.Func != "rate" && hints.Func != "increase") {
		return false
	}
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return true
		}
	}
	return false
}

// overlapsBlock reports whether a persisted block overlaps the querier's
// range: the arrays hold only what the head does, and the TSDB's querier
// would then merge the head's series with the block's, in label order.
func (q *querier) overlapsBlock() bool {
	if q.blocks == 0 {
		q.blocks = 1
		for _, b := range q.c.db.Blocks() {
			if m := b.Meta(); m.MinTime <= q.maxt && q.mint <= m.MaxTime {
				q.blocks = 2
				break
			}
		}
	}
	return q.blocks == 2
}

func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	db, err := q.tsdb()
	if err != nil {
		return nil, nil, err
	}
	return db.LabelValues(ctx, name, hints, ms...)
}

func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	db, err := q.tsdb()
	if err != nil {
		return nil, nil, err
	}
	return db.LabelNames(ctx, hints, ms...)
}

// Close releases the TSDB's querier and the Cache's lock.
func (q *querier) Close() error {
	if q.closed {
		return nil
	}
	q.closed = true
	for _, s := range q.sets {
		putSeries(s.series)
		s.series = nil
	}
	var err error
	if q.ix != nil {
		err = q.ix.Close()
	}
	if q.db != nil {
		if e := q.db.Close(); err == nil {
			err = e
		}
	}
	q.c.mu.RUnlock()
	return err
}

// seriesSet is the series a served select found, in the TSDB's order.
type seriesSet struct {
	series []series
	i      int
}

func (s *seriesSet) Next() bool {
	if s.i >= len(s.series) {
		return false
	}
	s.i++
	return true
}

func (s *seriesSet) At() storage.Series                { return &s.series[s.i-1] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// series is one series' samples within a select's range, shared with the
// arrays: they do not change until the querier is closed.
type series struct {
	ls labels.Labels
	p  points
}

func (s *series) Labels() labels.Labels { return s.ls }

func (s *series) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	if it, ok := reuse.(*iterator); ok {
		*it = iterator{p: s.p, i: -1}
		return it
	}
	return &iterator{p: s.p, i: -1}
}

// point is one float sample.
type point struct {
	t int64
	f float64
}

// points are a series' samples in order.
type points []point

// millis is a time in milliseconds. Seek's parameter is spelt with it
// because vet's stdmethods check takes any Seek(int64) for io.Seeker's.
type millis = int64

// iterator walks a series' samples: a chunkenc.Iterator over plain memory.
type iterator struct {
	p points
	i int // -1 before the first Next or Seek
}

func (it *iterator) Next() chunkenc.ValueType {
	if it.i < len(it.p) {
		it.i++
	}
	if it.i < len(it.p) {
		return chunkenc.ValFloat
	}
	return chunkenc.ValNone
}

func (it *iterator) Seek(t millis) chunkenc.ValueType {
	if it.i >= len(it.p) {
		return chunkenc.ValNone
	}
	it.i = max(it.i, 0)
	for it.i < len(it.p) && it.p[it.i].t < t {
		it.i++
	}
	if it.i < len(it.p) {
		return chunkenc.ValFloat
	}
	return chunkenc.ValNone
}

func (it *iterator) At() (int64, float64) { return it.p[it.i].t, it.p[it.i].f }

func (it *iterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	return it.p[it.i].t, nil
}

func (it *iterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.p[it.i].t, nil
}

func (it *iterator) AtT() int64  { return it.p[it.i].t }
func (it *iterator) AtST() int64 { return 0 }
func (it *iterator) Err() error  { return nil }

// within is the samples in [start, end]: p[lo:hi]. Selects read the newest
// samples, so it looks from the end.
func (p points) within(start, end int64) (lo, hi int) {
	hi = len(p)
	for hi > 0 && p[hi-1].t > end {
		hi--
		if len(p)-hi > 8 {
			hi = sort.Search(hi, func(i int) bool { return p[i].t > end })
			break
		}
	}
	lo = hi
	for lo > 0 && p[lo-1].t >= start {
		lo--
		if hi-lo > 32 {
			lo = sort.Search(lo, func(i int) bool { return p[i].t >= start })
			break
		}
	}
	return lo, hi
}

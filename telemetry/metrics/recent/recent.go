// Package recent keeps the newest samples of the series rules read, decoded,
// beside the TSDB that holds them, and answers PromQL's selects from them
// exactly as the TSDB would.
//
// A rule evaluated every interval reads the same few minutes of the same
// series again and again; from the TSDB each read decodes a chunk (up to
// 120 samples) from its start to reach the window. The Cache keeps those
// minutes as plain arrays, filled by the appenders it hands out (every
// sample the TSDB takes goes through them) and, the first time a series is
// asked for, from the TSDB itself. A select is served from the arrays only
// when they provably hold every sample the TSDB would return (or, for an
// instant vector selector, every sample PromQL looks at); otherwise it goes
// to the TSDB. Either way PromQL gets the same samples, so results are the
// same to the bit.
//
// Consistency is the TSDB's isolation: a commit that writes a cached series
// holds the Cache's lock for writing, a querier holds it for reading from
// its creation to Close, so one query sees one state of every series.
package recent

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// Options configure a Cache.
type Options struct {
	// Lookback is PromQL's lookback delta for instant vector selectors: a
	// select of one is served when the arrays hold the newest sample at or
	// before the first evaluation time (zero: only when they hold the whole
	// lookback window). No query through the Cache may have a shorter one.
	Lookback time.Duration
	// MaxWindow bounds how far back of a series' newest sample the Cache
	// keeps samples (default 10 minutes). It keeps as much as the range
	// selects it served asked for, up to this; longer ranges go to the TSDB.
	MaxWindow time.Duration
}

// Cache is the recent samples of the series selects asked for. It is a
// storage.Queryable; its appenders must be the only way samples reach db,
// which must not accept out-of-order samples nor turn start timestamps
// into zero samples (tsdb.DefaultOptions).
type Cache struct {
	db        *tsdb.DB
	lookback  int64 // ms
	maxWindow int64 // ms

	// mu is held for writing by commits that write cached series (and
	// adopt wanted ones), for reading by queriers and other commits.
	mu     sync.RWMutex
	series map[storage.SeriesRef]*ring

	// keep is how many ms behind a series' newest sample are kept.
	keep atomic.Int64
	// newest is the newest sample time committed.
	newest atomic.Int64

	wantMu sync.Mutex
	wanted map[storage.SeriesRef]int64 // ref → from when to load it

	commits int // under mu (write): commits since the last sweep

	served, fallback atomic.Int64
}

// minKeep is the least the Cache keeps behind a series' newest sample.
const minKeep = int64(time.Minute / time.Millisecond)

// New is a Cache of db's samples, empty until selects ask for series.
func New(db *tsdb.DB, o Options) *Cache {
	if o.MaxWindow <= 0 {
		o.MaxWindow = 10 * time.Minute
	}
	c := &Cache{db: db, lookback: o.Lookback.Milliseconds(), maxWindow: o.MaxWindow.Milliseconds(),
		series: map[storage.SeriesRef]*ring{}, wanted: map[storage.SeriesRef]int64{}}
	c.keep.Store(min(minKeep, c.maxWindow))
	c.newest.Store(math.MinInt64)
	return c
}

// Stats count what the Cache did.
type Stats struct {
	// Served and Fallback count the selects answered from the arrays and
	// from the TSDB.
	Served, Fallback int64
	// Series and Samples are what the arrays hold now.
	Series, Samples int
}

// Stats reports what the Cache did and holds.
func (c *Cache) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := Stats{Served: c.served.Load(), Fallback: c.fallback.Load(), Series: len(c.series)}
	for _, r := range c.series {
		s.Samples += len(r.p)
	}
	return s
}

// ring is the newest samples of one series: every sample of it at or after
// from is in p, in order.
type ring struct {
	from int64
	p    points
	// ls are the series' labels, bare the same without the metric name.
	ls, bare labels.Labels
}

// tainted marks a series the arrays cannot answer for (it has histogram
// samples, or its samples came another way).
const tainted = math.MaxInt64

func (r *ring) taint() { r.from, r.p = tainted, nil }

// push appends a committed sample, as the TSDB's head takes it: one at or
// before the newest is dropped (the head drops it at commit, or refused it
// at append), then trims to keep ms behind the newest.
func (r *ring) push(t int64, v float64, keep int64) {
	if r.from == tainted {
		return
	}
	if n := len(r.p); n > 0 && t <= r.p[n-1].t {
		return
	}
	if len(r.p) == cap(r.p) {
		r.trim(t, keep, len(r.p)/4)
	}
	r.p = append(r.p, point{t: t, f: v})
}

// trim drops the samples older than keep ms behind newest (but keeps two,
// for instant selectors), moving the rest to the front of the arrays, when
// that frees at least least slots (else the arrays grow).
func (r *ring) trim(newest, keep int64, least int) {
	k := 0
	for k < len(r.p)-2 && r.p[k].t < newest-keep {
		k++
	}
	if k == 0 || k < least {
		return
	}
	r.from = r.p[k-1].t + 1
	r.p = r.p[:copy(r.p, r.p[k:])]
}

// sample is one float sample an appender took.
type sample struct {
	ref storage.SeriesRef
	t   int64
	v   float64
}

// commit commits a batch through commitDB, and then puts its samples in
// the arrays of the series that have them; taints are series that got
// samples of another kind.
func (c *Cache) commit(batch []sample, taints []storage.SeriesRef, commitDB func() error) error {
	defer c.note(batch)
	c.mu.RLock()
	if !c.touches(batch, taints) && !c.wants() {
		defer c.mu.RUnlock()
		return commitDB()
	}
	c.mu.RUnlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if err := commitDB(); err != nil {
		return err
	}
	keep := c.keep.Load()
	for _, s := range batch {
		if r := c.series[s.ref]; r != nil {
			r.push(s.t, s.v, keep)
		}
	}
	for _, ref := range taints {
		if r := c.series[ref]; r != nil {
			r.taint()
		}
	}
	c.adopt()
	c.commits++
	if c.commits >= sweepEvery {
		c.commits = 0
		c.sweep()
	}
	return nil
}

// note moves newest on to the newest sample of a batch.
func (c *Cache) note(batch []sample) {
	var t int64 = math.MinInt64
	for _, s := range batch {
		t = max(t, s.t)
	}
	for {
		n := c.newest.Load()
		if t <= n || c.newest.CompareAndSwap(n, t) {
			return
		}
	}
}

// touches reports whether a batch writes a cached series (mu held).
func (c *Cache) touches(batch []sample, taints []storage.SeriesRef) bool {
	if len(c.series) == 0 {
		return false
	}
	for _, s := range batch {
		if c.series[s.ref] != nil {
			return true
		}
	}
	for _, ref := range taints {
		if c.series[ref] != nil {
			return true
		}
	}
	return false
}

// wants reports whether selects asked for series not yet cached.
func (c *Cache) wants() bool {
	c.wantMu.Lock()
	defer c.wantMu.Unlock()
	return len(c.wanted) > 0
}

// want asks for ref to be cached from from on, at the next commit.
func (c *Cache) want(ref storage.SeriesRef, from int64) {
	c.wantMu.Lock()
	defer c.wantMu.Unlock()
	if f, ok := c.wanted[ref]; !ok || from < f {
		c.wanted[ref] = from
	}
}

// adopt loads the wanted series from the TSDB's head (mu held for
// writing: no commit runs, so what it reads is all there is).
func (c *Cache) adopt() {
	c.wantMu.Lock()
	wanted := c.wanted
	c.wanted = map[storage.SeriesRef]int64{}
	c.wantMu.Unlock()
	if len(wanted) == 0 {
		return
	}
	head := c.db.Head()
	ix, err := head.Index()
	if err != nil {
		return
	}
	defer ix.Close()
	cr, err := head.Chunks()
	if err != nil {
		return
	}
	defer cr.Close()
	// The head holds every sample from its start on (older ones are in
	// blocks); a select reaching before it goes to the TSDB.
	hmin := head.MinTime()
	var (
		b    labels.ScratchBuilder
		chks []chunks.Meta
		it   chunkenc.Iterator
	)
	for ref, from := range wanted {
		if c.series[ref] != nil || ix.Series(ref, &b, &chks) != nil {
			continue
		}
		ls := b.Labels()
		r := &ring{from: max(from, hmin), ls: ls, bare: labels.NewBuilder(ls).Del(labels.MetricName).Labels()}
		if it = r.load(cr, chks, it); it != nil && it.Err() != nil {
			continue
		}
		c.series[ref] = r
	}
}

// load reads the samples from r.from on out of a series' head chunks.
func (r *ring) load(cr tsdb.ChunkReader, chks []chunks.Meta, it chunkenc.Iterator) chunkenc.Iterator {
	for _, m := range chks {
		if m.MaxTime < r.from {
			continue
		}
		chk, iterable, err := cr.ChunkOrIterable(m)
		if err != nil {
			r.taint()
			return it
		}
		if chk != nil {
			it = chk.Iterator(it)
		} else {
			it = iterable.Iterator(it)
		}
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				r.taint()
				return it
			}
			if t, v := it.At(); t >= r.from && (len(r.p) == 0 || t > r.p[len(r.p)-1].t) {
				r.p = append(r.p, point{t: t, f: v})
			}
		}
		if it.Err() != nil {
			return it
		}
	}
	return it
}

// sweepEvery is how many writing commits pass between sweeps.
const sweepEvery = 64

// sweep forgets the series whose newest sample the head no longer holds
// (mu held for writing): the head has dropped them or soon will.
func (c *Cache) sweep() {
	hmin := c.db.Head().MinTime()
	for ref, r := range c.series {
		if r.from != tainted && (len(r.p) == 0 || r.p[len(r.p)-1].t < hmin) {
			delete(c.series, ref)
		}
	}
}

// stretch makes the Cache keep depth ms behind a series' newest sample,
// with some slack for evaluations that come late, within MaxWindow (a
// deeper select is not served: it does not stretch the window).
func (c *Cache) stretch(depth int64) {
	if depth > c.maxWindow {
		return
	}
	want := min(depth+depth/4+15_000, c.maxWindow)
	for {
		k := c.keep.Load()
		if want <= k || c.keep.CompareAndSwap(k, want) {
			return
		}
	}
}

var errClosed = errors.New("recent: querier closed")

var (
	selectsDesc = prometheus.NewDesc("oncall_rule_query_selects_total",
		"Selects of rule queries, by what answered them: the arrays of recent samples or the TSDB.", []string{"answered"}, nil)
	seriesDesc = prometheus.NewDesc("oncall_rule_query_cache_series",
		"Series whose recent samples are kept decoded for rule queries.", nil, nil)
	samplesDesc = prometheus.NewDesc("oncall_rule_query_cache_samples",
		"Samples kept decoded for rule queries.", nil, nil)
	windowDesc = prometheus.NewDesc("oncall_rule_query_cache_window_seconds",
		"How far behind a series' newest sample its samples are kept.", nil, nil)
)

// Describe sends the descriptions of the Cache's metrics.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{selectsDesc, seriesDesc, samplesDesc, windowDesc} {
		ch <- d
	}
}

// Collect sends the Cache's metrics: what answered the selects, and what
// the arrays hold.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	s := c.Stats()
	ch <- prometheus.MustNewConstMetric(selectsDesc, prometheus.CounterValue, float64(s.Served), "arrays")
	ch <- prometheus.MustNewConstMetric(selectsDesc, prometheus.CounterValue, float64(s.Fallback), "tsdb")
	ch <- prometheus.MustNewConstMetric(seriesDesc, prometheus.GaugeValue, float64(s.Series))
	ch <- prometheus.MustNewConstMetric(samplesDesc, prometheus.GaugeValue, float64(s.Samples))
	ch <- prometheus.MustNewConstMetric(windowDesc, prometheus.GaugeValue, float64(c.keep.Load())/1000)
}

package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"

	"github.com/oncallhq/oncall/secret"
)

// RemoteWriteOptions configure a RemoteWrite.
type RemoteWriteOptions struct {
	// URL is the endpoint: Prometheus's /api/v1/write (with
	// --web.enable-remote-write-receiver), Mimir's or Thanos Receive's.
	URL         string
	BearerToken string
	Timeout     time.Duration
	Logger      *slog.Logger
	// Queue is how many batches wait while the endpoint is slow or down;
	// beyond it the oldest is dropped and counted (default 256).
	Queue int
}

// RemoteWrite sends what rules append — recorded series, ALERTS — to a
// remote-write endpoint (protocol 1.0: snappy-compressed protobuf), in
// the background: a slow endpoint never holds an evaluation up, a failed
// batch is retried with backoff, and a full queue drops the oldest batch.
type RemoteWrite struct {
	opts   RemoteWriteOptions
	client *http.Client
	queue  chan []prompb.TimeSeries
	done   chan struct{}
	wg     sync.WaitGroup

	mu                    sync.Mutex
	sent, failed, dropped int
	lastErr               error
}

// NewRemoteWrite validates opts and starts the sender; Close stops it.
func NewRemoteWrite(opts RemoteWriteOptions) (*RemoteWrite, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote write url %q: not an http(s) URL", secret.Redact(opts.URL))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &RemoteWrite{opts: opts, client: &http.Client{Timeout: opts.Timeout}, queue: make(chan []prompb.TimeSeries, opts.Queue), done: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// AppenderV2 returns an appender whose Commit queues its samples.
func (w *RemoteWrite) AppenderV2(context.Context) storage.AppenderV2 { return &rwAppender{w: w} }

// Stats says how many batches were sent, failed for good and dropped,
// and the last error.
func (w *RemoteWrite) Stats() (sent, failed, dropped int, lastErr error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent, w.failed, w.dropped, w.lastErr
}

// Close sends what is queued (for at most the timeout) and stops.
func (w *RemoteWrite) Close() error {
	close(w.done)
	w.wg.Wait()
	return nil
}

func (w *RemoteWrite) enqueue(ts []prompb.TimeSeries) {
	for {
		select {
		case w.queue <- ts:
			return
		default:
		}
		select {
		case <-w.queue:
			w.mu.Lock()
			w.dropped++
			w.mu.Unlock()
		default:
		}
	}
}

func (w *RemoteWrite) run() {
	defer w.wg.Done()
	for {
		select {
		case ts := <-w.queue:
			w.sendWithRetry(ts, false)
		case <-w.done:
			deadline := time.Now().Add(w.opts.Timeout)
			for time.Now().Before(deadline) {
				select {
				case ts := <-w.queue:
					w.sendWithRetry(ts, true)
				default:
					return
				}
			}
			return
		}
	}
}

// sendWithRetry sends a batch, retrying a 5xx, a 429 or a network error
// with backoff; a 4xx is final (the endpoint will never take it).
func (w *RemoteWrite) sendWithRetry(ts []prompb.TimeSeries, closing bool) {
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err, retry := w.send(ts)
		w.mu.Lock()
		if err == nil {
			w.sent++
		} else {
			w.lastErr = err
		}
		w.mu.Unlock()
		if err == nil {
			return
		}
		if !retry || attempt >= 5 || closing {
			w.mu.Lock()
			w.failed++
			w.mu.Unlock()
			w.opts.Logger.Warn("remote write: batch given up", "series", len(ts), "err", err)
			return
		}
		select {
		case <-time.After(backoff):
		case <-w.done:
			closing = true
		}
		backoff *= 2
	}
}

func (w *RemoteWrite) send(ts []prompb.TimeSeries) (error, bool) {
	req := &prompb.WriteRequest{Timeseries: ts}
	raw, err := req.Marshal()
	if err != nil {
		return err, false
	}
	hr, err := http.NewRequest(http.MethodPost, w.opts.URL, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return err, false
	}
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	hr.Header.Set("User-Agent", "oncall")
	if w.opts.BearerToken != "" {
		hr.Header.Set("Authorization", "Bearer "+w.opts.BearerToken)
	}
	resp, err := w.client.Do(hr)
	if err != nil {
		return errors.New(secret.Redact(err.Error())), true
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil, false
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		return fmt.Errorf("remote write: %s: %s", resp.Status, bytes.TrimSpace(body)), true
	}
	return fmt.Errorf("remote write: %s: %s", resp.Status, bytes.TrimSpace(body)), false
}

type rwAppender struct {
	w      *RemoteWrite
	series map[string]*prompb.TimeSeries
	order  []string
}

func (a *rwAppender) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	if h != nil || fh != nil {
		return 0, nil // native histograms are not recorded by oncall's rules
	}
	if a.series == nil {
		a.series = map[string]*prompb.TimeSeries{}
	}
	key := ls.String()
	s, ok := a.series[key]
	if !ok {
		s = &prompb.TimeSeries{}
		ls.Range(func(l labels.Label) { s.Labels = append(s.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		a.series[key] = s
		a.order = append(a.order, key)
	}
	s.Samples = append(s.Samples, prompb.Sample{Value: v, Timestamp: t})
	return 0, nil
}

func (a *rwAppender) Commit() error {
	if len(a.order) == 0 {
		return nil
	}
	ts := make([]prompb.TimeSeries, 0, len(a.order))
	for _, k := range a.order {
		ts = append(ts, *a.series[k])
	}
	a.w.enqueue(ts)
	a.series, a.order = nil, nil
	return nil
}

func (a *rwAppender) Rollback() error {
	a.series, a.order = nil, nil
	return nil
}

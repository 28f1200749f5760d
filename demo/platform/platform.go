// Package platform is the synthetic "matchmaking" service `oncall demo`
// monitors: a real HTTP server serving /metrics with client_golang, and a real
// JSON log file, driven by a seeded simulation with a fault schedule. It is the
// only synthetic part of the demo.
package platform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure the platform.
type Options struct {
	Addr    string // listen address; default "127.0.0.1:0"
	LogPath string // JSON lines log file, appended; "" for none
	Faults  []Fault
	Seed    int64
	Users   int // baseline active users; default 1200
}

// Platform is the running synthetic service.
type Platform struct {
	opts Options
	ln   net.Listener
	srv  *http.Server

	mu       sync.Mutex
	rng      *rand.Rand
	start    time.Time
	last     time.Time
	logFile  *os.File
	log      *bufio.Writer
	swipes   prometheus.Counter
	matches  prometheus.Counter
	messages prometheus.Counter
	active   prometheus.Gauge
	reqs     *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

const service = "matchmaking"

var handlers = []struct {
	path   string
	weight float64
}{{"/v1/swipe", 0.55}, {"/v1/matches", 0.2}, {"/v1/profile", 0.15}, {"/v1/messages", 0.1}}

// New starts listening at once (so a port in use is reported here) and
// prepares the simulation; call Step or Run to make it move.
func New(opts Options) (*Platform, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Users <= 0 {
		opts.Users = 1200
	}
	p := &Platform{opts: opts, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x6f6e63616c6c))}
	reg := prometheus.NewRegistry()
	cl := prometheus.Labels{"service": service}
	p.swipes = prometheus.NewCounter(prometheus.CounterOpts{Name: "matchmaking_swipes_total", Help: "Swipes by users.", ConstLabels: cl})
	p.matches = prometheus.NewCounter(prometheus.CounterOpts{Name: "matchmaking_matches_total", Help: "Mutual matches made.", ConstLabels: cl})
	p.messages = prometheus.NewCounter(prometheus.CounterOpts{Name: "matchmaking_messages_total", Help: "Messages sent between matches.", ConstLabels: cl})
	p.active = prometheus.NewGauge(prometheus.GaugeOpts{Name: "matchmaking_active_users", Help: "Users active in the last minute.", ConstLabels: cl})
	p.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "HTTP requests by handler and code.", ConstLabels: cl}, []string{"handler", "code"})
	p.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "HTTP request latency.", ConstLabels: cl,
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}, []string{"handler"})
	reg.MustRegister(p.swipes, p.matches, p.messages, p.active, p.reqs, p.latency)

	if opts.LogPath != "" {
		f, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("platform log: %w", err)
		}
		p.logFile, p.log = f, bufio.NewWriterSize(f, 64<<10)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		p.closeLog()
		return nil, fmt.Errorf("platform listen %q: %w", opts.Addr, err)
	}
	p.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// MetricsURL is the URL of the platform's /metrics endpoint.
func (p *Platform) MetricsURL() string { return "http://" + p.ln.Addr().String() + "/metrics" }

// Run advances the simulation every tick (default 500ms) until ctx is done.
func (p *Platform) Run(ctx context.Context, tick time.Duration) error {
	if tick <= 0 {
		tick = 500 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	p.Step(time.Now())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			p.Step(now)
		}
	}
}

// ActiveFaults returns the faults in force at now.
func (p *Platform) ActiveFaults(now time.Time) []Fault {
	p.mu.Lock()
	start := p.start
	p.mu.Unlock()
	if start.IsZero() {
		return nil
	}
	var out []Fault
	for _, f := range p.opts.Faults {
		if f.Active(now.Sub(start)) {
			out = append(out, f)
		}
	}
	return out
}

// Close stops the HTTP server and flushes the log.
func (p *Platform) Close() error {
	err := p.srv.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(err, p.closeLog())
}

func (p *Platform) closeLog() error {
	if p.logFile == nil {
		return nil
	}
	err := errors.Join(p.log.Flush(), p.logFile.Close())
	p.logFile, p.log = nil, nil
	return err
}

// poisson draws a count with the given mean (normal approximation above 30).
func (p *Platform) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+p.rng.NormFloat64()*math.Sqrt(mean))))
	}
	l, k, prod := math.Exp(-mean), 0, p.rng.Float64()
	for prod > l {
		k++
		prod *= p.rng.Float64()
	}
	return k
}

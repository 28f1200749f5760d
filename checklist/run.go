package checklist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

// Endpoints are where a service answers, for the probes that talk to it:
// its public URL (TLS, HSTS), the plain-HTTP URL that must redirect
// ("" for http:// on the same host), and version endpoints per
// environment (staging parity).
type Endpoints struct {
	URL      string            `json:"url,omitempty"`
	HTTPURL  string            `json:"http_url,omitempty"`
	Versions map[string]string `json:"versions,omitempty"`
}

// Target is what a probe is asked about: one check for one service.
type Target struct {
	Service   catalog.Service
	Endpoints Endpoints
	Check     Check
	Now       time.Time
}

// Prober runs one kind of probe. It reports a target it cannot reach as
// an Error result, never by failing the whole run; it honours ctx.
type Prober interface {
	Probe(ctx context.Context, t Target) Result
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, t Target) Result

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, t Target) Result { return f(ctx, t) }

// Event is progress of a run: a probe started (Done false) or finished.
type Event struct {
	Check  string
	Done   bool
	Result Result
}

// Runner runs the probe checks of a checklist concurrently, each within
// its timeout.
type Runner struct {
	// Probers by probe name; a probe with none is an Error result.
	Probers map[string]Prober
	// Timeout bounds each probe (default 30s).
	Timeout time.Duration
	// Progress, when set, hears of each probe starting and finishing; it
	// is called from one goroutine at a time.
	Progress func(Event)
	// Clock measures how long probes take (default time.Now).
	Clock func() time.Time
}

// Run runs every probe check of cl against svc and returns the results by
// check id. A probe that panics, overruns its timeout or has no prober is
// an Error result; the others run on.
func (r Runner) Run(ctx context.Context, cl Checklist, svc catalog.Service, ep Endpoints, now time.Time) map[string]Result {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	clock := r.Clock
	if clock == nil {
		clock = time.Now
	}
	var mu sync.Mutex
	report := func(e Event) {
		if r.Progress != nil {
			mu.Lock()
			defer mu.Unlock()
			r.Progress(e)
		}
	}
	out := map[string]Result{}
	var wg sync.WaitGroup
	for _, c := range cl.Checks {
		if c.Kind != KindProbe {
			continue
		}
		report(Event{Check: c.ID})
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := clock()
			res := r.probe(ctx, c, Target{Service: svc, Endpoints: ep, Check: c, Now: now}, timeout)
			res.Duration = clock().Sub(start)
			mu.Lock()
			out[c.ID] = res
			mu.Unlock()
			report(Event{Check: c.ID, Done: true, Result: res})
		}()
	}
	wg.Wait()
	return out
}

// probe runs one probe, turning a panic, an overrun or a missing prober
// into an Error result.
func (r Runner) probe(ctx context.Context, c Check, t Target, timeout time.Duration) Result {
	p, ok := r.Probers[c.Probe]
	if !ok || p == nil {
		return Result{Status: Error, Summary: fmt.Sprintf("no %s probe is set up here", c.Probe)}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- Result{Status: Error, Summary: fmt.Sprintf("the %s probe failed: %v", c.Probe, v)}
			}
		}()
		done <- p.Probe(ctx, t)
	}()
	select {
	case res := <-done:
		return res
	case <-ctx.Done():
		return Result{Status: Error, Summary: fmt.Sprintf("the %s probe did not finish within %s", c.Probe, timeout)}
	}
}

package platform

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Baseline rates of the simulation.
const (
	swipesPerSecond   = 40.0
	matchProbability  = 0.08
	requestsPerSecond = 60.0
	baseErrorRatio    = 0.002
	baseLatency       = 0.06 // seconds, median
	infoLogRatio      = 0.1  // share of requests logged at info
)

// Step advances the simulation to now. The first call sets the start; each
// later call generates the swipes, matches, requests and log lines of the
// elapsed interval. Given the seed and the sequence of nows it is
// deterministic.
func (p *Platform) Step(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = now // faults are scheduled from the first live step
		if p.last.IsZero() {
			p.last = now
			p.active.Set(float64(p.opts.Users))
			return
		}
	}
	p.advance(now, true)
}

// Backfill simulates the healthy past from from to to, every step, before
// the first live Step, calling record after each simulated instant (to
// scrape it), so that baselines such as "the last 10 minutes" have data when
// the demo starts. Faults never apply to the past.
func (p *Platform) Backfill(from, to time.Time, every time.Duration, record func(at time.Time)) {
	p.mu.Lock()
	if !p.start.IsZero() {
		p.mu.Unlock()
		return
	}
	p.last = from
	p.active.Set(float64(p.opts.Users))
	p.mu.Unlock()
	for at := from.Add(every); !at.After(to); at = at.Add(every) {
		p.mu.Lock()
		p.advance(at, false)
		p.mu.Unlock()
		record(at)
	}
}

// advance generates the traffic between p.last and now; p.mu is held.
func (p *Platform) advance(now time.Time, live bool) {
	dt := now.Sub(p.last).Seconds()
	if dt <= 0 {
		return
	}
	p.last = now
	offset := now.Sub(p.start)
	matchF, errRatio, latF := 1.0, baseErrorRatio, 1.0
	var fault string
	for _, f := range p.opts.Faults {
		if live && f.Active(offset) {
			matchF *= f.MatchFactor
			errRatio = math.Max(errRatio, f.ErrorRatio)
			latF *= f.LatencyFactor
			fault = f.Name
		}
	}
	users := float64(p.opts.Users) * (1 + 0.05*math.Sin(2*math.Pi*float64(now.UnixMilli())/600e3)) // a 10-minute wave, continuous across backfill
	users += p.rng.NormFloat64() * 3
	p.active.Set(math.Round(users))

	swipes := p.poisson(swipesPerSecond * dt)
	matches := 0
	for range swipes {
		if p.rng.Float64() < matchProbability*matchF {
			matches++
		}
	}
	p.swipes.Add(float64(swipes))
	p.matches.Add(float64(matches))
	p.messages.Add(float64(p.poisson(float64(matches) * 2.5)))

	for range p.poisson(requestsPerSecond * dt) {
		p.request(now, errRatio, latF, fault, live)
	}
	if p.log != nil {
		p.log.Flush()
	}
}

// request simulates one HTTP request: its metrics and, sometimes, a log line.
func (p *Platform) request(now time.Time, errRatio, latF float64, fault string, live bool) {
	r, handler := p.rng.Float64(), handlers[len(handlers)-1].path
	for _, h := range handlers {
		if r < h.weight {
			handler = h.path
			break
		}
		r -= h.weight
	}
	lat := baseLatency * math.Exp(p.rng.NormFloat64()*0.5) * latF
	code := 200
	switch x := p.rng.Float64(); {
	case x < errRatio:
		code = 500
		if p.rng.Float64() < 0.3 {
			code = 503
		}
	case x < errRatio+0.01:
		code = 400
	case handler == "/v1/swipe" || handler == "/v1/messages":
		code = 201
	}
	p.reqs.WithLabelValues(handler, fmt.Sprint(code)).Inc()
	p.latency.WithLabelValues(handler).Observe(lat)
	if p.log == nil || !live { // the backfilled past has metrics, not log lines
		return
	}
	trace := fmt.Sprintf("%016x", p.rng.Uint64())
	user := fmt.Sprintf("u%06d", p.rng.IntN(p.opts.Users*10))
	base := map[string]any{"handler": handler, "status": code, "duration_ms": math.Round(lat * 1000), "user_id": user}
	switch {
	case code >= 500:
		upstream, msg := "profile-db", "upstream request failed"
		if fault == "match-collapse" || fault == "" {
			msg = "match candidates query timed out"
		}
		if handler == "/v1/messages" {
			upstream, msg = "push-gateway", "push delivery failed: connection reset"
		}
		p.logLine(now, "error", upstream, msg, trace, map[string]any{"upstream_timeout_ms": 800})
		p.logLine(now, "error", service, "request failed", trace, base)
	case lat > 1:
		p.logLine(now, "warn", service, "slow request", trace, base)
	case p.rng.Float64() < infoLogRatio:
		p.logLine(now, "info", service, "request served", trace, base)
	}
}

func (p *Platform) logLine(now time.Time, level, svc, msg, trace string, fields map[string]any) {
	line := map[string]any{"ts": now.UTC().Format(time.RFC3339Nano), "level": level, "service": svc, "msg": msg, "trace_id": trace}
	for k, v := range fields {
		line[k] = v
	}
	b, _ := json.Marshal(line) // map keys are sorted: identical input, identical bytes
	p.log.Write(b)
	p.log.WriteByte('\n')
}

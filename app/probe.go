package app

import (
	"context"
	"sync"
	"time"

	"github.com/oncallhq/oncall/health"
)

// pinger is a metrics source that can be asked whether it answers.
type pinger interface {
	Ping(ctx context.Context) error
}

// probe asks a Prometheus-compatible source whether it answers, every
// interval, so readiness can say when oncall is blind.
type probe struct {
	src      pinger
	interval time.Duration
	mu       sync.Mutex
	lastOK   time.Time
	lastErr  error
}

func (p *probe) run(ctx context.Context) error {
	for {
		err := p.src.Ping(ctx)
		now := time.Now()
		p.mu.Lock()
		if err == nil {
			p.lastOK, p.lastErr = now, nil
		} else if ctx.Err() == nil {
			p.lastErr = err
		}
		p.mu.Unlock()
		t := time.NewTimer(p.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// check passes while the source answered within three intervals.
func (p *probe) check(_ context.Context, now time.Time) []health.Check {
	p.mu.Lock()
	defer p.mu.Unlock()
	return []health.Check{health.Recent("metrics", p.lastOK, p.lastErr, 3*p.interval, now)}
}

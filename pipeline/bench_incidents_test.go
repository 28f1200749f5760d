package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/routing"
	"github.com/oncallhq/oncall/store"
	"github.com/oncallhq/oncall/store/sqlite"
)

// countingDeliverer counts the pages the relay delivers.
type countingDeliverer struct{ pages atomic.Int64 }

func (c *countingDeliverer) Deliver(_ context.Context, m notify.Message) error {
	if m.Kind == notify.KindPage {
		c.pages.Add(1)
	}
	return nil
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timerWorld is a store holding open incidents with running escalation
// timers and a pipeline leading over it, its clock injected.
type timerWorld struct {
	st      *sqlite.Store
	p       *Pipeline
	relay   *notify.Relay
	out     *countingDeliverer
	now     time.Time
	cycles  int
	passes  int
	lastRun time.Time // the relay's last pass
	// spins counts the cycles run again at once, the loop being due at
	// or before the instant it just ran (see runUntil).
	spins int
	took  time.Duration // the last cycle's wall time
}

// newTimerWorld opens n incidents on the four-step policy (five minutes a
// step, three repeats: it escalates for 80 minutes), opened apart from t0
// on, so that their timers fall due at n distinct instants every five
// minutes (apart 0: all at once). The clock is then at the last opening.
func newTimerWorld(tb testing.TB, n int, apart time.Duration, t0 time.Time) *timerWorld {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "oncall.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cfg, err := routing.Parse("am.yml", []byte(acceptanceRouting))
	if err != nil {
		tb.Fatal(err)
	}
	people := acceptanceDirectory(weeklyPlatform(), acceptancePolicy("platform", 3, 0))
	w := &timerWorld{st: st, out: &countingDeliverer{}, now: t0}
	route := func(notify.Message) (notify.Deliverer, string, error) { return w.out, "pager", nil }
	w.p, err = New(Options{Routing: cfg, Store: st, Incidents: people, Route: route, Now: func() time.Time { return w.now },
		Receivers: []Receiver{{Name: "pager", Policy: "team"}}})
	if err != nil {
		tb.Fatal(err)
	}
	w.relay = notify.NewRelay(st, route, nil)
	ctx := context.Background()
	err = st.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			at := t0.Add(time.Duration(i) * apart)
			inc := incidents.Incident{Key: fmt.Sprintf("pager {service=\"svc%d\"}", i), Title: fmt.Sprintf("svc%d is down", i), Service: fmt.Sprintf("svc%d", i),
				Status: incidents.StatusTriggered, OpenedAt: at, Severity: incidents.SEV2}
			if err := tx.CreateIncident(ctx, &inc); err != nil {
				return err
			}
			pages, err := inc.Start(people, "team", at)
			if err != nil {
				return err
			}
			if err := tx.UpdateIncident(ctx, inc); err != nil {
				return err
			}
			if err := tx.Enqueue(ctx, notify.Pages(pages)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	// Take the lease and deliver the first pages once every incident is open.
	w.now = t0.Add(time.Duration(n-1) * apart)
	w.cycle(tb)
	if !w.p.Leader() {
		tb.Fatal("the pipeline does not lead")
	}
	for {
		out, err := w.relay.Pass(ctx, w.now)
		if err != nil {
			tb.Fatal(err)
		}
		if out.Sent == 0 {
			break
		}
	}
	if got := w.out.pages.Load(); got != int64(n) {
		tb.Fatalf("%d first pages delivered, want %d", got, n)
	}
	w.out.pages.Store(0)
	return w
}

// cycle is one turn of Run's loop at w.now, with the relay loop's pass
// when the pipeline kicked it (or its minute ran out).
func (w *timerWorld) cycle(tb testing.TB) {
	ctx := context.Background()
	start := time.Now()
	defer func() { w.took = time.Since(start) }()
	if err := w.p.Step(ctx, w.now); err != nil {
		tb.Fatalf("%v: %v", w.now, err)
	}
	w.cycles++
	kicked := false
	select {
	case <-w.p.relayWake:
		kicked = true
	default:
	}
	if kicked || w.now.Sub(w.lastRun) >= time.Minute {
		for {
			out, err := w.relay.Pass(ctx, w.now)
			if err != nil {
				tb.Fatal(err)
			}
			w.passes++
			if out.Sent+out.Retrying+out.Failed+out.Superseded == 0 {
				break
			}
		}
		w.lastRun = w.now
	}
}

// runUntil steps the clock from one due instant (as Run computes it) to
// the next until end. When the loop is due again at once (an escalation
// timer the store rounded down to its millisecond, see the sub-ms case of
// BenchmarkOpenIncidentTimers), Run goes round again while the real clock
// moves on by what a cycle takes: so does runUntil, and counts the spin.
func (w *timerWorld) runUntil(tb testing.TB, end time.Time) {
	ctx := context.Background()
	for w.now.Before(end) {
		w.p.mu.Lock()
		next := w.p.nextWake(ctx)
		w.p.mu.Unlock()
		if !next.After(w.now) {
			w.spins++
			next = w.now.Add(max(w.took, time.Microsecond))
		}
		if next.After(end) {
			next = end
		}
		w.now = next
		w.cycle(tb)
	}
}

// BenchmarkOpenIncidentTimers measures the CPU time the pipeline spends
// over a simulated hour while 1,000 incidents escalate (each op is one
// simulated hour; setup is not timed). The target is under 5% of one core.
func BenchmarkOpenIncidentTimers(b *testing.B) {
	for _, bc := range []struct {
		name  string
		apart time.Duration
	}{
		{"spread", 300 * time.Millisecond}, // 1,000 timers, each due at its own instant
		{"burst", 0},                       // 1,000 timers due together, every five minutes
		// As spread, on a clock with nanoseconds as time.Now has: each
		// timer is stored rounded down to its millisecond, and the loop
		// spins from there until the clock reaches it.
		{"spread-sub-ms", 300*time.Millisecond + 123457*time.Nanosecond},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 1000
			t0 := time.Date(2026, 11, 10, 14, 0, 0, 0, time.UTC)
			var cpu, wall time.Duration
			var pages, cycles, spins int64
			for b.Loop() {
				b.StopTimer()
				w := newTimerWorld(b, n, bc.apart, t0)
				start := w.now
				b.StartTimer()
				c0, w0 := cpuTime(b), time.Now()
				w.runUntil(b, start.Add(time.Hour))
				cpu += cpuTime(b) - c0
				wall += time.Since(w0)
				pages += w.out.pages.Load()
				cycles += int64(w.cycles)
				spins += int64(w.spins)
			}
			hours := float64(b.N)
			b.ReportMetric(cpu.Seconds()/hours/3600*100, "%core")
			b.ReportMetric(wall.Seconds()/hours/3600*100, "%wall")
			b.ReportMetric(cpu.Seconds()/hours, "cpu-s/h")
			b.ReportMetric(float64(pages)/hours, "pages/h")
			b.ReportMetric(float64(cycles)/hours, "cycles/h")
			b.ReportMetric(float64(spins)/hours, "spins/h")
		})
	}
}

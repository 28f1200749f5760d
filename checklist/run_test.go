package checklist

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/oncallhq/oncall/catalog"
)

// Probes run concurrently; one that hangs past its timeout, one that
// panics and one with no prober are Error results, and the rest run on.
func TestRunnerIsolatesProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, err := Parse("p.yaml", []byte(`name: p
checks:
  - {id: fast, title: Fast, probe: tls}
  - {id: hangs, title: Hangs, probe: staging}
  - {id: panics, title: Panics, probe: runbook}
  - {id: missing, title: Missing, probe: drill}
  - {id: board, title: Board}
`))
		if err != nil {
			t.Fatal(err)
		}
		started, release := make(chan struct{}), make(chan struct{})
		defer close(release)
		var mu sync.Mutex
		var events []Event
		r := Runner{
			Probers: map[string]Prober{
				ProbeTLS: ProberFunc(func(ctx context.Context, tg Target) Result {
					<-started // the slow one has started: they run at once
					if tg.Service.Name != "matchmaking" || tg.Endpoints.URL != "https://mm.example.com" || tg.Check.ID != "fast" || !tg.Now.Equal(t0) {
						return Result{Status: Fail, Summary: "wrong target"}
					}
					time.Sleep(2 * time.Second) // fake time: synctest's clock
					return Result{Status: Pass, Summary: "ok"}
				}),
				ProbeStaging: ProberFunc(func(ctx context.Context, _ Target) Result {
					close(started)
					<-release // ignores its context
					return Result{Status: Pass}
				}),
				ProbeRunbook: ProberFunc(func(context.Context, Target) Result { panic("boom") }),
			},
			Timeout:  time.Minute,
			Progress: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
		}
		got := r.Run(context.Background(), cl, catalog.Service{Name: "matchmaking"}, Endpoints{URL: "https://mm.example.com"}, t0)
		if len(got) != 4 {
			t.Fatalf("results for %d checks, want the 4 probes: %+v", len(got), got)
		}
		if f := got["fast"]; f.Status != Pass || f.Duration != 2*time.Second {
			t.Errorf("fast: %+v", f)
		}
		if h := got["hangs"]; h.Status != Error || !strings.Contains(h.Summary, "did not finish within 1m0s") || h.Duration != time.Minute {
			t.Errorf("hangs: %+v", h)
		}
		if p := got["panics"]; p.Status != Error || !strings.Contains(p.Summary, "boom") {
			t.Errorf("panics: %+v", p)
		}
		if m := got["missing"]; m.Status != Error || !strings.Contains(m.Summary, "no drill probe") {
			t.Errorf("missing: %+v", m)
		}
		starts, dones := 0, 0
		for _, e := range events {
			if e.Done {
				dones++
			} else {
				starts++
			}
		}
		if starts != 4 || dones != 4 {
			t.Errorf("events: %d starts, %d done, want 4 each", starts, dones)
		}
	})
}

// A cancelled run ends every probe that honours its context.
func TestRunnerCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, _ := Parse("p.yaml", []byte("name: p\nchecks: [{id: a, title: A, probe: tls}]\n"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := Runner{Probers: map[string]Prober{ProbeTLS: ProberFunc(func(ctx context.Context, _ Target) Result {
			<-ctx.Done()
			return Result{Status: Error, Summary: ctx.Err().Error()}
		})}}
		if got := r.Run(ctx, cl, catalog.Service{Name: "x"}, Endpoints{}, t0)["a"]; got.Status != Error {
			t.Errorf("cancelled: %+v", got)
		}
	})
}

package pipeline

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/store"
)

// timedOutbox records when each message was delivered.
type timedOutbox struct {
	mu sync.Mutex
	at []time.Time
	to []string
}

func (o *timedOutbox) Deliver(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.Kind == notify.KindPage {
		o.at = append(o.at, time.Now())
		o.to = append(o.to, m.Page.Target)
	}
	return nil
}

// Run escalates when the ack timeout expires, not at the next evaluation,
// and the page goes out at that instant.
func TestRunEscalatesOnTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	synctest.Test(t, func(t *testing.T) {
		rec := &timedOutbox{}
		h := newHarness(t, path, func(o *Options) {
			o.EvaluationInterval = 10 * time.Minute
			o.Route = func(notify.Message) (notify.Deliverer, string, error) { return rec, "t", nil }
		})
		h.src.set(firingVec)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- h.p.Run(ctx) }()
		defer func() { cancel(); <-done }()
		// The rules have a 20s `for` and a ten-minute interval: the group is
		// first evaluated at its first slot (within ten minutes, spread by
		// its name, as Prometheus spreads groups), and fires at the next one.
		// The ack timeout of the first step is a minute.
		time.Sleep(21*time.Minute + time.Second)
		synctest.Wait()
		rec.mu.Lock()
		at, to := append([]time.Time(nil), rec.at...), append([]string(nil), rec.to...)
		rec.mu.Unlock()
		if len(at) < 2 || to[0] != "alice" || to[1] != "bob" {
			t.Fatalf("pages %v at %v, want alice then bob", to, at)
		}
		if d := at[0].Sub(start); d < 10*time.Minute || d > 20*time.Minute+time.Second {
			t.Errorf("first page after %v, want the second evaluation, 10 to 20 minutes in", d)
		}
		// The incident paged at that flush; its ack timeout is a minute: the
		// escalation happens then — not at the next evaluation, nine minutes
		// later. (Under the fake clock, a write that waits for the store's
		// lock costs a millisecond or two.)
		if d := at[1].Sub(at[0]); d < time.Minute-10*time.Millisecond || d > time.Minute+time.Second {
			t.Errorf("second page %v after the first, want 1m", d)
		}
		incs, err := h.st.Incidents(context.Background(), store.IncidentFilter{})
		if err != nil || len(incs) != 1 {
			t.Fatalf("incidents %+v, %v", incs, err)
		}
		if d := incs[0].Timeline[2].At.Sub(incs[0].Timeline[1].At); len(incs[0].Timeline) < 3 || d < time.Minute || d > time.Minute+50*time.Millisecond {
			t.Errorf("escalated %v after the first page, want 1m", d)
		}
	})
}

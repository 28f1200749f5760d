package engine

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/oncallhq/oncall/incidents"
)

// syncRecorder is a Notifier safe to read while Run delivers.
type syncRecorder struct {
	mu  sync.Mutex
	got []incidents.Page
	at  []time.Time
}

func (r *syncRecorder) Notify(_ context.Context, p incidents.Page) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, p)
	r.at = append(r.at, time.Now())
	return nil
}

// Run escalates when the ack timeout expires, not at the next evaluation.
func TestRunEscalatesOnTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.db")
	synctest.Test(t, func(t *testing.T) {
		rec := &syncRecorder{}
		opts := options(t, path, &source{vec: firingVec}, nil)
		opts.Notifier = rec
		for i := range opts.Rules {
			opts.Rules[i].For = 0
		}
		e, err := New(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- e.Run(ctx, 10*time.Minute) }()
		// The ack timeout of the first step is one minute; evaluation runs
		// only every ten.
		time.Sleep(61 * time.Second)
		synctest.Wait()
		rec.mu.Lock()
		n, at := len(rec.got), append([]time.Time(nil), rec.at...)
		rec.mu.Unlock()
		if n != 2 {
			t.Fatalf("%d pages after 61s, want 2 (primary, then secondary)", n)
		}
		if d := at[1].Sub(start); d != time.Minute {
			t.Errorf("second page after %v, want exactly 1m", d)
		}
		cancel()
		<-done
	})
}

package notify

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// memBox is an Outbox in memory.
type memBox struct {
	mu   sync.Mutex
	msgs []Message
}

func (b *memBox) PendingMessages(_ context.Context, now time.Time, limit int) ([]Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for _, m := range b.msgs {
		if m.Pending() && !m.NextAttemptAt.After(now) && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (b *memBox) MarkMessages(_ context.Context, ms []Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range ms {
		for i := range b.msgs {
			if b.msgs[i].ID == m.ID {
				b.msgs[i] = m
			}
		}
	}
	return nil
}

// recorder delivers, or fails with the error set for a key.
type recorder struct {
	mu   sync.Mutex
	got  []string
	fail map[string]error
}

func (r *recorder) Deliver(_ context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[m.Key]; err != nil {
		return err
	}
	r.got = append(r.got, m.Key)
	return nil
}

func TestRelay(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	box := &memBox{msgs: []Message{
		{ID: 1, Key: "page-1", Kind: KindPage},
		{ID: 2, Key: "group-a-old", Kind: KindNotification, Supersede: "a"},
		{ID: 3, Key: "flaky", Kind: KindNotification, Supersede: "b"},
		{ID: 4, Key: "group-a-new", Kind: KindNotification, Supersede: "a"},
		{ID: 5, Key: "refused", Kind: KindNotification},
		{ID: 6, Key: "nowhere", Kind: KindNotification},
	}}
	rec := &recorder{fail: map[string]error{"flaky": errors.New("503"), "refused": Permanent(errors.New("400"))}}
	route := func(m Message) (Deliverer, string, error) {
		if m.Key == "nowhere" {
			return nil, "", errors.New("no such receiver")
		}
		return rec, string(m.Kind), nil
	}
	r := NewRelay(box, route, nil)
	out, err := r.Pass(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if out != (Outcome{Sent: 2, Failed: 2, Retrying: 1, Superseded: 1}) {
		t.Errorf("outcome %+v", out)
	}
	if slices.Sort(rec.got); !slices.Equal(rec.got, []string{"group-a-new", "page-1"}) {
		t.Errorf("delivered %v: the newer notification of group a supersedes the older", rec.got)
	}
	byKey := map[string]Message{}
	for _, m := range box.msgs {
		byKey[m.Key] = m
	}
	if m := byKey["flaky"]; !m.Pending() || m.Attempts != 1 || !m.NextAttemptAt.Equal(t0.Add(time.Second)) || m.LastError != "503" {
		t.Errorf("a failed delivery is retried after a backoff: %+v", m)
	}
	if m := byKey["refused"]; m.Pending() || !m.Failed {
		t.Errorf("a permanent refusal is not retried: %+v", m)
	}
	if m := byKey["group-a-old"]; m.Pending() || !m.Superseded {
		t.Errorf("superseded: %+v", m)
	}
	// Nothing is due before the backoff passes; then the retry succeeds.
	if out, _ := r.Pass(context.Background(), t0.Add(500*time.Millisecond)); out != (Outcome{}) {
		t.Errorf("retried early: %+v", out)
	}
	delete(rec.fail, "flaky")
	if out, _ := r.Pass(context.Background(), t0.Add(time.Second)); out.Sent != 1 {
		t.Errorf("retry: %+v", out)
	}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 50: time.Minute} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

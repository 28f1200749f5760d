package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Outbox is what the relay needs from the store.
type Outbox interface {
	// PendingMessages returns up to limit pending messages due at now,
	// oldest first.
	PendingMessages(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// MarkMessages records delivery outcomes.
	MarkMessages(ctx context.Context, ms []Message) error
}

// Deliverer delivers messages of one channel, at least once; a receiver
// dedupes by Message.Key.
type Deliverer interface {
	Deliver(ctx context.Context, m Message) error
}

// Router returns the deliverer of a message and the channel it belongs to
// (messages of one channel are delivered in order, channels in parallel).
type Router func(m Message) (d Deliverer, channel string, err error)

// PermanentError wraps a refusal that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{err} }

// Outcome counts what one relay pass did.
type Outcome struct {
	Sent, Failed, Retrying, Superseded int
}

// Relay delivers the outbox.
type Relay struct {
	box   Outbox
	route Router
	log   *slog.Logger
	batch int
}

// NewRelay returns a relay over box that routes messages with route.
func NewRelay(box Outbox, route Router, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{box: box, route: route, log: log, batch: 500}
}

// Backoff is the wait before attempt n+1 after n failed ones: 1s, 2s, 4s…
// up to a minute.
func Backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	if n > 7 {
		return time.Minute
	}
	return min(time.Second<<(n-1), time.Minute)
}

// Pass delivers every message due at now once, and reports the outcome.
func (r *Relay) Pass(ctx context.Context, now time.Time) (Outcome, error) {
	var out Outcome
	ms, err := r.box.PendingMessages(ctx, now, r.batch)
	if err != nil {
		return out, fmt.Errorf("outbox: %w", err)
	}
	if len(ms) == 0 {
		return out, nil
	}
	// The newest message of a group supersedes undelivered older ones.
	newest := map[string]int{}
	for i, m := range ms {
		if m.Supersede != "" {
			newest[m.Supersede] = i
		}
	}
	var marked []Message
	byChannel := map[string][]int{}
	var order []string
	deliverers := map[string]Deliverer{}
	for i, m := range ms {
		if m.Supersede != "" && newest[m.Supersede] != i {
			m.Superseded = true
			marked = append(marked, m)
			out.Superseded++
			continue
		}
		d, ch, err := r.route(m)
		if err != nil {
			m.Failed, m.LastError = true, err.Error()
			marked = append(marked, m)
			out.Failed++
			r.log.Error("undeliverable message", "key", m.Key, "err", err)
			continue
		}
		if _, ok := byChannel[ch]; !ok {
			order = append(order, ch)
			deliverers[ch] = d
		}
		byChannel[ch] = append(byChannel[ch], i)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range order {
		wg.Go(func() {
			for _, i := range byChannel[ch] {
				m := ms[i]
				m.Attempts++
				err := deliverers[ch].Deliver(ctx, m)
				var perm *PermanentError
				mu.Lock()
				switch {
				case err == nil:
					m.SentAt, m.LastError = now, ""
					out.Sent++
				case errors.As(err, &perm):
					m.Failed, m.LastError = true, err.Error()
					out.Failed++
					r.log.Error("delivery refused", "key", m.Key, "channel", ch, "err", err)
				default:
					m.LastError, m.NextAttemptAt = err.Error(), now.Add(Backoff(m.Attempts))
					out.Retrying++
					r.log.Warn("delivery failed, will retry", "key", m.Key, "channel", ch, "attempt", m.Attempts, "err", err)
				}
				marked = append(marked, m)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := r.box.MarkMessages(ctx, marked); err != nil {
		return out, fmt.Errorf("outbox: %w", err)
	}
	return out, nil
}

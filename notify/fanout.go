package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Part is one deliverer of a Fanout, by a name unique among its parts.
type Part struct {
	Name string
	D    Deliverer
}

// Fanout delivers a message to several deliverers (a page to the console
// and to the person's PagerDuty and Slack). A part that took a message,
// or refused it for good, is not asked again when the message is retried
// because another part failed: only the failed part sees it twice. What
// each part did is remembered only while the message is retried.
type Fanout struct {
	mu   sync.Mutex
	done map[string]error // message key + part name → nil (taken) or a permanent refusal
}

// NewFanout returns an empty Fanout.
func NewFanout() *Fanout { return &Fanout{done: map[string]error{}} }

// Took reports whether the part named part took the message with key
// while the message is still being retried for another part.
func (f *Fanout) Took(key, part string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, ok := f.done[key+"\x00"+part]
	return ok && err == nil
}

// To returns a deliverer to parts.
func (f *Fanout) To(parts ...Part) Deliverer { return fanoutTo{f, parts} }

type fanoutTo struct {
	f     *Fanout
	parts []Part
}

func (t fanoutTo) Deliver(ctx context.Context, m Message) error {
	var retry, refused []error
	for _, p := range t.parts {
		id := m.Key + "\x00" + p.Name
		t.f.mu.Lock()
		prev, seen := t.f.done[id]
		t.f.mu.Unlock()
		if !seen {
			prev = p.D.Deliver(ctx, m)
		}
		var perm *PermanentError
		switch {
		case prev == nil:
		case errors.As(prev, &perm):
			refused = append(refused, fmt.Errorf("%s: %w", p.Name, perm.Err))
		default:
			retry = append(retry, fmt.Errorf("%s: %w", p.Name, prev))
			continue
		}
		t.f.mu.Lock()
		t.f.done[id] = prev
		t.f.mu.Unlock()
	}
	if len(retry) > 0 {
		return errors.Join(append(retry, refused...)...)
	}
	t.f.mu.Lock()
	for _, p := range t.parts {
		delete(t.f.done, m.Key+"\x00"+p.Name)
	}
	t.f.mu.Unlock()
	if len(refused) > 0 {
		return Permanent(errors.Join(refused...))
	}
	return nil
}

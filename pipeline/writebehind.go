package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oncallhq/oncall/routing/dispatch"
	"github.com/oncallhq/oncall/store"
)

// writeAlerts writes the alerts received since the last write (and, as
// leader, group schedule changes) to the store, in transactions of at most
// writeChunk alerts so that a storm's write-behind holds little memory.
func (p *Pipeline) writeAlerts(ctx context.Context, now time.Time) error {
	p.mu.Lock()
	p.next.write = now.Add(writeEvery)
	var groups []dispatch.GroupState
	var gone []string
	if p.leader {
		groups, gone = p.disp.TakeChanges()
	}
	hist := p.takeHistory()
	p.mu.Unlock()
	for first := true; ; first = false {
		p.mu.Lock()
		as, deleted := p.ix.takeDirty(writeChunk)
		if !p.leader {
			// A standby keeps nothing once it is written.
			for i := range as {
				delete(p.ix.byFP, as[i].Fingerprint())
			}
		}
		p.mu.Unlock()
		if len(as)+len(deleted)+len(groups)+len(gone)+len(hist) == 0 {
			if first {
				return nil
			}
			break
		}
		err := p.opts.Store.Update(ctx, func(tx store.Tx) error {
			return errors.Join(tx.PutAlerts(ctx, p.holder, as), tx.DeleteAlerts(ctx, deleted), tx.PutGroups(ctx, groups), tx.DeleteGroups(ctx, gone),
				tx.AppendHistory(ctx, hist))
		})
		p.storeResult(now, err)
		if err != nil {
			p.mu.Lock()
			p.ix.undoTake(as, deleted)
			p.disp.Reschedule(groups, gone)
			p.history = append(hist, p.history...)
			p.mu.Unlock()
			return fmt.Errorf("write alerts: %w", err)
		}
		groups, gone, hist = nil, nil, nil
		if len(as) < writeChunk {
			break
		}
	}
	return nil
}

// writeChunk is the most alerts one write-behind transaction carries.
const writeChunk = 10_000

// pullEvery is how often the leader picks up the alerts a standby wrote;
// pullOverlap re-reads a little of the last span, for a write that
// committed late with an earlier stamp (re-merging is harmless).
const (
	pullEvery   = 5 * time.Second
	pullOverlap = 2 * time.Second
)

// pullAlerts takes into the leader's state the alerts other processes on
// the store (standbys) received and wrote since the last pull.
func (p *Pipeline) pullAlerts(ctx context.Context, now time.Time) error {
	p.mu.Lock()
	due, since := !now.Before(p.next.pull), p.pulled
	if due {
		p.next.pull = now.Add(pullEvery)
	}
	p.mu.Unlock()
	if !due {
		return nil
	}
	as, newest, err := p.opts.Store.AlertsWrittenSince(ctx, since.Add(-pullOverlap), p.holder)
	if err != nil {
		return fmt.Errorf("alerts from standbys: %w", err)
	}
	p.mu.Lock()
	if newest.After(p.pulled) {
		p.pulled = newest
	}
	p.mu.Unlock()
	if len(as) > 0 {
		p.put(now, as, sourceReceived, false)
	}
	return nil
}

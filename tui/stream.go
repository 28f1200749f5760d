package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/tui/logspane"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// firstBacklog is how many of the server's newest log lines the console
// starts with.
const firstBacklog = 10_000

// event is what the stream goroutine tells the model.
type event struct {
	update *state.Update
	// connected: the stream holds (its first push arrived).
	connected bool
	// err: the stream broke; retryAt is when it is tried again.
	err     error
	retryAt time.Time
}

// eventsMsg carries every event that arrived since the last one the model
// took: one update, one render, however many pushes.
type eventsMsg []event

// errStreamEnded is the error of a stream the server closed cleanly.
var errStreamEnded = errors.New("the server closed the stream")

// stream keeps a stream to the server open until ctx ends: it reconnects
// after a failure (waiting longer each time, the first push resetting the
// wait), resuming the log lines after the last one received.
func (m *Model) stream(ctx context.Context) {
	send := func(e event) bool {
		select {
		case m.events <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	attempt := 0
	for ctx.Err() == nil {
		after, backlog := m.lastSeq.Load(), 0
		if after == 0 {
			backlog = firstBacklog
		}
		first := true
		err := m.opts.Backend.Stream(ctx, after, backlog, func(u state.Update) error {
			if first {
				first, attempt = false, 0
				if !send(event{connected: true}) {
					return ctx.Err()
				}
			}
			if !send(event{update: &u}) {
				return ctx.Err()
			}
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errStreamEnded
		}
		wait := m.opts.Retry(attempt)
		attempt++
		if !send(event{err: err, retryAt: m.opts.Now().Add(wait)}) {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// waitEvents waits for the next event, then takes every other one
// already waiting.
func (m *Model) waitEvents() tea.Cmd {
	ch, ctx := m.events, m.ctx
	return func() tea.Msg {
		var batch eventsMsg
		select {
		case e := <-ch:
			batch = append(batch, e)
		case <-ctx.Done():
			return nil
		}
		for len(batch) < 256 {
			select {
			case e := <-ch:
				batch = append(batch, e)
			default:
				return batch
			}
		}
		return batch
	}
}

// apply takes a batch of events into the state and tells the panes what
// changed.
func (m *Model) apply(batch eventsMsg) tea.Cmd {
	st := m.env.State
	now := m.opts.Now()
	var kinds state.Kind
	var lines logspane.Lines
	for _, e := range batch {
		switch {
		case e.connected:
			kinds |= st.Connect(now)
			m.retryAt = time.Time{}
		case e.err != nil:
			kinds |= st.Disconnect(now, e.err)
			m.retryAt = e.retryAt
		case e.update != nil:
			kinds |= st.Apply(*e.update)
			lines = append(lines, e.update.Logs...)
		}
	}
	var cmds []tea.Cmd
	if len(lines) > 0 {
		m.lastSeq.Store(max(m.lastSeq.Load(), lines[len(lines)-1].Seq))
		cmds = append(cmds, m.logs.Update(lines))
	}
	if kinds != 0 {
		cmds = append(cmds, m.broadcast(msg.Changed{Kinds: kinds}))
	}
	return tea.Batch(cmds...)
}

package tui

// The root answers the panes' requests: actions against the server and
// the queries whose results go back to the pane that asked.

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/checklistpane"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/postmortempane"
)

// act runs an acknowledgement, resolution or silence against the server.
func (m *Model) act(ev tea.Msg) tea.Cmd {
	if m.opts.ReadOnly {
		m.setStatus("read-only console: nothing is changed", true)
		return nil
	}
	ctx, b, user, now := m.ctx, m.opts.Backend, m.opts.User, m.opts.Now()
	run := func(text string, f func(context.Context) error) tea.Cmd {
		m.setStatus(text+"…", false)
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return actedMsg{text: text, err: f(ctx)}
		}
	}
	switch ev := ev.(type) {
	case msg.Ack:
		return run(fmt.Sprintf("INC-%d acknowledged", ev.Incident), func(ctx context.Context) error { return b.Ack(ctx, ev.Incident, user) })
	case msg.Resolve:
		return run(fmt.Sprintf("INC-%d resolved", ev.Incident), func(ctx context.Context) error { return b.Resolve(ctx, ev.Incident, user) })
	case msg.Act:
		done := map[string]string{"escalate": "escalated", "mitigate": "mitigated", "note": "noted", "assign": "has you as incident commander"}[ev.Action]
		if done == "" {
			done = ev.Action
		}
		return run(fmt.Sprintf("INC-%d %s", ev.Incident, done), func(ctx context.Context) error { return b.Act(ctx, user, ev) })
	case msg.Silence:
		name := termtext.Clean(ev.Alert.Name())
		var ms amlabels.Matchers
		ev.Alert.Labels.Range(func(l labels.Label) {
			if mt, err := amlabels.NewMatcher(amlabels.MatchEqual, l.Name, l.Value); err == nil {
				ms = append(ms, mt)
			}
		})
		s := silence.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(ev.For), CreatedBy: user, Comment: "silenced from the oncall console"}
		return run(fmt.Sprintf("%s silenced for %s", name, layout.Short(ev.For)), func(ctx context.Context) error {
			_, err := b.AddSilence(ctx, s)
			return err
		})
	}
	return nil
}

// queryTimeout bounds a query the console sends for a pane.
const queryTimeout = 30 * time.Second

// query runs f off the update loop within queryTimeout; what it returns
// goes back to the pane that asked.
func (m *Model) query(f func(context.Context) tea.Msg) tea.Cmd {
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		return f(ctx)
	}
}

func (m *Model) rangeQuery(q msg.RangeQuery) tea.Cmd {
	b := m.opts.Backend
	return m.query(func(ctx context.Context) tea.Msg {
		ss, err := b.Range(ctx, q.Expr, q.Start, q.End, q.Step)
		return msg.RangeResult{ID: q.ID, Expr: q.Expr, Series: ss, Err: err, Start: q.Start, End: q.End}
	})
}

func (m *Model) historyQuery(q msg.HistoryQuery) tea.Cmd {
	b := m.opts.Backend
	return m.query(func(ctx context.Context) tea.Msg {
		ts, err := b.History(ctx, q.Since, q.Alert, 1000)
		return msg.HistoryResult{ID: q.ID, Transitions: ts, Err: err}
	})
}

func (m *Model) reviewQuery(q postmortempane.Query) tea.Cmd {
	b := m.opts.Backend
	return m.query(func(ctx context.Context) tea.Msg {
		r, err := b.Review(ctx, q.Week)
		return postmortempane.Result{Week: q.Week, Review: r, Err: err}
	})
}

// readinessQuery answers the checklist pane: runs, and for one service
// its current records too.
func (m *Model) readinessQuery(q checklistpane.Query) tea.Cmd {
	b := m.opts.Backend
	return m.query(func(ctx context.Context) tea.Msg {
		res := checklistpane.Result{ID: q.ID, Service: q.Service}
		res.Runs, res.Err = b.ReadinessRuns(ctx, q.Service, q.Limit)
		if res.Err == nil && q.Service != "" {
			res.Records, res.Err = b.ReadinessRecords(ctx, q.Service)
		}
		return res
	})
}

func (m *Model) instantQuery(q msg.InstantQuery) tea.Cmd {
	b := m.opts.Backend
	return m.query(func(ctx context.Context) tea.Msg {
		r, err := b.Query(ctx, q.Expr, q.At)
		return msg.InstantResult{ID: q.ID, Expr: q.Expr, Result: r, Err: err}
	})
}

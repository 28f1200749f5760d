package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/routing/silence"
)

// silencePrompt asks for how long to silence the selected alert.
type silencePrompt struct {
	alert alerts.Alert
	input string
	err   string
}

// defaultSilence is the duration the prompt starts with.
const defaultSilence = "2h"

// silencedMsg reports a silence made from the console.
type silencedMsg struct {
	name string
	dur  time.Duration
	id   string
	err  error
}

// parseDuration reads 90m, 2h, 1h30m, or days as 1d.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 30m, 2h or 1d", s)
	}
	return d, nil
}

// startSilence opens the prompt for the alert selected in the alerts pane.
func (m *Model) startSilence() {
	if len(m.snap.alerts) == 0 {
		m.status = "no alert to silence"
		return
	}
	m.alerts.clamp(len(m.snap.alerts))
	m.silencing = &silencePrompt{alert: m.snap.alerts[m.alerts.i], input: defaultSilence}
}

// silenceKey edits the prompt: digits and units, backspace, enter, esc.
func (m *Model) silenceKey(k string) tea.Cmd {
	p := m.silencing
	switch k {
	case "esc", "ctrl+c":
		m.silencing, m.status = nil, "silence cancelled"
	case "backspace":
		if p.input != "" {
			p.input = p.input[:len(p.input)-1]
		}
	case "enter":
		d, err := parseDuration(p.input)
		if err != nil {
			p.err = err.Error()
			return nil
		}
		m.silencing = nil
		m.status = "silencing " + p.alert.Name() + "…"
		return m.silence(p.alert, d)
	default:
		if len(k) == 1 && strings.Contains("0123456789smhd", k) {
			p.input += k
		}
	}
	if k != "enter" {
		p.err = ""
	}
	return nil
}

// silence mutes exactly this alert (every one of its labels) for d.
func (m *Model) silence(a alerts.Alert, d time.Duration) tea.Cmd {
	ctx, b, user, now := m.ctx, m.opts.Backend, m.opts.User, m.opts.Now()
	return func() tea.Msg {
		var ms amlabels.Matchers
		a.Labels.Range(func(l labels.Label) {
			if mt, err := amlabels.NewMatcher(amlabels.MatchEqual, l.Name, l.Value); err == nil {
				ms = append(ms, mt)
			}
		})
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		id, err := b.AddSilence(ctx, silence.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(d), CreatedBy: user,
			Comment: "silenced from the oncall console"})
		return silencedMsg{name: a.Name(), dur: d, id: id, err: err}
	}
}

// silenceLine is the footer while the prompt is open.
func (m *Model) silenceLine() string {
	p := m.silencing
	line := m.th.Warn.Render(fmt.Sprintf("silence %s for: %s", p.alert.Name(), p.input)) + "█  "
	if p.err != "" {
		return line + m.th.Error.Render(p.err)
	}
	return line + m.th.Dim.Render("enter silence · esc cancel · e.g. 30m 2h 1d · "+p.alert.Labels.String())
}

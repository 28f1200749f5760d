package alertspane

// Silencing from the pane: s asks how long, in the footer, and sends the
// request.

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
)

// startSilence opens the prompt for how long to silence the alert.
func (p *Pane) startSilence(fp uint64) tea.Cmd {
	if p.env.ReadOnly {
		return status("read-only console: silencing is off", true)
	}
	if _, ok := p.env.State.Alert(fp); !ok {
		return nil
	}
	in := textinput.New()
	in.Prompt = ""
	in.SetValue("2h")
	in.CursorEnd()
	st := textinput.DefaultStyles(p.env.Theme.Dark)
	st.Cursor.Blink = false
	in.SetStyles(st)
	p.prompt, p.promptE, p.selFP = &in, "", fp
	return in.Focus()
}

func (p *Pane) promptKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		p.prompt = nil
		return status("silence cancelled", false)
	case "enter":
		d, err := parseDuration(p.prompt.Value())
		if err != nil {
			p.promptE = err.Error()
			return nil
		}
		a, ok := p.env.State.Alert(p.selFP)
		p.prompt = nil
		if !ok {
			return status("the alert is gone", true)
		}
		alert := *a
		return func() tea.Msg { return msg.Silence{Alert: alert, For: d} }
	}
	p.promptE = ""
	in, cmd := p.prompt.Update(k)
	p.prompt = &in
	return cmd
}

// promptLine is the silence prompt, when open.
func (p *Pane) promptLine(w int) string {
	if p.prompt == nil {
		return ""
	}
	th := p.env.Theme
	name := ""
	if a, ok := p.env.State.Alert(p.selFP); ok {
		name = termtext.Clean(a.Name())
	}
	line := th.Warn.Render("silence "+name+" for: ") + p.prompt.View()
	if p.promptE != "" {
		line += "  " + th.Error.Render(p.promptE)
	} else {
		line += th.Dim.Render("  enter silence · esc cancel · 30m 2h 1d")
	}
	return layout.Fit(line, w)
}

// parseDuration reads 90m, 2h, 1h30m, or days as 1d.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 30m, 2h or 1d", s)
	}
	return d, nil
}

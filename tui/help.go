package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/state"
)

// keySection is one heading of the help: a pane's bindings.
type keySection struct {
	name     string
	bindings []key.Binding
}

// help lists every key binding, generated from the keymaps (so it cannot
// drift from what the keys do), filtered as you type.
type help struct {
	env    *state.Env
	shown  bool
	filter textinput.Model
	vp     viewport.Model
}

func newHelp(env *state.Env) *help {
	in := textinput.New()
	in.Prompt = "filter: "
	in.Placeholder = "type to find a key or what it does"
	st := textinput.DefaultStyles(env.Theme.Dark)
	st.Cursor.Blink = false
	in.SetStyles(st)
	return &help{env: env, filter: in, vp: viewport.New()}
}

func (h *help) open() tea.Cmd {
	h.shown = true
	h.filter.SetValue("")
	h.vp.GotoTop()
	return h.filter.Focus()
}

func (h *help) update(ev tea.Msg) tea.Cmd {
	if k, ok := ev.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc", "?":
			if k.String() == "?" && h.filter.Value() != "" {
				break // a question mark in the filter
			}
			h.shown = false
			h.filter.Blur()
			return nil
		case "up", "down", "pgup", "pgdown":
			h.vp, _ = h.vp.Update(ev)
			return nil
		}
	}
	var cmd tea.Cmd
	h.filter, cmd = h.filter.Update(ev)
	h.vp.GotoTop()
	return cmd
}

// view draws the help in w×h cells: the filter, then the matching keys
// under their sections.
func (h *help) view(sections []keySection, w, ht int) string {
	th := h.env.Theme
	head := layout.Box(*th, "Help · ? or esc closes · ↑↓ scroll", nil, w, 1, true)
	h.filter.SetWidth(max(10, w-12))
	head = append(head, layout.Fit(h.filter.View(), w))
	q := strings.ToLower(strings.TrimSpace(h.filter.Value()))
	var lines []string
	for _, s := range sections {
		var rows []string
		for _, b := range s.bindings {
			hl := b.Help()
			if hl.Key == "" {
				continue
			}
			if q != "" && !strings.Contains(strings.ToLower(hl.Key+" "+hl.Desc+" "+s.name), q) {
				continue
			}
			rows = append(rows, "  "+th.Key.Render(layout.Fit(hl.Key, 14))+" "+hl.Desc)
		}
		if len(rows) > 0 {
			lines = append(lines, "", th.Bold.Render(s.name))
			lines = append(lines, rows...)
		}
	}
	if len(lines) == 0 {
		lines = []string{"", th.Dim.Render("No key matches " + `"` + q + `"`)}
	}
	h.vp.SetWidth(w)
	h.vp.SetHeight(ht - len(head))
	h.vp.SetContentLines(lines)
	return layout.Lines(append(head, strings.Split(h.vp.View(), "\n")...), w, ht)
}

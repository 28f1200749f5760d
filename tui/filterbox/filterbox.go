// Package filterbox is the "/" filter line of a pane: typed live, kept
// with enter, cleared with esc. The pane decides what the text means and
// says when it does not parse.
package filterbox

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/theme"
)

// Box is a filter line.
type Box struct {
	th *theme.Theme
	in textinput.Model
	// Err says why the text does not parse ("" when it does); the pane
	// sets it.
	Err string
	// kept is the text before the box was opened, restored by esc.
	kept string
}

// New returns a closed filter box.
func New(th *theme.Theme) *Box {
	in := textinput.New()
	in.Prompt = "/"
	st := textinput.DefaultStyles(th.Dark)
	st.Cursor.Blink = false // a blinking cursor re-renders twice a second for nothing
	st.Focused.Prompt = th.Key.Style
	in.SetStyles(st)
	return &Box{th: th, in: in}
}

// Open starts editing the current filter.
func (b *Box) Open() tea.Cmd {
	b.kept = b.in.Value()
	b.in.CursorEnd()
	return b.in.Focus()
}

// Editing reports whether the box takes the keys.
func (b *Box) Editing() bool { return b.in.Focused() }

// Value is the filter's text.
func (b *Box) Value() string { return b.in.Value() }

// Set replaces the filter's text (from the palette: `:alerts sev=page`).
func (b *Box) Set(s string) { b.in.SetValue(s) }

// Update handles a message while editing. It reports whether the text
// changed, so the pane re-filters as the user types. Enter keeps the
// filter; esc restores the one before.
func (b *Box) Update(m tea.Msg) (changed bool, cmd tea.Cmd) {
	if k, ok := m.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			b.in.Blur()
			return false, nil
		case "esc":
			b.in.Blur()
			if b.in.Value() == b.kept {
				b.in.SetValue("") // esc twice clears
			} else {
				b.in.SetValue(b.kept)
			}
			return true, nil
		}
	}
	before := b.in.Value()
	b.in, cmd = b.in.Update(m)
	return b.in.Value() != before, cmd
}

// Shown reports whether the box takes a line: while editing, with a
// filter set, or with an error to show.
func (b *Box) Shown() bool { return b.Editing() || b.Value() != "" || b.Err != "" }

// View draws the box in w cells: the input, then its error.
func (b *Box) View(w int) string {
	var line string
	if b.Editing() {
		b.in.SetWidth(max(10, w-len(b.Err)-4))
		line = b.in.View()
	} else {
		line = b.th.Key.Render("/") + termtext.Clean(b.in.Value()) + b.th.Dim.Render("  (/ edit · esc esc clear)")
	}
	if b.Err != "" {
		line += "  " + b.th.Error.Render(b.Err)
	}
	return layout.Fit(line, w)
}

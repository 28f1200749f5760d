package tui

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/oncallhq/oncall/tui/theme"
)

// frames draws the console on a terminal the moment what it shows
// changes, and not otherwise. Bubble Tea's own renderer draws on a fixed
// ticker (60 a second): an idle console then wakes every 16 ms for
// nothing, and a key waits up to a tick for its frame. frames keeps
// Bubble Tea's input, event loop and commands, and does the drawing with
// the same cell renderer (ultraviolet's), called from Update.
type frames struct {
	out io.Writer
	// buf gathers a frame, written to out at once.
	buf   bytes.Buffer
	scr   *uv.TerminalRenderer
	cells uv.ScreenBuffer
	w, h  int

	started bool
	content string
	title   string
	mouse   tea.MouseMode
	// repaint: the next frame is drawn whole (a resize).
	repaint bool
}

func newFrames(out io.Writer, env []string, w, h int) *frames {
	f := &frames{out: out, cells: uv.NewScreenBuffer(w, h), w: w, h: h}
	scr := uv.NewTerminalRenderer(&f.buf, env)
	scr.SetColorProfile(colorprofile.Detect(out, env))
	scr.SetTabStops(-1)
	scr.SetScrollOptim(true)
	scr.SetFullscreen(true)
	scr.SetRelativeCursor(false)
	scr.Resize(w, h)
	f.scr = scr
	return f
}

// resize takes the terminal's new size: the next frame is drawn whole.
func (f *frames) resize(w, h int) {
	if w <= 0 || h <= 0 || (w == f.w && h == f.h) {
		return
	}
	f.w, f.h = w, h
	f.cells.Resize(w, h)
	f.scr.Resize(w, h)
	f.scr.Erase()
	f.repaint = true
}

// draw puts v on the terminal: nothing when it shows what is there. A
// frame is one write, inside a synchronized update (mode 2026) so that a
// terminal that knows it shows the frame whole; others ignore the mode.
func (f *frames) draw(v tea.View) error {
	f.buf.Reset()
	if !f.started {
		f.started = true
		f.buf.WriteString(ansi.SetModeAltScreenSaveCursor + ansi.HideCursor + ansi.SetModeBracketedPaste)
		f.scr.Erase()
		f.repaint = true
	}
	if v.WindowTitle != f.title {
		f.title = v.WindowTitle
		f.buf.WriteString(ansi.SetWindowTitle(f.title))
	}
	if v.MouseMode != f.mouse {
		f.buf.WriteString(mouseModes(f.mouse, v.MouseMode))
		f.mouse = v.MouseMode
	}
	if v.Content != f.content || f.repaint {
		f.content, f.repaint = v.Content, false
		f.cells.Clear()
		uv.NewStyledString(v.Content).Draw(f.cells, f.cells.Bounds())
		modes := f.buf.Len()
		f.buf.WriteString(ansi.SetModeSynchronizedOutput)
		f.scr.Render(f.cells.RenderBuffer)
		if err := f.scr.Flush(); err != nil {
			return err
		}
		if f.buf.Len() == modes+len(ansi.SetModeSynchronizedOutput) {
			f.buf.Truncate(modes) // the cells are those on screen
		} else {
			f.buf.WriteString(ansi.ResetModeSynchronizedOutput)
		}
	}
	if f.buf.Len() == 0 {
		return nil
	}
	_, err := f.out.Write(f.buf.Bytes())
	return err
}

// close gives the terminal back as it was: the main screen, the cursor,
// no mouse reporting or bracketed paste.
func (f *frames) close() error {
	if !f.started {
		return nil
	}
	_, err := io.WriteString(f.out, mouseModes(f.mouse, tea.MouseModeNone)+ansi.ResetModeBracketedPaste+ansi.ShowCursor+ansi.ResetModeAltScreenSaveCursor)
	return err
}

// mouseModes are the sequences that move mouse reporting from one mode to
// another.
func mouseModes(from, to tea.MouseMode) string {
	if from == to {
		return ""
	}
	off := map[tea.MouseMode]string{
		tea.MouseModeCellMotion: ansi.ResetModeMouseButtonEvent + ansi.ResetModeMouseExtSgr,
		tea.MouseModeAllMotion:  ansi.ResetModeMouseAnyEvent + ansi.ResetModeMouseExtSgr,
	}[from]
	on := map[tea.MouseMode]string{
		tea.MouseModeCellMotion: ansi.SetModeMouseButtonEvent + ansi.SetModeMouseExtSgr,
		tea.MouseModeAllMotion:  ansi.SetModeMouseAnyEvent + ansi.SetModeMouseExtSgr,
	}[to]
	return off + on
}

// onDemand wraps the root model so that each Update ends with its frame
// drawn; View hands Bubble Tea (which runs without a renderer) the frame
// already made.
type onDemand struct {
	m     *Model
	f     *frames
	view  tea.View
	sized bool
	err   error
}

func (o *onDemand) Init() tea.Cmd { return o.m.Init() }

func (o *onDemand) Update(ev tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := ev.(tea.WindowSizeMsg); ok {
		o.f.resize(ws.Width, ws.Height)
		o.sized = true
	}
	_, cmd := o.m.Update(ev)
	if !o.sized {
		return o, cmd // nothing to lay out yet
	}
	o.view = o.m.View()
	if err := o.f.draw(o.view); err != nil && o.err == nil {
		// The terminal is gone: nobody sees the console any more.
		o.err = err
		return o, tea.Batch(cmd, tea.Quit)
	}
	return o, cmd
}

func (o *onDemand) View() tea.View { return o.view }

// runOnDemand runs the console on the terminal in and out, drawing
// frames on demand (see frames). It puts the terminal in raw mode and
// follows its size itself, which Bubble Tea does only with its renderer.
func runOnDemand(m *Model, in, out *os.File, progOpts []tea.ProgramOption) error {
	w, h, err := term.GetSize(out.Fd())
	if err != nil {
		return err
	}
	raw, err := term.MakeRaw(in.Fd())
	if err != nil {
		return err
	}
	defer term.Restore(in.Fd(), raw)
	f := newFrames(out, os.Environ(), w, h)
	if m.opts.Theme == theme.Auto {
		// Asked at once: Bubble Tea sends its own question (Init's
		// RequestBackgroundColor) with its next tick, a second away here.
		io.WriteString(out, ansi.RequestBackgroundColor)
	}
	od := &onDemand{m: m, f: f}
	opts := append([]tea.ProgramOption{tea.WithContext(m.ctx), tea.WithInput(in), tea.WithOutput(out),
		tea.WithoutRenderer(), tea.WithFPS(1), tea.WithWindowSize(w, h)}, progOpts...)
	p := tea.NewProgram(od, opts...)

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	stop := make(chan struct{})
	defer func() {
		signal.Stop(winch)
		close(stop)
	}()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-winch:
				if w, h, err := term.GetSize(out.Fd()); err == nil {
					p.Send(tea.WindowSizeMsg{Width: w, Height: h})
				}
			}
		}
	}()
	_, err = p.Run()
	err = errors.Join(err, f.close())
	if od.err != nil && err == nil {
		err = od.err
	}
	return err
}

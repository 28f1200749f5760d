package tui

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"github.com/oncallhq/oncall/tui/internal/tuitest"
)

var termEnv = []string{"TERM=xterm-256color", "COLORTERM=truecolor"}

// screenOf is the text a terminal emulator shows after out, line by line
// without trailing blanks.
func screenOf(out []byte, w, h int) string {
	e := vt.NewEmulator(w, h)
	e.Write(out)
	lines := strings.Split(e.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

func trimmed(content string) string {
	lines := strings.Split(ansi.Strip(content), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// What frames write makes a real terminal emulator show each view exactly,
// frame after frame of partial updates and across a resize; a frame
// that shows what is there writes nothing.
func TestFramesDrawWhatTheViewSays(t *testing.T) {
	var out bytes.Buffer
	f := newFrames(&out, termEnv, 40, 6)
	views := []string{
		"\x1b[1moncall\x1b[0m · 0 firing\nalpha  ok\nbeta   ok\n",
		"\x1b[1moncall\x1b[0m · 1 firing\nalpha  \x1b[31mFIRING\x1b[0m\nbeta   ok\n",
		"\x1b[1moncall\x1b[0m · 1 firing\nalpha  \x1b[31mFIRING\x1b[0m\nbeta   ok\ngamma  pending ⏳ ünïcode\n",
		"short\n",
	}
	for i, v := range views {
		if err := f.draw(tea.View{Content: v, WindowTitle: "oncall"}); err != nil {
			t.Fatal(err)
		}
		if got, want := screenOf(out.Bytes(), 40, 6), trimmed(v); got != want {
			t.Fatalf("frame %d: the terminal shows\n%s\nwant\n%s", i, got, want)
		}
		n := out.Len()
		if err := f.draw(tea.View{Content: v, WindowTitle: "oncall"}); err != nil || out.Len() != n {
			t.Fatalf("frame %d again wrote %d bytes (%v)", i, out.Len()-n, err)
		}
	}
	if !bytes.HasPrefix(out.Bytes(), []byte(ansi.SetModeAltScreenSaveCursor+ansi.HideCursor+ansi.SetModeBracketedPaste)) ||
		bytes.Count(out.Bytes(), []byte(ansi.SetWindowTitle("oncall"))) != 1 {
		t.Errorf("the first frame does not enter the alternate screen, hide the cursor and set the title once: %q", out.Bytes()[:40])
	}

	// A one-cell change writes a few bytes, not the frame, inside a
	// synchronized update.
	before := out.Len()
	f.draw(tea.View{Content: "shorT\n", WindowTitle: "oncall"})
	frame := out.Bytes()[before:]
	if d := len(frame) - len(ansi.SetModeSynchronizedOutput+ansi.ResetModeSynchronizedOutput); d <= 0 || d > 20 ||
		!bytes.HasPrefix(frame, []byte(ansi.SetModeSynchronizedOutput)) || !bytes.HasSuffix(frame, []byte(ansi.ResetModeSynchronizedOutput)) {
		t.Errorf("a one-cell change wrote %q", frame)
	}

	// After a resize the next frame is whole, at the new size.
	f.resize(30, 4)
	before = out.Len()
	f.draw(tea.View{Content: "resized\nto 30x4\n", WindowTitle: "oncall"})
	e := vt.NewEmulator(30, 4)
	e.Write(out.Bytes()[before:])
	if got := strings.TrimRight(strings.Split(e.String(), "\n")[1], " "); got != "to 30x4" {
		t.Errorf("after the resize the frame alone shows %q on line 2: not drawn whole", got)
	}

	f.draw(tea.View{Content: "resized\nto 30x4\n", WindowTitle: "oncall", MouseMode: tea.MouseModeCellMotion})
	if !bytes.HasSuffix(out.Bytes(), []byte(ansi.SetModeMouseButtonEvent+ansi.SetModeMouseExtSgr)) {
		t.Errorf("mouse reporting not turned on: %q", out.Bytes()[out.Len()-20:])
	}
	out.Reset()
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	if want := ansi.ResetModeMouseButtonEvent + ansi.ResetModeMouseExtSgr + ansi.ResetModeBracketedPaste + ansi.ShowCursor + ansi.ResetModeAltScreenSaveCursor; out.String() != want {
		t.Errorf("close wrote %q, want %q", out.String(), want)
	}
}

// failingWriter is a terminal that went away.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/pts/3: input/output error")
}

// The console draws nothing before it knows its size, then a frame for
// every update; when the terminal is gone it quits and says why.
func TestOnDemandDrawsEachUpdate(t *testing.T) {
	srv := newServer()
	m := New(Options{Backend: srv, User: "tester", Now: func() time.Time { return now }})
	var out bytes.Buffer
	od := &onDemand{m: m, f: newFrames(&out, termEnv, 100, 20)}
	od.Update(tuitest.Key("2"))
	if out.Len() != 0 {
		t.Fatalf("drew %d bytes before knowing the size", out.Len())
	}
	od.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	if !strings.Contains(screenOf(out.Bytes(), 100, 20), "connecting") {
		t.Errorf("the first frame:\n%s", screenOf(out.Bytes(), 100, 20))
	}
	if v := od.View(); !strings.Contains(ansi.Strip(v.Content), "connecting") {
		t.Errorf("View is not the frame drawn: %q", v.Content)
	}
	od.Update(tuitest.Key("6"))
	if !strings.Contains(screenOf(out.Bytes(), 100, 20), "Logs") {
		t.Errorf("after 6:\n%s", screenOf(out.Bytes(), 100, 20))
	}

	od.f = newFrames(failingWriter{}, termEnv, 100, 20)
	_, cmd := od.Update(tuitest.Key("1"))
	if od.err == nil || !strings.Contains(od.err.Error(), "input/output error") || cmd == nil {
		t.Fatalf("a gone terminal: err %v, cmd %v", od.err, cmd)
	}
	found := false
	for _, msg := range tuitest.Msgs(cmd) {
		_, quit := msg.(tea.QuitMsg)
		found = found || quit
	}
	if !found {
		t.Error("the console does not quit when its terminal is gone")
	}
}

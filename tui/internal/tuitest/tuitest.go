// Package tuitest helps test the console's panes: key presses by name,
// an environment on a fixed clock, golden screens in testdata/.
package tuitest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/tui/state"
	"github.com/oncallhq/oncall/tui/theme"
)

// The -update flag rewrites golden files. teatest's golden package may
// have defined it already: then it is shared.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Now is the fixed clock of pane tests.
var Now = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)

// Env is a dark-themed environment on the fixed clock, connected to a
// server that answered at Now.
func Env() *state.Env {
	th := theme.New(true)
	st := &state.State{At: Now, Connected: true, Since: Now.Add(-time.Hour)}
	return &state.Env{State: st, Theme: &th, Now: func() time.Time { return Now }, User: "tester"}
}

// Key is the key press a name stands for: "enter", "esc", "up", "ctrl+u",
// "shift+tab", "space", or a single character.
func Key(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
	}
	switch {
	case name == "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case name == "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case strings.HasPrefix(name, "ctrl+") && len(name) == 6:
		return tea.KeyPressMsg{Code: rune(name[5]), Mod: tea.ModCtrl}
	}
	if c, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("tuitest: unknown key " + name)
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// Keys are the presses of each character of s, for typing text.
func Keys(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		if r == ' ' {
			out = append(out, Key("space"))
			continue
		}
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// Golden compares a screen, without its colours, with testdata/name.golden
// (rewritten with -update). Trailing spaces are kept: a screen is exactly
// as wide as it was asked to be.
func Golden(t *testing.T, name, screen string) {
	t.Helper()
	got := ansi.Strip(screen) + "\n"
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// Size checks that a screen is exactly w cells by h lines.
func Size(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i+1, n, w, ansi.Strip(l))
			return
		}
	}
}

// Poison is text a hostile sender puts in every string it controls: an
// escape sequence that would paint the terminal red and retitle it.
const Poison = "\x1b[41mPWNED\x1b]0;owned\x07"

// Clean reports whether a screen obeys none of Poison's sequences (the
// console's own styles are not these).
func Clean(screen string) bool {
	return !strings.Contains(screen, "\x1b[41m") && !strings.Contains(screen, "\x1b]0;") && !strings.Contains(screen, "\x07")
}

// Msgs runs a command and the commands of the batches it returns, and
// returns the messages they produce (the ones a program would deliver).
// Commands that wait on a timer are not run: a pane's requests are
// immediate.
func Msgs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	m := cmd()
	switch m := m.(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range m {
			out = append(out, Msgs(c)...)
		}
		return out
	case nil:
		return nil
	}
	return []tea.Msg{m}
}

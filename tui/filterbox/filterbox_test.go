package filterbox

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/tui/internal/tuitest"
)

// Typed live; enter keeps; esc restores the filter from before the box
// opened, and a second esc clears it.
func TestEditing(t *testing.T) {
	b := New(tuitest.Env().Theme)
	b.Open()
	changed := false
	for _, k := range tuitest.Keys("level>=warn") {
		c, _ := b.Update(k)
		changed = changed || c
	}
	if !changed || b.Value() != "level>=warn" || !b.Editing() {
		t.Fatalf("typed: %q", b.Value())
	}
	b.Update(tuitest.Key("enter"))
	if b.Editing() || b.Value() != "level>=warn" || !b.Shown() {
		t.Fatalf("enter keeps: %q", b.Value())
	}
	b.Open()
	b.Update(tuitest.Key("backspace"))
	b.Update(tuitest.Key("esc"))
	if b.Value() != "level>=warn" {
		t.Errorf("esc restores: %q", b.Value())
	}
	b.Open()
	b.Update(tuitest.Key("esc"))
	if b.Value() != "" || b.Shown() {
		t.Errorf("esc on an unchanged filter clears it: %q", b.Value())
	}
	b.Set("x")
	b.Err = "bad term"
	if v := ansi.Strip(b.View(60)); !strings.Contains(v, "/x") || !strings.Contains(v, "bad term") || ansi.StringWidth(b.View(60)) != 60 {
		t.Errorf("view %q", v)
	}
	b.Set(tuitest.Poison)
	if !tuitest.Clean(b.View(80)) {
		t.Error("a filter set from outside is drawn raw")
	}
}

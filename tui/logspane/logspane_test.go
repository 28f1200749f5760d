package logspane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
)

// lines makes n log lines numbered from seq, one every 100ms ending at
// tuitest.Now; every tenth an error, every seventh a warning.
func lines(seq uint64, n int) Lines {
	out := make(Lines, n)
	for i := range out {
		s := seq + uint64(i)
		e := logs.Entry{Seq: s, Time: tuitest.Now.Add(-time.Duration(200_000-int(s)) * 100 * time.Millisecond), Level: logs.LevelInfo,
			Service: "matchmaking", Message: fmt.Sprintf("request %d served", s), TraceID: fmt.Sprintf("t%d", s),
			Fields: map[string]string{"status": "200", "handler": "/match"}}
		switch {
		case s%10 == 0:
			e.Level, e.Message, e.Fields["status"] = logs.LevelError, fmt.Sprintf("request %d failed: upstream timed out", s), "502"
		case s%7 == 0:
			e.Level, e.Message = logs.LevelWarn, fmt.Sprintf("request %d slow", s)
		}
		out[i] = e
	}
	return out
}

func press(p *Pane, names ...string) {
	for _, n := range names {
		p.Update(tuitest.Key(n))
	}
}

func typeText(p *Pane, s string) {
	for _, k := range tuitest.Keys(s) {
		p.Update(k)
	}
}

// selectedText is the text of the highlighted row.
func selectedMessage(p *Pane) string {
	e, ok := p.selected()
	if !ok {
		return ""
	}
	return e.Message
}

// Once the buffer is full, scrolling back still works: the selection stays
// on the line it was on while new lines arrive and old ones scroll out, and
// ordinary scroll-out is not reported as lost lines.
func TestScrollBackAfterTheBufferFills(t *testing.T) {
	p := New(tuitest.Env(), 2000)
	for s := uint64(1); s < 5000; s += 500 {
		p.Update(lines(s, 500))
	}
	if p.buf.n != 2000 || p.lost != 0 {
		t.Fatalf("kept %d, lost %d", p.buf.n, p.lost)
	}
	press(p, "k", "k", "k")
	if !p.paused || selectedMessage(p) != "request 4997 served" {
		t.Fatalf("after k k k: paused %v on %q", p.paused, selectedMessage(p))
	}
	before := p.View(120, 20)
	for s := uint64(5001); s < 6000; s += 100 {
		p.Update(lines(s, 100))
	}
	if selectedMessage(p) != "request 4997 served" {
		t.Errorf("new lines moved the selection to %q", selectedMessage(p))
	}
	after := p.View(120, 20)
	if strip(rows(before)) != strip(rows(after)) {
		t.Errorf("the rows moved while paused:\n%s\n---\n%s", before, after)
	}
	if strings.Contains(after, "lost") || strings.Contains(after, "dropped") {
		t.Errorf("scroll-out reads as loss:\n%s", after)
	}
	press(p, "pgup", "pgup", "g")
	if selectedMessage(p) != "request 4001 served" {
		t.Errorf("g: %q", selectedMessage(p))
	}
	press(p, "f")
	if p.paused {
		t.Error("f should follow again")
	}
}

// E on the newest line (following) finds the newest error, even when
// that is the newest line; then the one before.
func TestPreviousErrorFromTheNewestLine(t *testing.T) {
	p := New(tuitest.Env(), 0)
	p.Update(lines(1, 30)) // errors at 10, 20, 30: the newest line is one
	press(p, "E")
	if got := selectedMessage(p); got != "request 30 failed: upstream timed out" {
		t.Fatalf("E from follow: %q", got)
	}
	press(p, "E")
	if got := selectedMessage(p); got != "request 20 failed: upstream timed out" {
		t.Fatalf("E again: %q", got)
	}
	press(p, "w")
	if got := selectedMessage(p); got != "request 21 slow" {
		t.Fatalf("w: %q", got)
	}
	press(p, "E", "E", "E")
	if p.note != "no earlier error in the buffer" {
		t.Errorf("note %q", p.note)
	}
}

// Only gaps in the server's sequence count as lost lines.
func TestGapsAreLost(t *testing.T) {
	p := New(tuitest.Env(), 0)
	p.Update(lines(1, 10))
	p.Update(lines(26, 10)) // 11..25 never arrived
	p.Update(lines(30, 6))  // a resumed stream repeating 30..35
	if p.lost != 15 || p.buf.n != 20 {
		t.Fatalf("lost %d kept %d", p.lost, p.buf.n)
	}
	if !strings.Contains(p.Title(), "15 lost") {
		t.Errorf("title %q", p.Title())
	}
}

// The filter is applied as it is typed; one that does not parse says why
// and keeps the last good one; esc restores the filter from before.
func TestFilterAsYouType(t *testing.T) {
	p := New(tuitest.Env(), 0)
	p.Update(lines(1, 100))
	press(p, "/")
	if !p.Capturing() {
		t.Fatal("/ should open the filter")
	}
	typeText(p, "level>=error")
	if p.live() != 10 {
		t.Fatalf("level>=error shows %d lines", p.live())
	}
	typeText(p, " status>=")
	if !strings.Contains(p.box.Err, `status>=: "" is neither a number nor a duration`) || !strings.Contains(p.View(100, 10), "neither a number") {
		t.Errorf("a half-typed term: err %q", p.box.Err)
	}
	typeText(p, "500")
	press(p, "enter")
	if p.Capturing() || p.live() != 10 || !strings.Contains(p.Title(), "10 of 100 match") {
		t.Errorf("kept: %d shown, %q", p.live(), p.Title())
	}
	p.Update(lines(101, 20)) // new lines are filtered as they arrive
	if p.live() != 12 {
		t.Errorf("%d shown after new lines", p.live())
	}
	press(p, "/", "backspace", "backspace", "backspace", "esc")
	if p.box.Value() != "level>=error status>=500" {
		t.Errorf("esc should restore the kept filter, got %q", p.box.Value())
	}
	p.Update(msg.Open{Pane: "logs", Arg: "service=matchmaking slow"})
	if p.live() != 16 {
		t.Errorf(":logs filter shows %d", p.live())
	}
}

// A pause on a line that scrolls out of the buffer moves to the oldest
// line and says so.
func TestPausedLineScrollsOut(t *testing.T) {
	p := New(tuitest.Env(), 100)
	p.Update(lines(1, 100))
	press(p, "g")
	p.Update(lines(101, 50))
	if got := selectedMessage(p); got != "request 51 served" || !strings.Contains(p.View(100, 10), "scrolled out") {
		t.Errorf("selection %q\n%s", got, p.View(100, 10))
	}
}

// Enter shows every field of the line; t filters by its trace id.
func TestLineDetail(t *testing.T) {
	p := New(tuitest.Env(), 0)
	p.Update(lines(1, 20))
	press(p, "E", "enter")
	if p.Crumbs() == nil {
		t.Fatal("enter should open the detail")
	}
	tuitest.Golden(t, "detail_80x24", p.View(80, 24))
	press(p, "t")
	if p.box.Value() != "trace_id=t20" || p.live() != 1 {
		t.Errorf("t: filter %q shows %d", p.box.Value(), p.live())
	}
	if !p.Back() || p.Crumbs() != nil {
		t.Error("esc should leave the detail")
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		p := New(tuitest.Env(), 0)
		p.Update(lines(1, 500))
		name := fmt.Sprintf("following_%dx%d", size.w, size.h)
		v := p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, name, v)
		press(p, "/")
		typeText(p, "level>=warn")
		press(p, "enter", "E", "E")
		v = p.View(size.w, size.h)
		tuitest.Size(t, v, size.w, size.h)
		tuitest.Golden(t, fmt.Sprintf("paused_filtered_%dx%d", size.w, size.h), v)
	}
	empty := New(tuitest.Env(), 0)
	tuitest.Golden(t, "empty_80x24", empty.View(80, 24))
}

// Log lines are outside text: their escape sequences are shown, not
// obeyed.
func TestOutsideTextIsClean(t *testing.T) {
	p := New(tuitest.Env(), 0)
	p.Update(Lines{{Seq: 1, Time: tuitest.Now, Level: logs.LevelError, Service: tuitest.Poison, Message: "boom " + tuitest.Poison,
		TraceID: tuitest.Poison, Fields: map[string]string{"status": tuitest.Poison, tuitest.Poison: "x"}}})
	for _, v := range []string{p.View(160, 20), func() string { press(p, "enter"); return p.View(160, 20) }()} {
		if !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
			t.Errorf("raw sequences on screen:\n%q", v)
		}
	}
}

func rows(screen string) string {
	ls := strings.Split(screen, "\n")
	return strings.Join(ls[2:], "\n") // below the title and histogram
}

func strip(s string) string { return ansi.Strip(s) }

// The view of a full 100,000-line buffer costs what its visible rows
// cost, following or paused.
func BenchmarkViewFullBuffer(b *testing.B) {
	p := New(tuitest.Env(), 100_000)
	for s := uint64(1); s <= 100_000; s += 5000 {
		p.Update(lines(s, 5000))
	}
	b.Run("following", func(b *testing.B) {
		for b.Loop() {
			p.View(160, 45)
		}
	})
	press(p, "E", "E", "E")
	b.Run("paused", func(b *testing.B) {
		for b.Loop() {
			p.View(160, 45)
		}
	})
	b.Run("batch of 500 new lines, filtered", func(b *testing.B) {
		p.box.Set("level>=warn")
		p.refilter()
		s := uint64(100_001)
		for b.Loop() {
			p.Update(lines(s, 500))
			s += 500
		}
	})
}

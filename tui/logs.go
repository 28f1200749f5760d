package tui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/telemetry/logs"
)

// maxLogLines bounds the lines the console keeps; the server holds the big
// buffer.
const maxLogLines = 2000

// logsPane tails the server's log buffer. It follows the newest line unless
// the user scrolls up.
type logsPane struct {
	th      theme
	lines   []logs.Entry
	lastSeq uint64
	follow  bool
	offset  int // lines scrolled up from the bottom when not following
}

func newLogsPane(th theme) *logsPane { return &logsPane{th: th, follow: true} }

// add appends a batch of entries, keeping at most maxLogLines.
func (p *logsPane) add(es []logs.Entry) {
	if len(es) == 0 {
		return
	}
	p.lines = append(p.lines, es...)
	p.lastSeq = es[len(es)-1].Seq
	if over := len(p.lines) - maxLogLines; over > 0 {
		p.lines = append(p.lines[:0:0], p.lines[over:]...)
	}
	if !p.follow {
		p.offset = min(p.offset+len(es), len(p.lines))
	}
}

func (p *logsPane) title(s *snapshot) string {
	mode := "following"
	if !p.follow {
		mode = fmt.Sprintf("paused, %d newer below", p.offset)
	}
	return fmt.Sprintf("Logs (%s)", mode)
}

func (p *logsPane) keymap() []binding {
	return []binding{
		{[]string{"k", "up"}, "scroll up (pauses follow)"},
		{[]string{"j", "down"}, "scroll down"},
		{[]string{"f", "G", "end"}, "follow newest"},
	}
}

func (p *logsPane) key(k string, _ *snapshot) (bool, tea.Cmd) {
	switch k {
	case "k", "up":
		p.follow, p.offset = false, min(p.offset+1, max(0, len(p.lines)-1))
	case "j", "down":
		p.offset = max(0, p.offset-1)
		p.follow = p.offset == 0
	case "f", "G", "end":
		p.follow, p.offset = true, 0
	default:
		return false, nil
	}
	return true, nil
}

func (p *logsPane) render(_ *snapshot, w, h int, _ bool, _ time.Time) []string {
	rows := h - 1
	end := len(p.lines) - p.offset
	start := max(0, end-rows)
	var out []string
	for _, e := range p.lines[start:end] {
		out = append(out, p.line(e))
	}
	if len(out) == 0 {
		out = append(out, p.th.Dim.Render("No log lines yet."))
	}
	return out
}

func (p *logsPane) line(e logs.Entry) string {
	ts := "--:--:--"
	if !e.Time.IsZero() {
		ts = e.Time.Local().Format("15:04:05")
	}
	lvl := fmt.Sprintf("%-5s", e.Level.String())
	switch {
	case e.Level >= logs.LevelError:
		lvl = p.th.Error.Render(lvl)
	case e.Level == logs.LevelWarn:
		lvl = p.th.Warn.Render(lvl)
	default:
		lvl = p.th.Dim.Render(lvl)
	}
	s := fmt.Sprintf("%s %s %-12s %s", p.th.Dim.Render(ts), lvl, e.Service, e.Message)
	if e.TraceID != "" {
		s += p.th.Dim.Render(" trace=" + e.TraceID)
	}
	return s
}

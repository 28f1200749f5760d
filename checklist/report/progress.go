package report

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/termtext"
)

// spinner are the frames of a running probe.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Progress is the live view of a run on a terminal: a line per probe
// check, a spinner while it runs, its result as it lands. Feed it the
// runner's events; Frame draws it (the caller redraws on a ticker).
type Progress struct {
	mu     sync.Mutex
	checks []checklist.Check
	state  map[string]*checklist.Result // nil: running; absent: waiting
	drawn  int
}

// NewProgress is the view of cl's probe checks, all waiting.
func NewProgress(cl checklist.Checklist) *Progress {
	p := &Progress{state: map[string]*checklist.Result{}}
	for _, c := range cl.Checks {
		if c.Kind == checklist.KindProbe {
			p.checks = append(p.checks, c)
		}
	}
	return p
}

// Event records a probe starting or finishing.
func (p *Progress) Event(e checklist.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.Done {
		p.state[e.Check] = nil
		return
	}
	r := e.Result
	p.state[e.Check] = &r
}

// Frame is the view at spinner position tick: one line per check.
func (p *Progress) Frame(tick int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	width := 0
	for _, c := range p.checks {
		width = max(width, len(c.ID))
	}
	var b strings.Builder
	for _, c := range p.checks {
		r, started := p.state[c.ID]
		switch {
		case !started:
			fmt.Fprintf(&b, "  %-7s %-*s  %s\n", "·", width, c.ID, termtext.Clean(c.Title))
		case r == nil:
			fmt.Fprintf(&b, "  %-7s %-*s  %s\n", spinner[tick%len(spinner)], width, c.ID, termtext.Clean(c.Title))
		default:
			fmt.Fprintf(&b, "  %-7s %-*s  %s (%s)\n", mark(r.Status), width, c.ID, termtext.Clean(truncate(r.Summary, 70)), r.Duration.Round(time.Millisecond))
		}
	}
	return b.String()
}

// Redraw is the escape sequence that replaces the previous frame with
// this one (the cursor goes back up over the lines drawn last).
func (p *Progress) Redraw(tick int) string {
	f := p.Frame(tick)
	p.mu.Lock()
	up := p.drawn
	p.drawn = strings.Count(f, "\n")
	p.mu.Unlock()
	var b strings.Builder
	if up > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", up)
	}
	for _, line := range strings.SplitAfter(f, "\n") {
		if line != "" {
			b.WriteString("\x1b[2K" + line)
		}
	}
	return b.String()
}

// Clear is the escape sequence that erases the last frame drawn.
func (p *Progress) Clear() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn == 0 {
		return ""
	}
	s := fmt.Sprintf("\x1b[%dA\x1b[J", p.drawn)
	p.drawn = 0
	return s
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

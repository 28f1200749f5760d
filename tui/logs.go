package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/telemetry/logs"
)

// maxLogLines bounds the lines the console keeps; the server holds the big
// buffer.
const maxLogLines = 2000

// logsPane tails the server's log buffer: follow mode, a filter typed live
// with the oncall filter language, jumps between errors and warnings, a
// histogram strip of lines per time bucket and level, and a dropped counter.
type logsPane struct {
	th      theme
	lines   []logs.Entry
	lastSeq uint64
	dropped uint64 // lines the console never saw (sequence gaps) or evicted

	filter    logs.Filter
	query     string // the filter's text
	editing   bool   // typing a filter
	input     string
	filterErr string
	shown     []int // indexes into lines that pass the filter
	sel       int   // selected index into shown; -1 follows the newest
}

func newLogsPane(th theme) *logsPane { return &logsPane{th: th, sel: -1} }

// add appends a batch of entries, keeping at most maxLogLines.
func (p *logsPane) add(es []logs.Entry) {
	if len(es) == 0 {
		return
	}
	for _, e := range es {
		if p.lastSeq > 0 && e.Seq > p.lastSeq+1 {
			p.dropped += e.Seq - p.lastSeq - 1
		}
		p.lastSeq = e.Seq
	}
	p.lines = append(p.lines, es...)
	if over := len(p.lines) - maxLogLines; over > 0 {
		p.lines = append(p.lines[:0:0], p.lines[over:]...)
		p.dropped += uint64(over)
	}
	p.refilter()
}

// refilter recomputes which lines pass, keeping the selected line if it can.
func (p *logsPane) refilter() {
	var keep uint64
	if p.sel >= 0 && p.sel < len(p.shown) {
		keep = p.lines[min(p.shown[p.sel], len(p.lines)-1)].Seq
	}
	p.shown = p.shown[:0]
	for i := range p.lines {
		if p.filter.Match(&p.lines[i]) {
			p.shown = append(p.shown, i)
		}
	}
	if p.sel >= 0 {
		p.sel = len(p.shown) - 1
		for i, j := range p.shown {
			if p.lines[j].Seq >= keep {
				p.sel = i
				break
			}
		}
	}
}

func (p *logsPane) title(*snapshot) string {
	mode := "following"
	if p.sel >= 0 {
		mode = fmt.Sprintf("paused at %d/%d", p.sel+1, len(p.shown))
	}
	t := fmt.Sprintf("Logs (%s", mode)
	if p.query != "" {
		t += fmt.Sprintf(", filter %q: %d of %d", p.query, len(p.shown), len(p.lines))
	}
	if p.dropped > 0 {
		t += fmt.Sprintf(", %d dropped", p.dropped)
	}
	return t + ")"
}

func (p *logsPane) keymap() []binding {
	return []binding{
		{[]string{"/"}, "filter as you type (enter keeps, esc clears)"},
		{[]string{"e", "E"}, "next / previous error"},
		{[]string{"w", "W"}, "next / previous warning"},
		{[]string{"k", "up"}, "scroll up (pauses follow)"},
		{[]string{"j", "down"}, "scroll down"},
		{[]string{"f", "G", "end"}, "follow newest"},
	}
}

// capturing reports whether the pane takes every key (typing a filter).
func (p *logsPane) capturing() bool { return p.editing }

func (p *logsPane) key(k string, _ *snapshot) (bool, tea.Cmd) {
	if p.editing {
		p.edit(k)
		return true, nil
	}
	switch k {
	case "/":
		p.editing, p.input = true, p.query
	case "k", "up":
		p.move(-1)
	case "j", "down":
		p.move(1)
	case "f", "G", "end":
		p.sel = -1
	case "e":
		p.jump(1, logs.LevelError)
	case "E":
		p.jump(-1, logs.LevelError)
	case "w":
		p.jump(1, logs.LevelWarn)
	case "W":
		p.jump(-1, logs.LevelWarn)
	default:
		return false, nil
	}
	return true, nil
}

func (p *logsPane) edit(k string) {
	switch k {
	case "enter":
		p.editing = false
		return
	case "esc":
		p.editing, p.input = false, ""
	case "backspace":
		if r := []rune(p.input); len(r) > 0 {
			p.input = string(r[:len(r)-1])
		}
	case "space":
		p.input += " "
	default:
		if len([]rune(k)) != 1 {
			return
		}
		p.input += k
	}
	f, err := logs.ParseFilter(p.input)
	if err != nil {
		p.filterErr = err.Error()
		return
	}
	p.filter, p.query, p.filterErr = f, p.input, ""
	p.refilter()
}

func (p *logsPane) move(d int) {
	if len(p.shown) == 0 {
		return
	}
	if p.sel < 0 {
		p.sel = len(p.shown) - 1
	}
	p.sel = max(0, min(p.sel+d, len(p.shown)-1))
}

// jump selects the next (dir 1) or previous (dir -1) line of exactly that
// level band: errors are error and fatal, warnings are warn.
func (p *logsPane) jump(dir int, lvl logs.Level) {
	if len(p.shown) == 0 {
		return
	}
	from := p.sel
	if from < 0 {
		from = len(p.shown)
	}
	for i := from + dir; i >= 0 && i < len(p.shown); i += dir {
		l := p.lines[p.shown[i]].Level
		if (lvl == logs.LevelWarn && l == logs.LevelWarn) || (lvl == logs.LevelError && l >= logs.LevelError) {
			p.sel = i
			return
		}
	}
}

func (p *logsPane) render(_ *snapshot, w, h int, focused bool, _ time.Time) []string {
	var out []string
	if p.editing || p.filterErr != "" {
		prompt := p.th.Key.Render("/") + p.input
		if p.editing {
			prompt += "▏"
		}
		if p.filterErr != "" {
			prompt += "  " + p.th.Error.Render(p.filterErr)
		}
		out = append(out, prompt)
	}
	out = append(out, p.histogram(w))
	rows := h - 1 - len(out)
	end := len(p.shown)
	if p.sel >= 0 {
		end = p.sel + 1
	}
	start := max(0, end-rows)
	for i := start; i < end; i++ {
		line := p.line(p.lines[p.shown[i]])
		if i == p.sel && focused {
			line = p.th.Selected.Render(fit(line, w))
		}
		out = append(out, line)
	}
	if len(p.shown) == 0 {
		out = append(out, p.th.Dim.Render("No log lines yet."))
	}
	return out
}

var bars = []rune("▁▂▃▄▅▆▇█")

// histogram is one line of bars: lines per time bucket across the buffer,
// coloured by the worst level in the bucket.
func (p *logsPane) histogram(w int) string {
	var first, last time.Time
	for _, i := range p.shown {
		if t := p.lines[i].Time; !t.IsZero() {
			if first.IsZero() {
				first = t
			}
			last = t
		}
	}
	if first.IsZero() || !last.After(first) || w < 10 {
		return p.th.Dim.Render("histogram: not enough timestamped lines")
	}
	n := w
	counts, worst := make([]int, n), make([]logs.Level, n)
	span := last.Sub(first)
	peak := 1
	for _, i := range p.shown {
		e := p.lines[i]
		if e.Time.IsZero() {
			continue
		}
		b := min(n-1, int(float64(e.Time.Sub(first))/float64(span)*float64(n)))
		counts[b]++
		worst[b] = max(worst[b], e.Level)
		peak = max(peak, counts[b])
	}
	var sb strings.Builder
	for b := range n {
		if counts[b] == 0 {
			sb.WriteRune(' ')
			continue
		}
		bar := string(bars[min(len(bars)-1, counts[b]*len(bars)/(peak+1))])
		switch {
		case worst[b] >= logs.LevelError:
			bar = p.th.Error.Render(bar)
		case worst[b] == logs.LevelWarn:
			bar = p.th.Warn.Render(bar)
		default:
			bar = p.th.Dim.Render(bar)
		}
		sb.WriteString(bar)
	}
	return sb.String()
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
	for _, k := range []string{"status", "handler", "duration_ms"} {
		if v, ok := e.Fields[k]; ok {
			s += p.th.Dim.Render(" " + k + "=" + v)
		}
	}
	if e.TraceID != "" {
		s += p.th.Dim.Render(" trace=" + e.TraceID)
	}
	return s
}

// Package logspane is the console's log pane: the server's log lines as
// they arrive, kept in a bounded buffer; follow mode, or paused on a line
// that stays put while new lines arrive and old ones scroll out; a filter
// typed live in the filter language of `oncall logs`; jumps between errors
// and warnings; a histogram strip; the detail of one line.
package logspane

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/telemetry/logs"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/filterbox"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// DefaultCapacity is how many lines the pane keeps unless told otherwise.
const DefaultCapacity = 100_000

// keys of the pane.
var keys = struct {
	Filter, Up, Down, PageUp, PageDown, Top, Follow, NextErr, PrevErr, NextWarn, PrevWarn, Detail, Trace key.Binding
}{
	Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter as you type (enter keeps, esc restores)")),
	Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "older line (pauses)")),
	Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "newer line")),
	PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u", "b"), key.WithHelp("pgup/ctrl+u", "page up")),
	PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", "space"), key.WithHelp("pgdn/ctrl+d", "page down")),
	Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "oldest line")),
	Follow:   key.NewBinding(key.WithKeys("f", "G", "end"), key.WithHelp("f/G/end", "follow the newest")),
	NextErr:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "next error")),
	PrevErr:  key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "previous error")),
	NextWarn: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "next warning")),
	PrevWarn: key.NewBinding(key.WithKeys("W"), key.WithHelp("W", "previous warning")),
	Detail:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "the line's fields")),
	Trace:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "filter by the line's trace id")),
}

// Pane is the log pane.
type Pane struct {
	env *state.Env
	buf ring
	// lost counts lines the console never received: gaps in the server's
	// sequence (its own buffer overran before we read them).
	lost uint64

	filter logs.Filter
	box    *filterbox.Box
	// shown are the absolute indexes of the buffered lines that pass the
	// filter, in order; shown[head:] are the live ones.
	shown []uint64
	head  int
	// sel is the selected line's absolute index; following when !paused.
	sel    uint64
	paused bool
	// top is the absolute index of the first row drawn while paused, so
	// the screen stays put as lines arrive; drawn is the first row of the
	// last frame, where a pause starts from.
	top, drawn uint64
	// note says something about the last move ("no earlier error").
	note   string
	detail bool
	// hist caches the histogram strip for histKey.
	hist    string
	histKey [4]uint64
}

// New returns an empty log pane keeping at most capacity lines (0: the
// default).
func New(env *state.Env, capacity int) *Pane {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Pane{env: env, buf: newRing(capacity), box: filterbox.New(env.Theme)}
}

// Name is the pane's name.
func (p *Pane) Name() string { return "logs" }

// Keys are the pane's bindings.
func (p *Pane) Keys() []key.Binding {
	return []key.Binding{keys.Filter, keys.Up, keys.Down, keys.PageUp, keys.PageDown, keys.Top, keys.Follow,
		keys.NextErr, keys.PrevErr, keys.NextWarn, keys.PrevWarn, keys.Detail, keys.Trace}
}

// Capturing reports whether the filter line takes every key.
func (p *Pane) Capturing() bool { return p.box.Editing() }

// Crumbs says where in the pane the user is.
func (p *Pane) Crumbs() []string {
	if p.detail {
		return []string{"line"}
	}
	return nil
}

// Back leaves the line's detail.
func (p *Pane) Back() bool {
	if p.detail {
		p.detail = false
		return true
	}
	return false
}

// LastSeq is the sequence number of the newest line received, for a
// reconnecting stream to resume after.
func (p *Pane) LastSeq() uint64 { return p.buf.lastSeq }

// Update handles keys, filters from the palette and batches of lines.
func (p *Pane) Update(m tea.Msg) tea.Cmd {
	switch m := m.(type) {
	case Lines:
		p.add(m)
	case msg.Open:
		p.box.Set(m.Arg)
		p.refilter()
	case tea.KeyPressMsg:
		return p.key(m)
	case tea.PasteMsg:
		if p.box.Editing() {
			if changed, cmd := p.box.Update(m); changed {
				p.refilter()
				return cmd
			}
		}
	}
	return nil
}

// Lines is a batch of new log lines for the pane.
type Lines []logs.Entry

func (p *Pane) key(k tea.KeyPressMsg) tea.Cmd {
	if p.box.Editing() {
		changed, cmd := p.box.Update(k)
		if changed {
			p.refilter()
		}
		return cmd
	}
	p.note = ""
	switch {
	case key.Matches(k, keys.Filter):
		p.detail = false
		return p.box.Open()
	case key.Matches(k, keys.Up):
		p.move(-1)
	case key.Matches(k, keys.Down):
		p.move(1)
	case key.Matches(k, keys.PageUp):
		p.move(-10)
	case key.Matches(k, keys.PageDown):
		p.move(10)
	case key.Matches(k, keys.Top):
		if p.live() > 0 {
			p.pause(p.shown[p.head])
		}
	case key.Matches(k, keys.Follow):
		p.paused, p.detail = false, false
	case key.Matches(k, keys.NextErr):
		p.jump(1, logs.LevelError, "error")
	case key.Matches(k, keys.PrevErr):
		p.jump(-1, logs.LevelError, "error")
	case key.Matches(k, keys.NextWarn):
		p.jump(1, logs.LevelWarn, "warning")
	case key.Matches(k, keys.PrevWarn):
		p.jump(-1, logs.LevelWarn, "warning")
	case key.Matches(k, keys.Detail):
		if e, ok := p.selected(); ok && e != nil {
			p.detail = !p.detail
			if !p.paused {
				p.pause(p.sel)
			}
		}
	case key.Matches(k, keys.Trace):
		if e, ok := p.selected(); ok && e.TraceID != "" {
			p.box.Set("trace_id=" + e.TraceID)
			p.refilter()
		}
	}
	return nil
}

// add appends a batch, counting gaps in the sequence as lost lines.
func (p *Pane) add(es []logs.Entry) {
	for i := range es {
		e := &es[i]
		if last := p.buf.lastSeq; last > 0 && e.Seq > last+1 {
			p.lost += e.Seq - last - 1
		}
		if e.Seq != 0 && e.Seq <= p.buf.lastSeq {
			continue // a resumed stream repeating a line
		}
		abs := p.buf.push(*e)
		if p.filter.Match(e) {
			p.shown = append(p.shown, abs)
		}
	}
	p.evicted()
}

// evicted forgets shown lines that left the buffer, and moves a pause
// that was on one of them to the oldest line left.
func (p *Pane) evicted() {
	first := p.buf.first()
	for p.head < len(p.shown) && p.shown[p.head] < first {
		p.head++
	}
	if p.head > 4096 && p.head > len(p.shown)/2 {
		p.shown = append(p.shown[:0], p.shown[p.head:]...)
		p.head = 0
	}
	if p.paused && p.sel < first {
		p.note = "the line you were on scrolled out of the buffer"
		if p.live() > 0 {
			p.sel = p.shown[p.head]
		}
	}
	if p.top < first {
		p.top = first
	}
}

// live is the number of shown lines still buffered.
func (p *Pane) live() int { return len(p.shown) - p.head }

// refilter applies the box's text: a filter that does not parse keeps the
// previous one and says why.
func (p *Pane) refilter() {
	f, err := logs.ParseFilter(p.box.Value())
	if err != nil {
		p.box.Err = strings.TrimPrefix(err.Error(), "filter: ")
		return
	}
	p.box.Err = ""
	p.filter = f
	p.shown, p.head = p.shown[:0], 0
	p.buf.each(func(abs uint64, e *logs.Entry) {
		if f.Match(e) {
			p.shown = append(p.shown, abs)
		}
	})
	if p.paused {
		// Stay on the same line, or the next one that passes.
		i := p.pos(p.sel)
		if i >= p.live() {
			p.paused = false
		} else {
			p.sel = p.shown[p.head+i]
			p.top = p.sel
		}
	}
}

// pos is the position among the live shown lines of the first at or after
// abs.
func (p *Pane) pos(abs uint64) int {
	live := p.shown[p.head:]
	return sort.Search(len(live), func(i int) bool { return live[i] >= abs })
}

// cur is the position of the selection among the live shown lines.
func (p *Pane) cur() int {
	if !p.paused {
		return p.live() - 1
	}
	return min(p.pos(p.sel), p.live()-1)
}

func (p *Pane) pause(abs uint64) {
	if !p.paused {
		p.top = min(p.drawn, abs) // the screen stays as it was drawn
	}
	p.paused, p.sel = true, abs
}

// move moves the selection by d shown lines; moving past the newest line
// follows again.
func (p *Pane) move(d int) {
	n := p.live()
	if n == 0 {
		return
	}
	i := p.cur() + d
	if i >= n && d > 0 {
		p.paused = false
		return
	}
	p.pause(p.shown[p.head+max(0, i)])
}

// jump selects the next (dir 1) or previous (dir -1) line of the level
// band: errors are error and fatal, warnings are warn. From follow mode,
// "previous" starts at the newest line itself.
func (p *Pane) jump(dir int, lvl logs.Level, what string) {
	n := p.live()
	if n == 0 {
		return
	}
	from := p.cur()
	if !p.paused {
		from = n // the newest line is a candidate too
	}
	for i := from + dir; i >= 0 && i < n; i += dir {
		l := p.buf.at(p.shown[p.head+i]).Level
		if (lvl == logs.LevelWarn && l == logs.LevelWarn) || (lvl == logs.LevelError && l >= logs.LevelError) {
			p.pause(p.shown[p.head+i])
			return
		}
	}
	if dir > 0 {
		p.note = "no later " + what
	} else {
		p.note = "no earlier " + what + " in the buffer"
	}
}

// selected is the selected line (the newest when following).
func (p *Pane) selected() (*logs.Entry, bool) {
	n := p.live()
	if n == 0 {
		return nil, false
	}
	return p.buf.at(p.shown[p.head+p.cur()]), true
}

// Title heads the pane: mode, filter counts, buffer span and losses.
func (p *Pane) Title() string {
	mode := "following"
	if p.paused {
		mode = fmt.Sprintf("paused at %s of %s", layout.Count(p.cur()+1), layout.Count(p.live()))
	}
	t := "Logs · " + mode
	if p.box.Value() != "" {
		t += fmt.Sprintf(" · %s of %s match", layout.Count(p.live()), layout.Count(p.buf.n))
	}
	if p.buf.full() {
		if first := p.buf.at(p.buf.first()); !first.Time.IsZero() {
			t += " · buffer from " + first.Time.Local().Format("15:04:05")
		}
	}
	if p.lost > 0 {
		t += fmt.Sprintf(" · %s lost", layout.Count(int(p.lost)))
	}
	return t
}

// View draws the pane in w×h cells.
func (p *Pane) View(w, h int) string {
	th := p.env.Theme
	var out []string
	out = append(out, layout.Box(*th, p.Title(), nil, w, 1, true)...)
	if p.box.Shown() {
		out = append(out, p.box.View(w))
	}
	if p.note != "" {
		out = append(out, th.Warn.Render(p.note))
	}
	if p.detail {
		return layout.Lines(append(out, p.detailLines(w)...), w, h)
	}
	out = append(out, p.histogram(w))
	rows := h - len(out)
	n := p.live()
	if n == 0 {
		switch {
		case p.buf.n == 0 && !p.env.State.Known():
			out = append(out, th.Error.Render("Unknown: the server has not answered."))
		case p.buf.n == 0:
			out = append(out, th.Dim.Render("No log lines yet (configure logs.files, or the server has none)."))
		default:
			out = append(out, th.Dim.Render(fmt.Sprintf("No line of %s matches the filter.", layout.Count(p.buf.n))))
		}
		return layout.Lines(out, w, h)
	}
	cur := p.cur()
	from := max(0, n-rows)
	if p.paused {
		from, _ = layout.Window(n, cur, rows, p.pos(p.top))
		p.top = p.shown[p.head+from]
	}
	p.drawn = p.shown[p.head+from]
	for i := from; i < min(n, from+rows); i++ {
		line := p.line(p.buf.at(p.shown[p.head+i]), w)
		if p.paused && i == cur {
			line = th.Selected.Render(layout.Fit(line, w))
		}
		out = append(out, line)
	}
	return layout.Lines(out, w, h)
}

var bars = []rune("▁▂▃▄▅▆▇█")

// histogram is one line of bars: lines per time bucket across the shown
// lines, coloured by the worst level in the bucket.
func (p *Pane) histogram(w int) string {
	n := p.live()
	if n == 0 || w < 10 {
		return ""
	}
	k := [4]uint64{p.shown[p.head], p.shown[len(p.shown)-1], uint64(n), uint64(w)}
	if k != p.histKey {
		p.hist, p.histKey = p.drawHistogram(w), k
	}
	return p.hist
}

func (p *Pane) drawHistogram(w int) string {
	th := p.env.Theme
	n := p.live()
	first, last := p.buf.at(p.shown[p.head]).Time, p.buf.at(p.shown[len(p.shown)-1]).Time
	if first.IsZero() || !last.After(first) {
		return th.Dim.Render("histogram: not enough timestamped lines")
	}
	label := " " + first.Local().Format("15:04") + "–" + last.Local().Format("15:04")
	cols := w - len(label)
	counts, worst := make([]int, cols), make([]logs.Level, cols)
	span := float64(last.Sub(first))
	peak := 1
	// Sample at most 20,000 lines: the strip is an overview.
	step := max(1, n/20_000)
	for i := 0; i < n; i += step {
		e := p.buf.at(p.shown[p.head+i])
		if e.Time.IsZero() {
			continue
		}
		b := min(cols-1, max(0, int(float64(e.Time.Sub(first))/span*float64(cols))))
		counts[b]++
		worst[b] = max(worst[b], e.Level)
		peak = max(peak, counts[b])
	}
	// Runs of bars of one colour are styled at once.
	var sb, run strings.Builder
	runLevel := logs.LevelUnknown
	flush := func() {
		if run.Len() == 0 {
			return
		}
		switch {
		case runLevel >= logs.LevelError:
			sb.WriteString(th.Error.Render(run.String()))
		case runLevel == logs.LevelWarn:
			sb.WriteString(th.Warn.Render(run.String()))
		default:
			sb.WriteString(th.Dim.Render(run.String()))
		}
		run.Reset()
	}
	for b := range cols {
		lvl, bar := logs.LevelUnknown, ' '
		if counts[b] > 0 {
			lvl, bar = min(worst[b], logs.LevelError), bars[min(len(bars)-1, counts[b]*len(bars)/(peak+1))]
			lvl = max(lvl, logs.LevelInfo)
		}
		if lvl != runLevel && !(bar == ' ' && run.Len() > 0) {
			flush()
			runLevel = lvl
		}
		run.WriteRune(bar)
	}
	flush()
	return sb.String() + th.Dim.Render(label)
}

// line draws one log line: time, level, service, message, a few fields.
func (p *Pane) line(e *logs.Entry, w int) string {
	th := p.env.Theme
	ts := "--:--:--"
	if !e.Time.IsZero() {
		ts = e.Time.Local().Format("15:04:05")
	}
	lvl := fmt.Sprintf("%-5s", e.Level.String())
	switch {
	case e.Level >= logs.LevelError:
		lvl = th.Error.Render(lvl)
	case e.Level == logs.LevelWarn:
		lvl = th.Warn.Render(lvl)
	default:
		lvl = th.Dim.Render(lvl)
	}
	msgText := e.Message
	if i := strings.IndexByte(msgText, '\n'); i >= 0 {
		msgText = msgText[:i] + " …"
	}
	s := fmt.Sprintf("%s %s %-12s %s", th.Dim.Render(ts), lvl, termtext.Clean(e.Service), termtext.Clean(msgText))
	if w > 100 {
		for _, k := range []string{"status", "handler", "duration_ms"} {
			if v, ok := e.Fields[k]; ok {
				s += th.Dim.Render(" " + k + "=" + termtext.Clean(v))
			}
		}
		if e.TraceID != "" {
			s += th.Dim.Render(" trace=" + termtext.Clean(e.TraceID))
		}
	}
	return s
}

// detailLines draws every field of the selected line.
func (p *Pane) detailLines(w int) []string {
	th := p.env.Theme
	e, ok := p.selected()
	if !ok {
		return []string{th.Dim.Render("No line selected.")}
	}
	row := func(k, v string) string { return th.Bold.Render(fmt.Sprintf("%-14s", k)) + v }
	out := []string{
		row("time", e.Time.Local().Format("2006-01-02 15:04:05.000 MST")),
		row("level", e.Level.String()),
		row("service", termtext.Clean(e.Service)),
		row("source", termtext.Clean(e.Source)),
		row("trace id", termtext.Clean(e.TraceID)),
		row("seq", fmt.Sprint(e.Seq)),
	}
	lines := strings.Split(termtext.CleanLines(e.Message), "\n")
	out = append(out, row("message", lines[0]))
	for _, l := range lines[1:] {
		out = append(out, "              "+l)
	}
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		out = append(out, row(termtext.Clean(k), termtext.Clean(e.Fields[k])))
	}
	return append(out, "", th.Dim.Render("enter/esc back · t filter by this trace id"))
}

// ring is a bounded buffer of entries addressed by absolute index: the
// i-th line ever added has index i, whether or not it is still kept.
type ring struct {
	es      []logs.Entry // grows up to max, then wraps around
	max     int
	start   int    // position of the oldest kept entry
	added   uint64 // entries ever added
	lastSeq uint64
	n       int // entries kept (len(es))
}

func newRing(max int) ring { return ring{max: max} }

// full reports whether the next line pushes the oldest out.
func (r *ring) full() bool { return r.n == r.max }

// first is the absolute index of the oldest kept entry.
func (r *ring) first() uint64 { return r.added - uint64(r.n) }

func (r *ring) push(e logs.Entry) uint64 {
	if e.Seq > r.lastSeq {
		r.lastSeq = e.Seq
	}
	abs := r.added
	r.added++
	if len(r.es) < r.max {
		r.es = append(r.es, e)
		r.n = len(r.es)
		return abs
	}
	r.es[r.start] = e
	r.start = (r.start + 1) % r.max
	return abs
}

// at is the entry at an absolute index (which must be kept).
func (r *ring) at(abs uint64) *logs.Entry {
	off := int(abs - r.first())
	return &r.es[(r.start+off)%len(r.es)]
}

func (r *ring) each(f func(abs uint64, e *logs.Entry)) {
	first := r.first()
	for i := range r.n {
		f(first+uint64(i), &r.es[(r.start+i)%len(r.es)])
	}
}

// Package tui is the on-call console: a Bubble Tea v2 program whose root
// model only routes messages and lays out. Eight panes (overview, alerts,
// incidents, on call, metrics, logs, the postmortem review, readiness
// checklists) are components of their own in
// sub-packages; the ":" palette, the "?" help, the header that says when
// the server cannot be reached, and the connection to the server's pushed
// stream live here. The console knows the server only through Backend.
package tui

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/checklist"
	"github.com/oncallhq/oncall/postmortem/review"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/telemetry/metrics"
	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/alertspane"
	"github.com/oncallhq/oncall/tui/checklistpane"
	"github.com/oncallhq/oncall/tui/incidentspane"
	"github.com/oncallhq/oncall/tui/logspane"
	"github.com/oncallhq/oncall/tui/metricspane"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/oncallpane"
	"github.com/oncallhq/oncall/tui/overviewpane"
	"github.com/oncallhq/oncall/tui/palette"
	"github.com/oncallhq/oncall/tui/postmortempane"
	"github.com/oncallhq/oncall/tui/state"
	"github.com/oncallhq/oncall/tui/theme"
)

// Backend is what the console needs from an oncall server.
type Backend interface {
	// Stream pushes the server's state and log lines to emit until ctx
	// ends (nil) or the connection fails (the error). Log lines resume
	// after logsAfter, or start with the newest logsBacklog lines.
	Stream(ctx context.Context, logsAfter uint64, logsBacklog int, emit func(state.Update) error) error
	Ack(ctx context.Context, id int64, by string) error
	Resolve(ctx context.Context, id int64, by string) error
	// Act runs another action on an incident as by (escalate, mitigate,
	// note, assign a role to by).
	Act(ctx context.Context, by string, a msg.Act) error
	// AddSilence creates a silence and returns its ID.
	AddSilence(ctx context.Context, s silence.Silence) (string, error)
	Query(ctx context.Context, expr string, at time.Time) (metrics.Result, error)
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]metrics.Series, error)
	// History lists the state changes of the alerts named name since
	// since, oldest first, at most the newest limit.
	History(ctx context.Context, since time.Time, name string, limit int) ([]alerts.Transition, error)
	// ReadinessRuns lists readiness checklist runs, newest first: with
	// service "", the newest run of each checklist for each service;
	// otherwise that service's runs, at most limit of each checklist.
	ReadinessRuns(ctx context.Context, service string, limit int) ([]checklist.Run, error)
	// ReadinessRecords lists the attestations, waivers and pushed results
	// that count now for service.
	ReadinessRecords(ctx context.Context, service string) ([]checklist.Record, error)
	// Review is the agenda of the weekly postmortem review of week.
	Review(ctx context.Context, week review.Week) (review.Review, error)
}

// Options configure the console.
type Options struct {
	Backend Backend
	// User is who acknowledges and silences.
	User string
	// Title names the server in the header.
	Title string
	// ReadOnly turns acknowledging, resolving and silencing off.
	ReadOnly bool
	// Theme is dark, light, or auto (asked of the terminal).
	Theme theme.Mode
	// LogLines bounds the log pane's buffer (default 100,000).
	LogLines int
	// Mouse turns on the mouse: the wheel scrolls, a click on a tab opens
	// its pane.
	Mouse bool
	// FixedRate draws with Bubble Tea's own renderer, 60 frames a second,
	// instead of a frame whenever something changed.
	FixedRate bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Retry is how long to wait before the n-th attempt to reconnect
	// (default 1s, 2s, 4s … at most 30s).
	Retry func(n int) time.Duration
}

// Pane is one screen of the console. Panes never call the server: they
// return request messages (package msg) and get the answers as messages.
type Pane interface {
	// Name is the pane's name in the tabs and the palette.
	Name() string
	// Update handles a message: keys while the pane is focused; state
	// changes, answers and the clock always.
	Update(tea.Msg) tea.Cmd
	// View draws the pane in exactly w×h cells.
	View(w, h int) string
	// Keys are the pane's bindings, for the help and the footer.
	Keys() []key.Binding
	// Capturing reports whether an input of the pane takes every key.
	Capturing() bool
	// Crumbs is where the user is inside the pane (a detail view).
	Crumbs() []string
	// Back leaves a detail view; false when there was none.
	Back() bool
}

var globalKeys = struct {
	Palette, Help, Quit, Next, Prev, Back key.Binding
}{
	Palette: key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command palette: :alerts sev=page, :incident 42, :query EXPR, :logs svc=api")),
	Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "this help (type to filter)")),
	Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q/ctrl+c", "quit")),
	Next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
	Prev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
	Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back: leave a detail, then return to the pane before")),
}

func globalBindings() []key.Binding {
	g := globalKeys
	jump := key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8"), key.WithHelp("1…8", "go to a pane"))
	return []key.Binding{g.Palette, g.Help, jump, g.Next, g.Prev, g.Back, g.Quit}
}

// Model is the root model of the console.
type Model struct {
	opts    Options
	ctx     context.Context
	env     *state.Env
	th      theme.Theme
	w, h    int
	panes   []Pane
	logs    *logspane.Pane
	focus   int
	history []int // panes left by drilling in, for esc
	palette *palette.Model
	help    *help

	status    string
	statusErr bool
	statusAt  time.Time

	events  chan event
	lastSeq atomic.Uint64 // the newest log line received, for resuming
	retryAt time.Time     // when the next reconnect is tried
	themed  bool          // the terminal's background was asked and answered
}

// New returns the console model.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "oncall"
	}
	if opts.Retry == nil {
		opts.Retry = func(n int) time.Duration { return min(30*time.Second, time.Second<<min(n, 5)) }
	}
	m := &Model{opts: opts, ctx: context.Background(), w: 80, h: 24, events: make(chan event, 64)}
	m.th = theme.New(opts.Theme != theme.Light)
	m.env = &state.Env{State: &state.State{}, Theme: &m.th, Now: opts.Now, User: opts.User, ReadOnly: opts.ReadOnly}
	m.build()
	return m
}

// build makes the panes and the palette for the current theme.
func (m *Model) build() {
	m.logs = logspane.New(m.env, m.opts.LogLines)
	m.panes = []Pane{overviewpane.New(m.env), alertspane.New(m.env), incidentspane.New(m.env), oncallpane.New(m.env), metricspane.New(m.env), m.logs, postmortempane.New(m.env), checklistpane.New(m.env)}
	m.palette = palette.New(m.env)
	m.help = newHelp(m.env)
}

// Init asks the terminal for its background (for the theme), starts the
// stream and the clock.
func (m *Model) Init() tea.Cmd {
	go m.stream(m.ctx)
	cmds := []tea.Cmd{m.waitEvents(), m.tick()}
	if m.opts.Theme == theme.Auto {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// tickMsg is the clock of countdowns.
type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// screenRequest asks for the screen as drawn now, from the program's own
// goroutine (tests read the screen this way, without racing the model).
type screenRequest struct{ reply chan<- string }

// actedMsg reports an acknowledgement, a resolution or a silence.
type actedMsg struct {
	text string
	err  error
}

// Update routes a message: the stream's updates to the state and every
// pane, keys to the palette, the help, the global keys, then the focused
// pane.
func (m *Model) Update(ev tea.Msg) (tea.Model, tea.Cmd) {
	switch ev := ev.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = ev.Width, ev.Height
		return m, nil
	case screenRequest:
		ev.reply <- m.render()
		return m, nil
	case tea.BackgroundColorMsg:
		if m.opts.Theme == theme.Auto && !m.themed {
			m.themed = true
			if dark := ev.IsDark(); dark != m.th.Dark {
				m.th = theme.New(dark)
				if !m.env.State.Known() {
					m.build() // nothing shown yet: rebuild with the right palette
				}
			}
		}
		return m, nil
	case eventsMsg:
		return m, tea.Batch(m.apply(ev), m.waitEvents())
	case tickMsg:
		if !m.statusAt.IsZero() && m.opts.Now().Sub(m.statusAt) > 8*time.Second {
			m.status = ""
		}
		return m, tea.Batch(m.panes[m.focus].Update(msg.Tick{Now: time.Time(ev)}), m.tick())
	case msg.Status:
		m.setStatus(ev.Text, ev.Err)
		return m, nil
	case actedMsg:
		if ev.err != nil {
			m.setStatus(ev.text+" failed: "+firstLine(ev.err), true)
		} else {
			m.setStatus(ev.text, false)
		}
		return m, nil
	case msg.Open:
		return m, m.open(ev)
	case palette.Quit:
		return m, tea.Quit
	case palette.Help:
		return m, m.help.open()
	case msg.Ack, msg.Resolve, msg.Act, msg.Silence:
		return m, m.act(ev)
	case msg.RangeQuery:
		return m, m.rangeQuery(ev)
	case msg.InstantQuery:
		return m, m.instantQuery(ev)
	case msg.HistoryQuery:
		return m, m.historyQuery(ev)
	case postmortempane.Query:
		return m, m.reviewQuery(ev)
	case checklistpane.Query:
		return m, m.readinessQuery(ev)
	case msg.RangeResult, msg.InstantResult, msg.HistoryResult, postmortempane.Result, checklistpane.Result:
		return m, m.broadcast(ev)
	case tea.MouseWheelMsg:
		return m, m.wheel(ev)
	case tea.MouseClickMsg:
		return m, m.click(ev)
	case tea.KeyPressMsg:
		return m, m.key(ev)
	case tea.PasteMsg:
		switch {
		case m.palette.IsOpen():
			return m, m.palette.Update(ev)
		case m.help.shown:
			return m, m.help.update(ev)
		}
		return m, m.panes[m.focus].Update(ev)
	}
	// Anything else (a spinner's tick) goes to the focused pane.
	return m, m.panes[m.focus].Update(ev)
}

func (m *Model) setStatus(text string, isErr bool) {
	m.status, m.statusErr, m.statusAt = termtext.Clean(text), isErr, m.opts.Now()
}

// broadcast sends a message to every pane.
func (m *Model) broadcast(ev tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, len(m.panes))
	for i, p := range m.panes {
		cmds[i] = p.Update(ev)
	}
	return tea.Batch(cmds...)
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return tea.Quit
	}
	switch {
	case m.palette.IsOpen():
		return m.palette.Update(k)
	case m.help.shown:
		return m.help.update(k)
	}
	p := m.panes[m.focus]
	if p.Capturing() {
		return p.Update(k)
	}
	switch {
	case key.Matches(k, globalKeys.Quit):
		return tea.Quit
	case key.Matches(k, globalKeys.Palette):
		return m.palette.Open()
	case key.Matches(k, globalKeys.Help):
		return m.help.open()
	case key.Matches(k, globalKeys.Next):
		m.focusPane((m.focus+1)%len(m.panes), false)
		return nil
	case key.Matches(k, globalKeys.Prev):
		m.focusPane((m.focus+len(m.panes)-1)%len(m.panes), false)
		return nil
	case key.Matches(k, globalKeys.Back):
		if !p.Back() && len(m.history) > 0 {
			m.focus, m.history = m.history[len(m.history)-1], m.history[:len(m.history)-1]
		}
		return nil
	}
	if s := k.String(); len(s) == 1 && s[0] >= '1' && int(s[0]-'1') < len(m.panes) {
		m.focusPane(int(s[0]-'1'), false)
		return nil
	}
	return p.Update(k)
}

// focusPane shows pane i; drilling in remembers where the user came from.
func (m *Model) focusPane(i int, drill bool) {
	if i == m.focus {
		return
	}
	if drill {
		m.history = append(m.history, m.focus)
		if len(m.history) > 20 {
			m.history = m.history[1:]
		}
	} else {
		m.history = nil
	}
	m.focus = i
}

// open focuses the pane a command names and hands it the argument.
func (m *Model) open(o msg.Open) tea.Cmd {
	for i, p := range m.panes {
		if p.Name() == o.Pane {
			m.focusPane(i, true)
			return p.Update(o)
		}
	}
	m.setStatus("no pane "+o.Pane, true)
	return nil
}

// wheel scrolls the focused pane.
func (m *Model) wheel(ev tea.MouseWheelMsg) tea.Cmd {
	if m.palette.IsOpen() || m.help.shown {
		return nil
	}
	k := tea.KeyPressMsg{Code: tea.KeyDown}
	if ev.Button == tea.MouseWheelUp {
		k = tea.KeyPressMsg{Code: tea.KeyUp}
	}
	return m.panes[m.focus].Update(k)
}

// click on a tab opens its pane.
func (m *Model) click(ev tea.MouseClickMsg) tea.Cmd {
	if ev.Y != 1 {
		return nil
	}
	x := 0
	for i := range m.panes {
		w := ansi.StringWidth(m.tabLabel(i)) + 1
		if ev.X >= x && ev.X < x+w {
			m.focusPane(i, false)
			return nil
		}
		x += w
	}
	return nil
}

// Run runs the console until the user quits or ctx is done.
// On a terminal it draws each frame when something changed (see frames);
// elsewhere, or with Options.FixedRate, Bubble Tea's renderer draws.
func Run(ctx context.Context, opts Options, progOpts ...tea.ProgramOption) error {
	m := New(opts)
	m.ctx = ctx
	var err error
	if !opts.FixedRate && term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd()) {
		err = runOnDemand(m, os.Stdin, os.Stdout, progOpts)
	} else {
		_, err = tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...).Run()
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

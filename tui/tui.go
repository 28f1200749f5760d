// Package tui is the on-call console: a Bubble Tea v2 program whose root
// model routes messages and lays out panes (incidents, alerts, who is on call,
// pages, logs), each pane a component with its own keymap. It knows the
// server only through the Backend interface and does no other I/O.
package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/health"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/incidents/oncall"
	"github.com/oncallhq/oncall/routing/silence"
	"github.com/oncallhq/oncall/telemetry/logs"
)

// Backend is what the console needs from an oncall server.
type Backend interface {
	Alerts(ctx context.Context) ([]alerts.Alert, error)
	Incidents(ctx context.Context) ([]incidents.Incident, error)
	OnCall(ctx context.Context) ([]oncall.Assignment, error)
	Pages(ctx context.Context, limit int) ([]incidents.Page, error)
	// TailLogs returns the newest entries after afterSeq, at most limit.
	TailLogs(ctx context.Context, afterSeq uint64, limit int) ([]logs.Entry, error)
	Ack(ctx context.Context, id int64, by string) error
	Resolve(ctx context.Context, id int64, by string) error
	// AddSilence creates a silence and returns its ID.
	AddSilence(ctx context.Context, s silence.Silence) (string, error)
	// Ready is the server's readiness: what it cannot see or do.
	Ready(ctx context.Context) (health.Report, error)
}

// Options configure the console.
type Options struct {
	Backend Backend
	User    string           // who acknowledges
	Refresh time.Duration    // poll interval; default 1s
	Now     func() time.Time // clock; default time.Now
	Title   string           // shown in the header
}

// Model is the root model of the console.
type Model struct {
	opts      Options
	ctx       context.Context
	th        theme
	w, h      int
	snap      snapshot
	err       error
	status    string
	confirm   *incidents.Incident // resolve awaiting y/n
	silencing *silencePrompt      // silence awaiting a duration
	stale     bool                // the last refresh got no answer
	help      bool
	fetching  bool
	focus     int
	inc       *incidentsPane
	alerts    *alertsPane
	oncall    *oncallPane
	pages     *pagesPane
	logs      *logsPane
	panes     []pane
}

// tickMsg drives refreshes and countdowns.
type tickMsg time.Time

// logTickMsg drives the faster log polling.
type logTickMsg time.Time

// logsMsg carries one batch of new log entries.
type logsMsg struct {
	entries []logs.Entry
	err     error
}

// logRefresh is how often the log pane polls: fast enough for a smooth
// follow, one message (and one render) per batch however many lines arrive.
const logRefresh = 100 * time.Millisecond

// logBatch is the most lines fetched per poll; a server further ahead is
// skipped to its newest lines and the gap counted as dropped.
const logBatch = 5000

// actedMsg reports an acknowledge or resolve.
type actedMsg struct {
	verb string
	inc  incidents.Incident
	err  error
}

var globalKeys = []binding{
	{[]string{"a"}, "acknowledge the selected incident"},
	{[]string{"r"}, "resolve the selected incident (asks to confirm)"},
	{[]string{"s"}, "silence the selected alert (asks how long)"},
	{[]string{"tab"}, "next pane"},
	{[]string{"shift+tab"}, "previous pane"},
	{[]string{"?"}, "toggle this help"},
	{[]string{"q", "ctrl+c"}, "quit"},
}

// New returns the console model.
func New(opts Options) *Model {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "oncall"
	}
	th := defaultTheme()
	m := &Model{opts: opts, ctx: context.Background(), th: th, w: 80, h: 24,
		inc: &incidentsPane{th: th}, alerts: &alertsPane{th: th}, oncall: &oncallPane{th: th},
		pages: &pagesPane{th: th}, logs: newLogsPane(th)}
	m.panes = []pane{m.inc, m.alerts, m.oncall, m.pages, m.logs}
	return m
}

// Init starts the first refresh and the log polling.
func (m *Model) Init() tea.Cmd { return tea.Batch(m.refresh(), m.fetchLogs()) }

func (m *Model) fetchLogs() tea.Cmd {
	ctx, b, after := m.ctx, m.opts.Backend, m.logs.lastSeq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		es, err := b.TailLogs(ctx, after, logBatch)
		return logsMsg{entries: es, err: err}
	}
}

func (m *Model) refresh() tea.Cmd {
	if m.fetching {
		return nil
	}
	m.fetching = true
	return fetch(m.ctx, m.opts.Backend, m.opts.Now())
}

func (m *Model) tick() tea.Cmd {
	return tea.Tick(m.opts.Refresh, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update routes a message: global keys first, then the focused pane.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tickMsg:
		return m, m.refresh()
	case snapshotMsg:
		m.fetching = false
		m.err, m.stale = msg.err, msg.failed
		if !msg.failed {
			m.snap = msg.snap
		} // else keep the last answer: the header says it is stale
		return m, m.tick()
	case logsMsg:
		m.logs.add(msg.entries)
		return m, tea.Tick(logRefresh, func(t time.Time) tea.Msg { return logTickMsg(t) })
	case logTickMsg:
		return m, m.fetchLogs()
	case silencedMsg:
		if msg.err != nil {
			m.status = m.th.Error.Render(fmt.Sprintf("silence failed: %v", msg.err))
		} else {
			m.status = m.th.OK.Render(fmt.Sprintf("%s silenced for %s (silence %s)", msg.name, short(msg.dur), msg.id))
		}
		return m, m.refresh()
	case actedMsg:
		if msg.err != nil {
			m.status = m.th.Error.Render(fmt.Sprintf("%s failed: %v", msg.verb, msg.err))
		} else {
			m.status = m.th.OK.Render(fmt.Sprintf("%s %s", msg.inc.Ref(), msg.verb))
		}
		return m, m.refresh()
	case tea.KeyPressMsg:
		return m, m.key(msg.String())
	}
	return m, nil
}

func (m *Model) key(k string) tea.Cmd {
	if m.focus == len(m.panes)-1 && m.logs.capturing() {
		_, cmd := m.logs.key(k, &m.snap)
		return cmd
	}
	if m.silencing != nil {
		return m.silenceKey(k)
	}
	if m.confirm != nil {
		inc := *m.confirm
		m.confirm = nil
		if k == "y" || k == "Y" {
			m.status = "resolving " + inc.Ref() + "…"
			return m.act("resolved", inc, m.opts.Backend.Resolve)
		}
		m.status = "resolve cancelled"
		return nil
	}
	switch k {
	case "q", "ctrl+c":
		return tea.Quit
	case "?":
		m.help = !m.help
		return nil
	case "esc":
		m.help = false
		return nil
	case "tab":
		m.focus = (m.focus + 1) % len(m.panes)
		return nil
	case "/", "e", "E", "w", "W":
		// Log keys work from anywhere: they focus the log pane.
		m.focus = len(m.panes) - 1
	case "shift+tab":
		m.focus = (m.focus + len(m.panes) - 1) % len(m.panes)
		return nil
	case "a":
		inc, ok := m.inc.selected(&m.snap)
		if !ok {
			m.status = "no open incident to acknowledge"
			return nil
		}
		m.status = "acknowledging " + inc.Ref() + "…"
		return m.act("acknowledged", inc, m.opts.Backend.Ack)
	case "s":
		m.startSilence()
		return nil
	case "r":
		inc, ok := m.inc.selected(&m.snap)
		if !ok {
			m.status = "no open incident to resolve"
			return nil
		}
		m.confirm = &inc
		m.status = m.th.Warn.Render(fmt.Sprintf("resolve %s %q? y/n", inc.Ref(), inc.Title))
		return nil
	}
	_, cmd := m.panes[m.focus].key(k, &m.snap)
	return cmd
}

func (m *Model) act(verb string, inc incidents.Incident, f func(context.Context, int64, string) error) tea.Cmd {
	ctx, user := m.ctx, m.opts.User
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return actedMsg{verb: verb, inc: inc, err: f(ctx, inc.ID, user)}
	}
}

// View lays the panes out: incidents and alerts on the left, who is on call
// and pages on the right, logs along the bottom.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	firing, _, _ := m.snap.counts()
	v.WindowTitle = fmt.Sprintf("oncall: %d firing", firing)
	return v
}

func (m *Model) render() string {
	now := m.opts.Now()
	w, h := max(m.w, 20), max(m.h, 6)
	lines := []string{m.header(now, w)}
	body := h - 2
	if m.help {
		lines = append(lines, m.helpLines(w, body)...)
	} else {
		lines = append(lines, m.body(now, w, body)...)
	}
	lines = append(lines, m.footer(w))
	return strings.Join(lines, "\n")
}

func (m *Model) body(now time.Time, w, h int) []string {
	logH := max(4, h*2/5)
	topH := h - logH
	rightW := max(20, w*2/5)
	leftW := w - rightW - 1
	incH := max(3, topH*3/5)
	left := append(m.pane(0, leftW, incH, now), m.pane(1, leftW, topH-incH, now)...)
	ocH := min(len(m.snap.oncall)+2, topH/2)
	ocH = max(ocH, 3)
	right := append(m.pane(2, rightW, ocH, now), m.pane(3, rightW, topH-ocH, now)...)
	top := besides(m.th.Dim.Render("│"), left, right)
	return append(top, m.pane(4, w, logH, now)...)
}

func (m *Model) pane(i, w, h int, now time.Time) []string {
	p := m.panes[i]
	focused := i == m.focus
	return box(m.th, p.title(&m.snap), p.render(&m.snap, w, h, focused, now), w, h, focused)
}

func (m *Model) header(now time.Time, w int) string {
	firing, muted, pending := m.snap.counts()
	counts := fmt.Sprintf("%d firing · %d pending", firing, pending)
	if muted > 0 {
		counts = fmt.Sprintf("%d firing · %d muted · %d pending", firing, muted, pending)
	}
	parts := []string{m.opts.Title, counts}
	for _, inc := range m.snap.incidents {
		parts = append(parts, fmt.Sprintf("%s %s", inc.Ref(), inc.Status))
	}
	right := fmt.Sprintf("%s · %s", m.opts.User, now.Local().Format("15:04:05"))
	left := " " + strings.Join(parts, "  ·  ")
	switch {
	case m.stale && !m.snap.known():
		left = " " + m.opts.Title + "  ·  " + m.th.Error.Render("SERVER UNREACHABLE: "+firstLine(m.err))
	case m.stale:
		left += "  ·  " + m.th.Error.Render(fmt.Sprintf("STALE since %s: %s", m.snap.at.Local().Format("15:04:05"), firstLine(m.err)))
	case m.err != nil:
		left += "  ·  " + m.th.Error.Render(firstLine(m.err))
	case m.snap.ready != nil && !m.snap.ready.Ready:
		left += "  ·  " + m.th.Error.Render("BLIND: "+strings.Join(m.snap.ready.Failing(), "; "))
	}
	pad := w - len([]rune(right)) - 1
	return m.th.Header.Render(fit(fit(left, pad)+right+" ", w))
}

func firstLine(err error) string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) && len(joined.Unwrap()) > 0 {
		err = joined.Unwrap()[0]
	}
	return "backend: " + strings.SplitN(err.Error(), "\n", 2)[0]
}

func (m *Model) footer(w int) string {
	if m.silencing != nil {
		return fit(" "+m.silenceLine(), w)
	}
	if m.status != "" {
		return fit(" "+m.status, w)
	}
	keys := []string{"a ack", "r resolve", "s silence", "tab pane", "j/k move", "/ filter logs", "? help", "q quit"}
	var out []string
	for _, k := range keys {
		key, what, _ := strings.Cut(k, " ")
		out = append(out, m.th.Key.Render(key)+" "+m.th.Dim.Render(what))
	}
	return fit(" "+strings.Join(out, "  "), w)
}

func (m *Model) helpLines(w, h int) []string {
	var lines []string
	section := func(name string, bs []binding) {
		if len(bs) == 0 {
			return
		}
		lines = append(lines, "", m.th.Bold.Render(name))
		for _, b := range bs {
			lines = append(lines, "  "+fit(m.th.Key.Render(strings.Join(b.keys, "/")), 16)+" "+b.help)
		}
	}
	section("Everywhere", globalKeys)
	names := []string{"Incidents", "Alerts", "On call", "Pages", "Logs"}
	for i, p := range m.panes {
		section(names[i], p.keymap())
	}
	return box(m.th, "Help (? or esc to close)", lines, w, h, true)
}

// Run runs the console until the user quits or ctx is done.
func Run(ctx context.Context, opts Options, progOpts ...tea.ProgramOption) error {
	m := New(opts)
	m.ctx = ctx
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

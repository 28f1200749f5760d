// Package palette is the console's command line, opened with ":" as in
// k9s and vim: a command and its argument (`:alerts sev=page`,
// `:incident 42`, `:query rate(x[5m])`, `:logs svc=api`), with aliases and
// completion as you type.
package palette

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oncallhq/oncall/termtext"
	"github.com/oncallhq/oncall/tui/layout"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

// Command is one command of the palette.
type Command struct {
	Name    string
	Aliases []string
	// Pane is the pane the command opens ("" for quit and help).
	Pane string
	// Arg describes the argument, for the list ("FILTER", "ID").
	Arg  string
	Help string
	// Needs says the argument is required.
	Needs bool
}

// Commands are the palette's commands.
var Commands = []Command{
	{Name: "overview", Aliases: []string{"o", "home", "services"}, Pane: "overview", Arg: "FILTER", Help: "every service, what fires, who is on call, e.g. :overview team=payments"},
	{Name: "alerts", Aliases: []string{"a", "al", "alert"}, Pane: "alerts", Arg: "FILTER", Help: "alerts as they notify, e.g. :alerts sev=page svc=checkout"},
	{Name: "incidents", Aliases: []string{"i", "inc"}, Pane: "incidents", Arg: "FILTER", Help: "open incidents, e.g. :incidents status=triggered"},
	{Name: "incident", Aliases: []string{"in"}, Pane: "incidents", Arg: "ID", Needs: true, Help: "one incident's detail and timeline, e.g. :incident 42"},
	{Name: "oncall", Aliases: []string{"who", "oc"}, Pane: "oncall", Help: "who each escalation step pages now and next"},
	{Name: "metrics", Aliases: []string{"m", "prom"}, Pane: "metrics", Arg: "EXPR", Help: "ad hoc PromQL, charted"},
	{Name: "query", Aliases: []string{"qr", "promql"}, Pane: "metrics", Arg: "EXPR", Needs: true, Help: "run PromQL, e.g. :query rate(http_requests_total[5m])"},
	{Name: "logs", Aliases: []string{"l", "log"}, Pane: "logs", Arg: "FILTER", Help: "logs, e.g. :logs svc=api level>=error"},
	{Name: "review", Aliases: []string{"postmortems", "pm", "rv"}, Pane: "review", Arg: "WEEK", Help: "the weekly postmortem review, e.g. :review 2026-W47"},
	{Name: "checklist", Aliases: []string{"ready", "readiness", "cl"}, Pane: "checklist", Arg: "SERVICE", Help: "production-readiness runs per service, e.g. :checklist checkout"},
	{Name: "help", Aliases: []string{"h", "?"}, Help: "every key, filterable"},
	{Name: "quit", Aliases: []string{"q", "q!", "exit"}, Help: "leave the console"},
}

// Quit asks the root to quit; Help to show the help.
type (
	Quit struct{}
	Help struct{}
)

// Model is the palette.
type Model struct {
	env  *state.Env
	in   textinput.Model
	open bool
	err  string
	// list are the suggestions for what is typed; sel the highlighted one.
	list []suggestion
	sel  int
}

type suggestion struct {
	text string // what tab puts in the input
	help string
}

// New returns a closed palette.
func New(env *state.Env) *Model {
	in := textinput.New()
	in.Prompt = ":"
	st := textinput.DefaultStyles(env.Theme.Dark)
	st.Cursor.Blink = false
	st.Focused.Prompt = env.Theme.Key.Style
	in.SetStyles(st)
	return &Model{env: env, in: in}
}

// Open shows the palette, empty.
func (m *Model) Open() tea.Cmd {
	m.open, m.err = true, ""
	m.in.SetValue("")
	m.suggest()
	return m.in.Focus()
}

// IsOpen reports whether the palette takes the keys.
func (m *Model) IsOpen() bool { return m.open }

// Update handles a key or a paste while open; on enter it returns the
// command's message.
func (m *Model) Update(ev tea.Msg) tea.Cmd {
	if k, ok := ev.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "esc", "ctrl+c":
			m.open = false
			m.in.Blur()
			return nil
		case "enter":
			out, err := Parse(m.in.Value())
			if err != nil {
				m.err = err.Error()
				return nil
			}
			m.open = false
			m.in.Blur()
			return func() tea.Msg { return out }
		case "tab":
			if m.sel < len(m.list) {
				m.in.SetValue(m.list[m.sel].text)
				m.in.CursorEnd()
				m.suggest()
			}
			return nil
		case "down", "ctrl+n":
			if len(m.list) > 0 {
				m.sel = (m.sel + 1) % len(m.list)
			}
			return nil
		case "up", "ctrl+p":
			if len(m.list) > 0 {
				m.sel = (m.sel + len(m.list) - 1) % len(m.list)
			}
			return nil
		}
	}
	m.err = ""
	var cmd tea.Cmd
	m.in, cmd = m.in.Update(ev)
	m.suggest()
	return cmd
}

// Parse reads a command line: a command or alias, then its argument.
func Parse(line string) (tea.Msg, error) {
	line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ":"))
	if line == "" {
		return nil, fmt.Errorf("type a command: %s", names())
	}
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	c, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown command %q: %s", name, names())
	}
	if c.Needs && arg == "" {
		return nil, fmt.Errorf(":%s needs %s (%s)", c.Name, c.Arg, c.Help)
	}
	switch c.Name {
	case "quit":
		return Quit{}, nil
	case "help":
		return Help{}, nil
	case "incident":
		arg = strings.TrimPrefix(strings.ToUpper(arg), "INC-")
	}
	return msg.Open{Pane: c.Pane, Arg: arg}, nil
}

func lookup(name string) (Command, bool) {
	name = strings.ToLower(name)
	for _, c := range Commands {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c, true
		}
	}
	return Command{}, false
}

func names() string {
	var ns []string
	for _, c := range Commands {
		ns = append(ns, c.Name)
	}
	return strings.Join(ns, ", ")
}

// suggest lists what may follow what is typed: commands by prefix, then
// arguments the state knows (incident ids, services, severities).
func (m *Model) suggest() {
	m.list, m.sel = m.list[:0], 0
	v := strings.TrimLeft(m.in.Value(), " ")
	name, arg, spaced := strings.Cut(v, " ")
	if !spaced {
		for _, c := range Commands {
			match := strings.HasPrefix(c.Name, strings.ToLower(name))
			for _, a := range c.Aliases {
				match = match || (name != "" && a == strings.ToLower(name))
			}
			if match {
				text := c.Name
				if c.Arg != "" {
					text += " "
				}
				m.list = append(m.list, suggestion{text: text, help: strings.TrimSpace(c.Arg + "  " + c.Help)})
			}
		}
		return
	}
	c, ok := lookup(name)
	if !ok {
		return
	}
	for _, s := range m.arguments(c) {
		// Complete the last term of the argument.
		terms := strings.Fields(arg)
		last := ""
		if len(terms) > 0 && !strings.HasSuffix(arg, " ") {
			last, terms = terms[len(terms)-1], terms[:len(terms)-1]
		}
		if !strings.HasPrefix(s.text, last) || s.text == last {
			continue
		}
		text := strings.TrimSpace(c.Name + " " + strings.Join(append(terms, s.text), " "))
		m.list = append(m.list, suggestion{text: text, help: s.help})
		if len(m.list) == 8 {
			break
		}
	}
}

// arguments are the values the state offers for a command's argument.
func (m *Model) arguments(c Command) []suggestion {
	st := m.env.State
	var out []suggestion
	add := func(text, help string) { out = append(out, suggestion{text: text, help: help}) }
	switch c.Name {
	case "incident":
		for _, inc := range st.Incidents {
			add(fmt.Sprint(inc.ID), termtext.Clean(inc.Status.String()+" · "+inc.Title))
		}
	case "alerts", "incidents", "logs":
		var svcs []string
		for _, s := range st.Services() {
			svcs = append(svcs, s.Name)
		}
		sort.Strings(svcs)
		for _, s := range svcs {
			add("svc="+termtext.Clean(s), "the service's")
		}
		switch c.Name {
		case "alerts":
			for _, s := range []string{"firing", "pending", "silenced", "inhibited"} {
				add("state="+s, "alerts "+s)
			}
			for _, s := range []string{"page", "critical", "warning", "ticket"} {
				add("sev="+s, "severity "+s)
			}
		case "incidents":
			add("status=triggered", "nobody acknowledged yet")
			add("status=acknowledged", "someone owns it")
		case "logs":
			add("level>=error", "errors and worse")
			add("level>=warn", "warnings and worse")
		}
	case "checklist":
		var svcs []string
		for _, s := range st.Services() {
			if !strings.HasPrefix(s.Name, "(") { // not "(no service)"
				svcs = append(svcs, s.Name)
			}
		}
		sort.Strings(svcs)
		for _, s := range svcs {
			add(termtext.Clean(s), "its readiness checklist runs")
		}
	case "query", "metrics":
		seen := map[string]bool{}
		for _, r := range st.Rules {
			if !seen[r.Expr] {
				seen[r.Expr] = true
				add(r.Expr, "rule "+termtext.Clean(r.Name))
			}
		}
	}
	return out
}

// View draws the open palette: the suggestions above the input line, at
// most w cells wide; nil when closed.
func (m *Model) View(w int) []string {
	if !m.open {
		return nil
	}
	th := m.env.Theme
	var out []string
	for i, s := range m.list {
		line := "  " + layout.Fit(termtext.Clean(s.text), min(40, w/2)) + " " + th.Dim.Render(s.help)
		if i == m.sel {
			line = th.Selected.Render(layout.Fit(line, w))
		}
		out = append(out, layout.Fit(line, w))
	}
	if m.err != "" {
		out = append(out, layout.Fit(th.Error.Render(m.err), w))
	} else if len(m.list) > 0 {
		out = append(out, layout.Fit(th.Dim.Render("  tab complete · ↑↓ choose · enter run · esc close"), w))
	}
	m.in.SetWidth(max(10, w-2))
	return append(out, layout.Fit(m.in.View(), w))
}

package palette

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oncallhq/oncall/alerts"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/tui/internal/tuitest"
	"github.com/oncallhq/oncall/tui/msg"
	"github.com/oncallhq/oncall/tui/state"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want tea.Msg
		err  string
	}{
		{"alerts sev=page", msg.Open{Pane: "alerts", Arg: "sev=page"}, ""},
		{":a  svc=checkout state=firing ", msg.Open{Pane: "alerts", Arg: "svc=checkout state=firing"}, ""},
		{"incident 42", msg.Open{Pane: "incidents", Arg: "42"}, ""},
		{"in inc-42", msg.Open{Pane: "incidents", Arg: "42"}, ""},
		{"incidents status=triggered", msg.Open{Pane: "incidents", Arg: "status=triggered"}, ""},
		{"query rate(x[5m])", msg.Open{Pane: "metrics", Arg: "rate(x[5m])"}, ""},
		{"logs svc=api level>=error", msg.Open{Pane: "logs", Arg: "svc=api level>=error"}, ""},
		{"who", msg.Open{Pane: "oncall"}, ""},
		{"checklist checkout", msg.Open{Pane: "checklist", Arg: "checkout"}, ""},
		{"ready", msg.Open{Pane: "checklist"}, ""},
		{"o", msg.Open{Pane: "overview"}, ""},
		{"quit", Quit{}, ""},
		{"q", Quit{}, ""}, // as in vim and k9s
		{"qr up", msg.Open{Pane: "metrics", Arg: "up"}, ""},
		{"?", Help{}, ""},
		{"incident", nil, ":incident needs ID"},
		{"query", nil, ":query needs EXPR"},
		{"frobnicate", nil, `unknown command "frobnicate": overview, alerts`},
		{"", nil, "type a command"},
	} {
		got, err := Parse(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %#v, %v; want %#v", tc.line, got, err, tc.want)
		}
	}
}

func fixture() *state.Env {
	env := tuitest.Env()
	incs := []incidents.Incident{{ID: 42, Title: "Checkout errors", Service: "checkout"}, {ID: 7, Title: "Matches down", Service: "matchmaking"}}
	rules := []alerts.Rule{{Name: "CheckoutErrors", Expr: "error_ratio > 0.05", Labels: map[string]string{"service": "checkout"}}}
	env.State.Apply(state.Update{Incidents: &incs, Rules: &rules, At: tuitest.Now})
	return env
}

func typeIn(m *Model, s string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range tuitest.Keys(s) {
		cmd = m.Update(k)
	}
	return cmd
}

// Completion as you type: commands by prefix, then what the state knows
// for the argument; tab takes the highlighted one; enter runs it.
func TestCompletion(t *testing.T) {
	m := New(fixture())
	m.Open()
	typeIn(m, "in")
	v := ansi.Strip(strings.Join(m.View(100), "\n"))
	if !strings.Contains(v, "incidents") || !strings.Contains(v, "incident ") || strings.Contains(v, "alerts") {
		t.Fatalf("in:\n%s", v)
	}
	m.Update(tuitest.Key("down"))
	m.Update(tuitest.Key("tab"))
	if m.in.Value() != "incident " {
		t.Fatalf("tab: %q", m.in.Value())
	}
	v = ansi.Strip(strings.Join(m.View(100), "\n"))
	if !strings.Contains(v, "incident 42") || !strings.Contains(v, "Checkout errors") || !strings.Contains(v, "incident 7") {
		t.Fatalf("incident ids:\n%s", v)
	}
	typeIn(m, "4")
	m.Update(tuitest.Key("tab"))
	out := tuitest.Msgs(m.Update(tuitest.Key("enter")))
	if len(out) != 1 || out[0] != (msg.Open{Pane: "incidents", Arg: "42"}) || m.IsOpen() {
		t.Fatalf("enter: %v open=%v", out, m.IsOpen())
	}

	m.Open()
	typeIn(m, "alerts sev=page sv")
	v = ansi.Strip(strings.Join(m.View(100), "\n"))
	if !strings.Contains(v, "alerts sev=page svc=checkout") || !strings.Contains(v, "alerts sev=page svc=matchmaking") {
		t.Fatalf("second term:\n%s", v)
	}
	m.Open()
	typeIn(m, "checklist m")
	if v := ansi.Strip(strings.Join(m.View(100), "\n")); !strings.Contains(v, "checklist matchmaking") || strings.Contains(v, "checklist checkout") {
		t.Fatalf("checklist services:\n%s", v)
	}
	m.Open()
	typeIn(m, "query ")
	if v := ansi.Strip(strings.Join(m.View(100), "\n")); !strings.Contains(v, "error_ratio > 0.05") {
		t.Fatalf("rule expressions:\n%s", v)
	}
}

func TestErrorsKeepItOpen(t *testing.T) {
	m := New(fixture())
	m.Open()
	typeIn(m, "bogus")
	if out := tuitest.Msgs(m.Update(tuitest.Key("enter"))); len(out) != 0 || !m.IsOpen() || !strings.Contains(ansi.Strip(strings.Join(m.View(100), "\n")), `unknown command "bogus"`) {
		t.Errorf("bad command: %v", out)
	}
	m.Update(tuitest.Key("esc"))
	if m.IsOpen() {
		t.Error("esc closes")
	}
}

func TestOutsideTextIsClean(t *testing.T) {
	env := tuitest.Env()
	incs := []incidents.Incident{{ID: 1, Title: tuitest.Poison, Service: tuitest.Poison}}
	env.State.Apply(state.Update{Incidents: &incs, At: tuitest.Now})
	m := New(env)
	m.Open()
	typeIn(m, "incident ")
	v := strings.Join(m.View(120), "\n")
	m.Open()
	typeIn(m, "alerts ")
	v += strings.Join(m.View(120), "\n")
	if !tuitest.Clean(v) || !strings.Contains(v, "PWNED") {
		t.Errorf("raw sequences:\n%q", v)
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/demo"
	"github.com/oncallhq/oncall/internal/testenv"
)

// terminal is a tmux session running a command at a fixed size.
type terminal struct {
	t       *testing.T
	tmux    string
	session string
}

func newTerminal(t *testing.T, w, h int, env []string, args ...string) *terminal {
	t.Helper()
	tm := &terminal{t: t, tmux: testenv.RequireTool(t, "tmux", "tmux"), session: fmt.Sprintf("oncall-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	cmd := append([]string{"-f", "/dev/null", "new-session", "-d", "-s", tm.session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "env", "TERM=xterm-256color"}, env...)
	tm.sh(append(cmd, args...)...)
	t.Cleanup(func() { exec.Command(tm.tmux, "kill-session", "-t", tm.session).Run() })
	tm.sh("set-option", "-s", "-t", tm.session, "escape-time", "0")
	return tm
}

func (tm *terminal) sh(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command(tm.tmux, args...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *terminal) screen() string { return tm.sh("capture-pane", "-p", "-t", tm.session) }

// keys sends tmux key names (Enter, Escape, Up) or single characters.
func (tm *terminal) keys(keys ...string) {
	tm.sh(append([]string{"send-keys", "-t", tm.session}, keys...)...)
}

// typeText sends text literally.
func (tm *terminal) typeText(s string) { tm.sh("send-keys", "-t", tm.session, "-l", s) }

// wait waits for every want on the screen and returns the screen.
func (tm *terminal) wait(within time.Duration, want ...string) string {
	tm.t.Helper()
	var s string
	deadline := time.Now().Add(within)
	for {
		s = tm.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waited %v for %q; the screen is:\n%s", within, want, s)
		}
		time.Sleep(100 * time.Millisecond) // polling a real terminal
	}
}

func (tm *terminal) closed() bool {
	return exec.Command(tm.tmux, "has-session", "-t", tm.session).Run() != nil
}

// The demo through a real terminal, walked as a new user would: the fault
// fires and an incident pages the on-call; every pane, the palette, an
// alert's detail with its chart, an ad hoc query, the help; scrolling back
// through logs after the console's buffer has filled; acknowledging from
// the overview; quitting.
func TestDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute and a half")
	}
	bin := binary(t)
	dir := t.TempDir()
	// Who the demo pages first depends on today's date: ask the schedule.
	cfgDir := t.TempDir()
	demo.Write(cfgDir)
	cfg, err := config.Load(filepath.Join(cfgDir, "oncall.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	who, _ := cfg.People().OnCall(cfg.Schedules[0].Name, time.Now(), 0)
	primary := who[0]
	tm := newTerminal(t, 140, 42, []string{"USER=tester", "ONCALL_CONSOLE_LOG_LINES=300"}, bin, "demo", "--state-dir", dir)

	tm.wait(10*time.Second, "oncall demo", "Overview", "On call now")
	tm.wait(120*time.Second, "INC-1", "paged "+primary, "primary on-call")

	// Alerts, filtered from the palette, and one alert's detail.
	tm.keys("2")
	tm.wait(5*time.Second, "Alerts ·", "MatchesPerActiveUserDropped")
	tm.keys(":")
	tm.typeText("alerts sev=page")
	tm.keys("Enter")
	tm.wait(5*time.Second, "match the filter")
	tm.keys("g", "j", "Enter")
	tm.wait(15*time.Second, "Alerts › ", "Over the last hour", "fires when")
	// Which page alert is second depends on what fired first; a KPI's
	// detail runs past the screen: page down to where it comes from.
	tm.keys("NPage")
	tm.wait(5*time.Second, "Alerts › ", "Where it comes from")
	tm.keys("Escape")
	tm.wait(5*time.Second, "grouped as they notify")

	// The incident's detail.
	tm.keys("3")
	tm.wait(5*time.Second, "Incidents ·", "INC-1", "TRIGGERED")
	tm.keys("Enter")
	tm.wait(5*time.Second, "Incidents › INC-1", "Timeline", "paged "+primary)
	tm.keys("Escape") // waited for: an escape and a key at once read as alt+key
	tm.wait(5*time.Second, "Incidents · 1 open")

	// Who is on call.
	tm.keys("4")
	tm.wait(5*time.Second, "On call · policy", "primary on-call", primary, "Pages sent")

	// This week's postmortem review has the incident; no service has run
	// its readiness checklist yet.
	tm.keys("7")
	tm.wait(15*time.Second, "Postmortem review · ", "Incidents (1)", "INC-1")
	tm.keys("8")
	tm.wait(15*time.Second, "Readiness · 0 runs", "services never checked", "matchmaking", "NEVER")

	// An ad hoc query, charted and tabled.
	tm.keys(":")
	tm.typeText("query sum by (service) (matchmaking_active_users)")
	tm.keys("Enter")
	tm.wait(15*time.Second, "Metrics › sum by (service)", "VALUE NOW", `{service="matchmaking"}`)

	// The help, filtered.
	tm.keys("?")
	tm.wait(5*time.Second, "Help", "Everywhere")
	tm.typeText("silence")
	s := tm.wait(5*time.Second, "silence the alert")
	if strings.Contains(s, "previous error") {
		t.Errorf("the help filter lets everything through:\n%s", s)
	}
	tm.keys("Escape")
	tm.wait(5*time.Second, "VALUE NOW")

	// Logs: once the console's 300-line buffer is full, scroll back; the
	// screen stays put as lines arrive and old ones scroll out.
	tm.keys("6")
	tm.wait(60*time.Second, "Logs · following", "buffer from")
	tm.keys("k", "k", "k", "k", "k")
	// Five lines up from the newest: 295 of 300, less what scrolled out
	// before the screen was read (a busy machine reads it late).
	pausedAt := regexp.MustCompile(`paused at (\d+) of 300`)
	var before string
	eventually(t, 5*time.Second, "the log pane to pause five lines up", func() bool {
		before = tm.screen()
		m := pausedAt.FindStringSubmatch(before)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n > 0 && n <= 295
	})
	clock := headerClock(before)
	tm.wait(10*time.Second, later(clock, 2))
	after := tm.screen()
	if rows(before) != rows(after) || !strings.Contains(after, "paused at") {
		t.Errorf("the paused log screen moved:\n%s\n---\n%s", before, after)
	}
	if strings.Contains(after, "lost") || strings.Contains(after, "dropped") {
		t.Errorf("scroll-out reported as loss:\n%s", after)
	}
	// E moves the selection back to the previous error line.
	at := pausedAt.FindStringSubmatch(tm.screen())
	tm.keys("E")
	eventually(t, 5*time.Second, "E to move to an earlier error", func() bool {
		sc := tm.screen()
		if strings.Contains(sc, "no earlier error in the buffer") {
			return true
		}
		m := pausedAt.FindStringSubmatch(sc)
		return m != nil && at != nil && m[1] != at[1]
	})
	tm.keys("f")
	tm.wait(5*time.Second, "Logs · following")

	// Acknowledge from the overview, then quit.
	tm.keys("1", "a")
	tm.wait(10*time.Second, "acked by tester")
	tm.keys("q")
	eventually(t, 10*time.Second, "the demo to quit", tm.closed)
}

// headerClock is the HH:MM:SS at the end of the header line.
func headerClock(screen string) string {
	first, _, _ := strings.Cut(screen, "\n")
	f := strings.Fields(first)
	return f[len(f)-1]
}

// later is the clock n seconds after hhmmss.
func later(hhmmss string, n int) string {
	t, err := time.Parse("15:04:05", hhmmss)
	if err != nil {
		return hhmmss
	}
	return t.Add(time.Duration(n) * time.Second).Format("15:04:05")
}

// rows are the log rows of a screen: below the title and histogram, above
// the footer.
func rows(screen string) string {
	ls := strings.Split(screen, "\n")
	var out []string
	for _, l := range ls {
		if len(l) > 9 && l[2] == ':' && l[5] == ':' {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A console attached to a server that dies says so at the top, since
// when, keeps the last state marked stale, and comes back when the server
// does.
func TestConsoleShowsServerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	bin := binary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "oncall.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+filepath.Join(dir, "state")+"\nserver: {listen: \""+addr+"\", token: tok}\n"), 0o600)
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		eventually(t, 20*time.Second, "serve answering", func() bool { return strings.Contains(get("http://"+addr+"/-/healthy"), "oncall") })
		return cmd
	}
	first := serve()
	tm := newTerminal(t, 120, 30, []string{"USER=tester"}, bin, "--config", cfg)
	tm.wait(10*time.Second, "oncall · http://"+addr, "0 firing", "Overview")

	first.Process.Kill()
	first.Wait()
	s := tm.wait(60*time.Second, "STALE · server unreachable since", "why:")
	if !strings.Contains(s, "showing its state of") {
		t.Errorf("stale screen:\n%s", s)
	}
	serve()
	tm.wait(60*time.Second, "oncall · http://"+addr, "0 firing")
	tm.keys("q")
	eventually(t, 10*time.Second, "the console to quit", tm.closed)
}

// Closing the terminal (here: killing its tmux session) ends the demo and
// the server under it, rather than leaving it running with nobody to see
// it: SIGHUP reloads the rules only for a server without a console.
func TestConsoleQuitsOnHangup(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	tm := newTerminal(t, 120, 36, []string{"USER=tester"}, bin, "demo", "--state-dir", dir, "--faults", "none")
	tm.wait(15*time.Second, "oncall demo", "Overview")
	pid, err := strconv.Atoi(strings.TrimSpace(tm.sh("display-message", "-p", "-t", tm.session, "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	tm.sh("kill-session", "-t", tm.session)
	eventually(t, 15*time.Second, "the demo to exit after the hangup", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		return os.IsNotExist(err)
	})
}

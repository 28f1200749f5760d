package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/demo"
	"github.com/oncallhq/oncall/internal/testenv"
)

// The whole demo through a real terminal: the fault fires, an incident with
// the on-call's name and escalation step appears, `a` acknowledges it and `q`
// quits.
func TestDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute and a half")
	}
	tmux := testenv.RequireTool(t, "tmux", "tmux")
	bin := binary(t)
	dir := t.TempDir()
	// Who the demo pages first depends on today's date: ask the schedule.
	cfgDir := t.TempDir()
	demo.Write(cfgDir)
	cfg, err := config.Load(filepath.Join(cfgDir, "oncall.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	primary, _ := cfg.Schedules[0].At(time.Now(), 0)

	session := fmt.Sprintf("oncall-e2e-%d", os.Getpid()) // unique: test runs may overlap
	sh := func(args ...string) string {
		out, err := exec.Command(tmux, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	sh("-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "140", "-y", "42",
		"env", "TERM=xterm-256color", "USER=tester", bin, "demo", "--state-dir", dir)
	t.Cleanup(func() { exec.Command(tmux, "kill-session", "-t", session).Run() })
	sh("set-option", "-s", "-t", session, "escape-time", "0")
	screen := func() string { return sh("capture-pane", "-p", "-t", session) }

	eventually(t, 5*time.Second, "the first frame", func() bool { return strings.Contains(screen(), "oncall demo") })
	eventually(t, 120*time.Second, "an incident paging "+primary, func() bool {
		s := screen()
		return strings.Contains(s, "INC-1") && strings.Contains(s, primary) && strings.Contains(s, "primary on-call")
	})
	sh("send-keys", "-t", session, "a")
	eventually(t, 10*time.Second, "the incident acknowledged", func() bool {
		s := screen()
		return strings.Contains(s, "acknowledged") && strings.Contains(s, "tester")
	})
	sh("send-keys", "-t", session, "q")
	eventually(t, 10*time.Second, "the demo to quit", func() bool {
		return exec.Command(tmux, "has-session", "-t", session).Run() != nil
	})
}

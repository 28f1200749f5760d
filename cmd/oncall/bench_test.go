package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BenchmarkDemoFirstFrame measures the time from starting `oncall demo` in a
// real terminal (tmux) to its first frame on screen. The screen is polled
// every 5ms, so figures are that coarse.
func BenchmarkDemoFirstFrame(b *testing.B) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		b.Skip("tmux not installed")
	}
	bin := binary(b)
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		session := fmt.Sprintf("oncall-bench-%d", os.Getpid())
		dir := b.TempDir()
		start := time.Now()
		if out, err := exec.Command(tmux, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
			bin, "demo", "--state-dir", dir, "--faults", "none").CombinedOutput(); err != nil {
			b.Fatalf("tmux: %v %s", err, out)
		}
		kill := func() { exec.Command(tmux, "kill-session", "-t", session).Run() }
		for {
			out, _ := exec.Command(tmux, "capture-pane", "-p", "-t", session).Output()
			// The first frame with the server's state: the overview and who is on call.
			if strings.Contains(string(out), "Overview ·") && strings.Contains(string(out), "On call now") {
				break
			}
			if time.Since(start) > 10*time.Second {
				kill()
				b.Fatalf("no frame after 10s:\n%s", out)
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(start)
		kill()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-frame")
}

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// startDemo runs a headless demo with XDG_STATE_HOME=xdg and returns it
// with its API URL once it serves.
func startDemo(t *testing.T, xdg string, args ...string) (*exec.Cmd, string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"demo", "--headless", "--faults", "none"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+xdg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	url, _, _ := strings.Cut(strings.TrimPrefix(line, "oncall demo: API "), " ")
	return cmd, url, &stderr
}

// The demo keeps its state under the user's state directory and removes
// it when it exits cleanly, however early or late it is stopped; --keep
// keeps it; what a killed demo left behind is removed by the next one.
func TestDemoCleansUpItsState(t *testing.T) {
	xdg := t.TempDir()
	root := filepath.Join(xdg, "oncall", "demo")
	abandoned := filepath.Join(root, "999999999")
	os.MkdirAll(abandoned, 0o700)

	// Stop it at different moments: as it comes up, while it backfills,
	// while it scrapes and evaluates.
	for i := range 4 {
		cmd, url, stderr := startDemo(t, xdg)
		for range i * 5 {
			get(url + "/-/ready")
		}
		if _, err := os.Stat(filepath.Join(root, strconv.Itoa(cmd.Process.Pid), "oncall.db")); err != nil && i > 0 {
			t.Errorf("run %d: state not under %s: %v", i, root, err)
		}
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("run %d: exit %v\n%s", i, err, stderr)
		}
		if _, err := os.Stat(filepath.Join(root, strconv.Itoa(cmd.Process.Pid))); !os.IsNotExist(err) {
			t.Errorf("run %d: state left behind: %v", i, err)
		}
	}
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("an abandoned demo directory survived: %v", err)
	}

	cmd, _, stderr := startDemo(t, xdg, "--keep")
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("--keep: %v", err)
	}
	kept := filepath.Join(root, strconv.Itoa(cmd.Process.Pid))
	if _, err := os.Stat(filepath.Join(kept, "oncall.db")); err != nil || !strings.Contains(stderr.String(), kept) {
		t.Errorf("--keep: %v\n%s", err, stderr)
	}
	cmd, _, _ = startDemo(t, xdg)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a later demo removed a kept directory: %v", err)
	}
}

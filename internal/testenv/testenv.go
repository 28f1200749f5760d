// Package testenv tells tests what the machine has: a test that needs an
// outside tool (prometheus, amtool, tmux) skips without it, or fails when
// ONCALL_INTEGRATION=1 says every integration test must run, as in CI.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Integration reports whether integration tests are required to run.
func Integration() bool { return os.Getenv("ONCALL_INTEGRATION") == "1" }

// RequireTool returns the path of the named program, skipping the test
// without it (failing it when integration tests are required). pkg names
// the Debian package that provides it.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if Integration() {
		t.Fatalf("ONCALL_INTEGRATION=1 but %s is not installed (apt-get install -y %s)", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install -y %s); set ONCALL_INTEGRATION=1 to make this a failure", name, pkg)
	return ""
}

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

// RequirePython returns a python3 that can import module, skipping the
// test without one (failing it when integration tests are required). The
// system's /usr/bin/python3 comes first: Debian's python3-* packages
// install there, whatever python3 is first on PATH.
func RequirePython(t testing.TB, module, pkg string) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import "+module).Run() == nil {
			return p
		}
	}
	if Integration() {
		t.Fatalf("ONCALL_INTEGRATION=1 but no python3 can import %s (apt-get install -y %s)", module, pkg)
	}
	t.Skipf("no python3 can import %s (apt-get install -y %s); set ONCALL_INTEGRATION=1 to make this a failure", module, pkg)
	return ""
}

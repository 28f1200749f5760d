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

// SamePromtool returns the promtool built from the Prometheus module
// version oncall embeds ($ONCALL_PROMTOOL; .ci/run builds it), skipping
// the test without one (failing it when integration tests are required).
func SamePromtool(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ONCALL_PROMTOOL"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		t.Fatalf("ONCALL_PROMTOOL=%s does not exist", p)
	}
	const build = "GOBIN=$PWD/.ci/bin go install github.com/prometheus/prometheus/cmd/promtool@$(go list -m -f '{{.Version}}' github.com/prometheus/prometheus)"
	if Integration() {
		t.Fatalf("ONCALL_INTEGRATION=1 but ONCALL_PROMTOOL is not set; build it: %s", build)
	}
	t.Skipf("ONCALL_PROMTOOL is not set: build the same-version promtool with %s", build)
	return ""
}

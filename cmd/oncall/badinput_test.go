package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every kind of bad input gives one clear line naming what and where, and a
// non-zero exit.
func TestBadInputFailsClearly(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.yaml")
	os.WriteFile(malformed, []byte("server:\n  listen: [\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("server:\n  lisen: 127.0.0.1:1\n"), 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	emptyRules := filepath.Join(dir, "serve.yaml")
	os.WriteFile(emptyRules, []byte("state_dir: "+filepath.Join(dir, "state")+"\n"), 0o600)

	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"unknown flag", nil, []string{"--bogus"}, []string{"unknown flag: --bogus"}},
		{"unknown command", nil, []string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"missing config", nil, []string{"config", "validate", "--config", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml", "no such file"}},
		{"malformed config", nil, []string{"config", "validate", "--config", malformed}, []string{"malformed.yaml:"}},
		{"unknown field", nil, []string{"config", "validate", "--config", unknown}, []string{"unknown.yaml:2:", "lisen"}},
		{"unreachable prometheus", []string{"ONCALL_METRICS_PROMETHEUS_URL=http://127.0.0.1:1"}, []string{"query", "up"}, []string{"metrics.prometheus.url", "127.0.0.1:1"}},
		{"bad output flag", nil, []string{"alerts", "list", "-o", "yaml"}, []string{`--output "yaml"`}},
		{"port in use", nil, []string{"serve", "--config", emptyRules, "--listen", busy.Addr().String()}, []string{"server.listen", busy.Addr().String()}},
		{"bad fault schedule", nil, []string{"demo", "--headless", "--faults", "boom@soon"}, []string{"--faults"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.env, tc.args...)
			if code == 0 {
				t.Fatalf("exit 0; stderr: %s", stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 {
				t.Errorf("want one line, got %d:\n%s", len(lines), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

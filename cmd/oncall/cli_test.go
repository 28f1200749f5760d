package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRulesTestCommand(t *testing.T) {
	code, out, _ := run(t, nil, "rules", "test", "../../alerts/ruletest/testdata/good_test.yml")
	if code != 0 || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("good: exit %d\n%s", code, out)
	}
	// Every file runs and says how it went; the exit status says whether any failed.
	code, out, stderr := run(t, nil, "alerts", "test", "../../alerts/ruletest/testdata/fail_bad_annotation_test.yml", "../../alerts/ruletest/testdata/good_test.yml")
	if code == 0 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "alertname HighErrorRatio at 10m") || !strings.Contains(out, "SUCCESS") ||
		!strings.Contains(stderr, "1 of 2 rule test files failed") {
		t.Fatalf("bad: exit %d\n%s%s", code, out, stderr)
	}
}

func TestInitWritesAValidStarter(t *testing.T) {
	path := t.TempDir() + "/oncall.yaml"
	if code, _, stderr := run(t, nil, "init", path); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	if code, out, stderr := run(t, nil, "config", "validate", "--config", path); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("validate: %s%s", out, stderr)
	}
	if code, _, stderr := run(t, nil, "init", path); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("second init should refuse: %s", stderr)
	}
	if code, _, stderr := run(t, nil, "init", "--force", path); code != 0 {
		t.Fatalf("init --force: %s", stderr)
	}
}

// A mistyped command or flag value is an error with a non-zero exit, never
// help and success.
func TestUnknownCommandsAndBadFlagsFail(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"alerts", "frob"}, 1, `unknown command "frob" for "oncall alerts" (commands: backtest, check, history, list, preview, render, test)`},
		{[]string{"config", "shw"}, 1, `unknown command "shw" for "oncall config"; did you mean "show"?`},
		{[]string{"silenc"}, 1, `did you mean "silence"?`},
		{[]string{"--log-level", "verbose", "config", "validate"}, 1, `--log-level "verbose": want debug, info, warn or error`},
		{[]string{"query", "--bogus", "up"}, 1, "unknown flag: --bogus"},
		{[]string{"alerts"}, 0, "Available Commands"},
		{[]string{"--log-level", "DEBUG", "config", "validate"}, 0, ""},
	} {
		code, out, stderr := run(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(out+stderr, tc.want) {
			t.Errorf("oncall %s: exit %d, want %d with %q\n%s%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "oncall ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("--version: exit %d: %q", code, out)
	}
}

// config validate reports the configuration's problems and the rule
// files' in one run.
func TestConfigValidateReportsEverything(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r.yml"), []byte("groups:\n- name: x\n  rules:\n  - alert: A\n    expr: up ==\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "oncall.yaml"), []byte("alerts:\n  rule_files: [r.yml, nope.yml]\nlogs: {bufer: 1}\n"), 0o600)
	code, _, stderr := run(t, nil, "config", "validate", "--config", filepath.Join(dir, "oncall.yaml"))
	for _, w := range []string{"oncall.yaml:2: alerts.rule_files[1]: ", "oncall.yaml:3: logs.bufer: unknown field; did you mean logs.buffer?", "r.yml:5:11: "} {
		if !strings.Contains(stderr, w) {
			t.Errorf("missing %q in:\n%s", w, stderr)
		}
	}
	if code != 1 || strings.Count(stderr, "nope.yml") != 1 {
		t.Errorf("exit %d, each problem once:\n%s", code, stderr)
	}
}

func TestConfigShowMasksSecrets(t *testing.T) {
	code, out, stderr := run(t, []string{"ONCALL_SERVER_TOKEN=hunter2-token", "ONCALL_METRICS_PROMETHEUS_URL=http://admin:swordfish@prom.example:9090"}, "config", "show", "--server", "http://oncall.example:7767")
	if code != 0 || strings.Contains(out, "hunter2") || strings.Contains(out, "swordfish") || !strings.Contains(out, "url: http://admin:xxxxx@prom.example:9090") || !strings.Contains(out, "token: <secret>") || !strings.Contains(out, "url: http://oncall.example:7767") || !strings.Contains(out, "evaluation_interval: 15s") {
		t.Errorf("exit %d:\n%s%s", code, out, stderr)
	}
}

// A bad value from the environment is blamed on the variable, not on a
// line of the file that never held it.
func TestEnvironmentProblemsNameTheVariable(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "oncall.yaml")
	os.WriteFile(cfg, []byte("user: ana\nserver:\n  listen: 127.0.0.1:7767\n"), 0o600)
	code, out, stderr := run(t, []string{"ONCALL_SERVER_TOKEN=s3cret "}, "config", "validate", "--config", cfg)
	if code == 0 || !strings.Contains(stderr, "$ONCALL_SERVER_TOKEN: server.token: leading or trailing whitespace") || strings.Contains(stderr, "oncall.yaml:") {
		t.Errorf("exit %d:\n%s%s", code, out, stderr)
	}
}

func TestBadBooleansFromTheEnvironmentFail(t *testing.T) {
	code, out, stderr := run(t, []string{"ONCALL_CONSOLE_READ_ONLY=maybe"}, "config", "validate")
	if code == 0 || !strings.Contains(stderr, `ONCALL_CONSOLE_READ_ONLY "maybe": want true or false`) {
		t.Errorf("exit %d:\n%s%s", code, out, stderr)
	}
}

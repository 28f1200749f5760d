package main

import (
	"strings"
	"testing"
)

func TestRulesTestCommand(t *testing.T) {
	code, out, _ := run(t, nil, "rules", "test", "../../alerts/testdata/ruletests/good_test.yml")
	if code != 0 || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("good: exit %d\n%s", code, out)
	}
	code, out, stderr := run(t, nil, "rules", "test", "../../alerts/testdata/ruletests/bad_test.yml")
	if code == 0 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "time 10m0s") || !strings.Contains(stderr, "1 of 1 rule test files failed") {
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

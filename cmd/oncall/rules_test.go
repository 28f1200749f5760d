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

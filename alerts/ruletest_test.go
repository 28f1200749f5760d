package alerts

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The same rule unit tests give the same verdicts under oncall's evaluator
// and under promtool, the reference.
func TestRuleTestsAgreeWithPromtool(t *testing.T) {
	tests := []struct {
		file     string
		failures int
	}{
		{"testdata/ruletests/good_test.yml", 0},
		{"testdata/ruletests/bad_test.yml", 2},
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil && os.Getenv("ONCALL_INTEGRATION") == "1" {
		t.Fatal("ONCALL_INTEGRATION=1 but promtool is not installed (apt-get install prometheus)")
	}
	for _, tc := range tests {
		failures, err := RunRuleTests(tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(failures) != tc.failures {
			t.Errorf("%s: oncall found %d failures, want %d:\n%s", tc.file, len(failures), tc.failures, strings.Join(failures, "\n"))
		}
		if promtool == "" {
			continue
		}
		out, err := exec.Command(promtool, "test", "rules", tc.file).CombinedOutput()
		if passed := err == nil; passed != (tc.failures == 0) {
			t.Errorf("%s: promtool passed=%v, oncall failures=%d\n%s", tc.file, passed, len(failures), out)
		}
	}
	if promtool == "" {
		t.Skip("promtool not installed: checked oncall's verdicts only")
	}
}

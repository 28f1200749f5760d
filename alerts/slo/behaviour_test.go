package slo

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oncallhq/oncall/alerts/ruletest"
	"github.com/oncallhq/oncall/internal/testenv"
)

// The rule unit tests of testdata/*_test.yml run on the golden rule files,
// which goldenFiles has just rendered from the specs: each passes (or,
// named fail_*, fails) under oncall's rule engine, and under the promtool
// of the Prometheus version oncall embeds alike.
func TestGeneratedRulesBehave(t *testing.T) {
	goldenFiles(t)
	files, err := filepath.Glob("testdata/*_test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := ruletest.RunFile(f)
			if want := !strings.HasPrefix(filepath.Base(f), "fail_"); r.Passed() != want {
				var b strings.Builder
				for _, fl := range r.Failures {
					b.WriteString("\n" + fl.String())
				}
				t.Errorf("oncall passed=%v, want %v; %v%s", r.Passed(), want, r.Err, b.String())
			}
			promtool := testenv.SamePromtool(t)
			out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
			if _, failed := err.(*exec.ExitError); err != nil && !failed {
				t.Fatalf("%s: %v", promtool, err)
			}
			if got := err == nil; got != r.Passed() {
				t.Errorf("promtool passed=%v, oncall passed=%v\n%s", got, r.Passed(), out)
			}
		})
	}
}

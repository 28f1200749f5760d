package ruletest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oncallhq/oncall/internal/testenv"
)

// verdictFiles are the test files of the differential suite: those named
// fail_* must fail, every other must pass.
func verdictFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*_test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	return files
}

func wantPass(file string) bool { return !strings.HasPrefix(filepath.Base(file), "fail_") }

// Every test file passes or fails under oncall as its name says, and as it
// does under the promtool of the Prometheus version oncall embeds.
func TestVerdictsAgreeWithTheSamePromtool(t *testing.T) {
	files := verdictFiles(t)
	var mine []bool
	for _, f := range files {
		r := RunFile(f)
		mine = append(mine, r.Passed())
		if r.Passed() != wantPass(f) {
			t.Errorf("%s: oncall passed=%v, want %v\n%v %v", f, r.Passed(), wantPass(f), r.Err, r.Failures)
		}
	}
	promtool := testenv.SamePromtool(t)
	for i, f := range files {
		if got := promtoolPasses(t, promtool, f); got != mine[i] {
			t.Errorf("%s: promtool (the same Prometheus version) passed=%v, oncall passed=%v", f, got, mine[i])
		}
	}
}

// Debian's promtool 2.42, which many users still run, agrees but where
// Prometheus 3 changed the language, and each such place is pinned.
func TestVerdictsOfPromtool242(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	for _, f := range verdictFiles(t) {
		got := promtoolPasses(t, promtool, f)
		why, differs := differs242[filepath.Base(f)]
		switch {
		case differs && got == wantPass(f):
			t.Errorf("%s: promtool 2.42 now agrees with Prometheus 3; drop it from differs242 (%s)", f, why)
		case !differs && got != wantPass(f):
			t.Errorf("%s: promtool 2.42 passed=%v, Prometheus 3 passed=%v: a difference not documented in differs242", f, got, wantPass(f))
		}
	}
}

func promtoolPasses(t *testing.T, promtool, file string) bool {
	t.Helper()
	out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
	if err == nil {
		return true
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("%s: %v\n%s", promtool, err, out)
	}
	return false
}

// Every file runs, whatever the ones before it did.
func TestEveryFileRuns(t *testing.T) {
	rs := Run("testdata/missing_test.yml", "testdata/fail_bad_annotation_test.yml", "testdata/good_test.yml")
	if len(rs) != 3 || rs[0].Err == nil || rs[1].Passed() || !rs[2].Passed() {
		t.Fatalf("results %+v", rs)
	}
}

// A failure says what was wanted, what came, what is missing and extra.
func TestFailureOutput(t *testing.T) {
	r := RunFile("testdata/fail_bad_annotation_test.yml")
	if len(r.Failures) == 0 {
		t.Fatal("no failure")
	}
	s := r.Failures[1].String()
	for _, want := range []string{"alertname HighErrorRatio at 10m", "want:", "got:", `summary="5xx ratio 11%"`, `summary="5xx ratio 10%"`} {
		if !strings.Contains(s, want) {
			t.Errorf("failure lacks %q:\n%s", want, s)
		}
	}
}

func TestBadFiles(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"testdata/broken/unknown_field.yml", "field evaluation_intervall not found"},
		{"testdata/broken/no_alertname.yml", "alertname is required"},
		{"testdata/broken/bad_series.yml", "input_series"},
	} {
		r := RunFile(tc.file)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) || !strings.Contains(r.Err.Error(), tc.file) {
			t.Errorf("%s: %v, want an error naming the file with %q", tc.file, r.Err, tc.want)
		}
	}
	// What promtool runs on in silence (or with a warning), oncall runs on
	// too, and says.
	for file, want := range map[string]string{"testdata/broken/no_rules.yml": "matches no file", "testdata/broken/bad_order.yml": `group_eval_order: no group "nope"`} {
		r := RunFile(file)
		if r.Err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], want) {
			t.Errorf("%s: warnings %v, err %v", file, r.Warnings, r.Err)
		}
	}
}

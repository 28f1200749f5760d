package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/golden"
	"github.com/oncallhq/oncall/internal/testenv"
)

// testOptions are the options of the file-based tests: a one-minute
// evaluation interval and a 15s scrape.
func testOptions() Options {
	return Options{EvaluationInterval: time.Minute, ScrapeInterval: 15 * time.Second, NoSourceReason: "--offline"}
}

// want is one expected finding, from a "# want OC101" (or
// "# want OC501:error") comment on its line.
type want struct {
	line int
	id   string
	sev  Severity
}

var wantComment = regexp.MustCompile(`#\s*want((?:\s+OC\d+(?::\w+)?)+)`)

// wants reads the expected findings of a test file.
func wants(t *testing.T, path string) []want {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []want
	for i, line := range strings.Split(string(b), "\n") {
		m := wantComment.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, f := range strings.Fields(m[1]) {
			id, sev, _ := strings.Cut(f, ":")
			out = append(out, want{i + 1, id, Severity(sev)})
		}
	}
	return out
}

func lintFiles(t *testing.T, opts Options, paths ...string) Report {
	t.Helper()
	var files []*File
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return Lint(context.Background(), files, opts)
}

// TestChecks runs every offline check on its two files: testdata/checks/ID.yml
// must give exactly the findings of that check its "# want" comments list,
// and ID_ok.yml, the same mistakes done right, no finding at all.
func TestChecks(t *testing.T) {
	for _, c := range Checks {
		if c.Source {
			continue
		}
		t.Run(c.ID+"_"+c.Name, func(t *testing.T) {
			bad := filepath.Join("testdata", "checks", c.ID+".yml")
			rep := lintFiles(t, testOptions(), bad)
			var got []want
			for _, f := range rep.Findings {
				if f.ID == c.ID {
					got = append(got, want{f.Line, f.ID, f.Severity})
				}
			}
			exp := wants(t, bad)
			for i := range exp {
				if exp[i].id != c.ID {
					t.Fatalf("%s:%d: want %s in the file of %s", bad, exp[i].line, exp[i].id, c.ID)
				}
				if exp[i].sev == "" {
					exp[i].sev = c.Severity
				}
			}
			if len(exp) == 0 {
				t.Fatalf("%s has no # want comment", bad)
			}
			if !slices.Equal(got, exp) {
				t.Errorf("%s: got\n%v\nwant\n%v\n%s", bad, got, exp, table(rep))
			}

			ok := filepath.Join("testdata", "checks", c.ID+"_ok.yml")
			if rep := lintFiles(t, testOptions(), ok); len(rep.Findings) > 0 {
				t.Errorf("%s: want no finding, got\n%s", ok, table(rep))
			}
		})
	}
}

func table(r Report) string {
	var b bytes.Buffer
	r.WriteTable(&b)
	return b.String()
}

// TestGolden checks the table and the JSON of a file with a bit of
// everything, and a second file repeating one of its alerts.
func TestGolden(t *testing.T) {
	rep := lintFiles(t, testOptions(), "testdata/mixed.yml", "testdata/mixed_other.yml")
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/mixed.table.golden", table(rep))
	golden.Check(t, "testdata/mixed.json.golden", js.String())

	// The JSON reads back as what was written: the schema is the Report.
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back) != fmt.Sprint(rep) {
		t.Errorf("JSON round trip:\n%v\n%v", back, rep)
	}
	if rep.Summary.Errors == 0 || rep.Summary.Warnings == 0 || !rep.Failed(false) {
		t.Errorf("summary %+v: want errors and warnings", rep.Summary)
	}
}

// Failed is the exit status's rule: errors fail, warnings only when
// strict.
func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		errors, warnings int
		strict, want     bool
	}{
		{0, 0, false, false}, {0, 0, true, false},
		{0, 2, false, false}, {0, 2, true, true},
		{1, 0, false, true}, {1, 0, true, true},
	} {
		r := Report{Summary: Summary{Errors: tc.errors, Warnings: tc.warnings}}
		if got := r.Failed(tc.strict); got != tc.want {
			t.Errorf("%d errors, %d warnings, strict %v: Failed %v, want %v", tc.errors, tc.warnings, tc.strict, got, tc.want)
		}
	}
}

// A comment in a rule, or Options.Disabled, turns checks off; the
// directive above the next rule does not leak into the previous one.
func TestIgnore(t *testing.T) {
	src := `groups:
  - name: g
    rules:
      # oncall-check: ignore OC101 OC102
      - alert: A
        expr: up{service="api"} == 0
        for: 5m
        labels: {severity: page}
      - alert: B
        expr: up{service="api"} == 0 # oncall-check: ignore OC101,OC102
        for: 5m
        labels: {severity: page}
      - alert: C
        expr: up{service="api"} == 0
        for: 5m
        labels:
          # oncall-check: ignore OC101
          severity: page

      # oncall-check: ignore OC102
      - alert: D
        expr: up{service="api"} == 0
        for: 5m
        labels: {severity: page}
`
	f, err := ParseFile("ignore.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := func(opts Options) []string {
		var out []string
		for _, fd := range Lint(context.Background(), []*File{f}, opts).Findings {
			out = append(out, fd.Rule+" "+fd.ID)
		}
		return out
	}
	if g, w := got(testOptions()), []string{"C OC102", "D OC101"}; !slices.Equal(g, w) {
		t.Errorf("with comments: %v, want %v", g, w)
	}
	opts := testOptions()
	opts.Disabled = []string{"oc102"}
	if g, w := got(opts), []string{"D OC101"}; !slices.Equal(g, w) {
		t.Errorf("disabled OC102: %v, want %v", g, w)
	}
	opts.Disabled = []string{"OC101", "OC102", "OC301", "OC302", "OC303"}
	if rep := Lint(context.Background(), []*File{f}, opts); len(rep.Findings) != 0 || len(rep.Summary.Skipped) != 0 {
		t.Errorf("all disabled: %+v", rep)
	}
}

// Files that do not parse are refused with every problem, each naming
// the file and its line.
func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("x.yml", []byte(tc.src))
			if err == nil {
				t.Fatal("parsed")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d: %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
	if _, err := ReadFile("testdata/no-such-file.yml"); err == nil || !strings.Contains(err.Error(), "testdata/no-such-file.yml") {
		t.Errorf("missing file: %v", err)
	}
}

// parseErrorCases are rule files Prometheus refuses, and how ParseFile
// reports them.
var parseErrorCases = []struct {
	name, src string
	want      []string
}{
	{"yaml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n       bad: indent\n", []string{"x.yml:3: did not find expected '-' indicator"}},
	{"unknown field", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labes: {severity: page}\n", []string{"x.yml:6: field labes not found"}},
	{"promql", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(up\n", []string{"x.yml:5: group \"g\", rule 1, \"A\": could not parse expression"}},
	{"no expr", "groups:\n  - name: g\n    rules:\n      - alert: A\n        for: 5m\n", []string{"x.yml:4: group \"g\", rule 1, \"A\": field 'expr' must be set in rule"}},
	{"bad label name", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n      - alert: B\n        expr: up\n        labels: {\"\": x}\n", []string{"x.yml:6: group \"g\", rule 2, \"B\": invalid label name"}},
	{"template", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations: {summary: \"{{ $labels.x \"}\n", []string{"x.yml:4: group \"g\", rule 1, \"A\": annotation \"summary\""}},
	{"repeated group", "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", []string{"x.yml:4: groupname: \"g\" is repeated"}},
	{"two problems", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(\n      - record: b\n        expr: up\n        for: 1m\n",
		[]string{"x.yml:5: ", "x.yml:6: group \"g\", rule 2, \"b\": invalid field 'for' in recording rule"}},
	{"group label", "groups:\n  - name: g\n    labels:\n      \"\": x\n    rules: []\n", []string{"x.yml:4: group labels: invalid label name"}},
	{"not a rule file", "- just\n- a list\n", []string{"x.yml:1: "}},
}

// The same-version promtool agrees on what is a rule file: it accepts
// every test file, and refuses every file ParseFile refuses.
func TestPromtoolAgrees(t *testing.T) {
	promtool := testenv.SamePromtool(t)
	files, _ := filepath.Glob("testdata/*.yml")
	more, _ := filepath.Glob("testdata/*/*.yml")
	files = append(files, more...)
	for _, f := range files {
		if out, err := exec.Command(promtool, "check", "rules", "--lint=none", f).CombinedOutput(); err != nil {
			t.Errorf("promtool refuses %s: %v\n%s", f, err, out)
		}
	}
	dir := t.TempDir()
	for i, tc := range parseErrorCases {
		f := filepath.Join(dir, fmt.Sprintf("%d.yml", i))
		if err := os.WriteFile(f, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "rules", "--lint=none", f).CombinedOutput(); err == nil {
			t.Errorf("%s: promtool accepts it:\n%s", tc.name, out)
		}
	}
}

// What a template reads, as Prometheus's template language parses it.
func TestTemplateUses(t *testing.T) {
	for _, tc := range []struct {
		text    string
		perEval []string
		labels  []string
	}{
		{"plain text", nil, nil},
		{"{{ $value }}", []string{"$value"}, nil},
		{"{{ $value | humanize }}", []string{"$value"}, nil},
		{`{{ printf "%.2f" .Value }}`, []string{".Value"}, nil},
		{`{{ with query "up" }}{{ . | first | value }}{{ end }}`, []string{"query"}, nil},
		{"{{ $labels.instance }} on {{ .Labels.job }}", nil, []string{"instance", "job"}},
		{`{{ index $labels "service" }}`, nil, []string{"service"}},
		{"{{ range $k, $v := $labels }}{{ $k }}={{ $v }}{{ end }}", nil, nil},
		{"{{ range .Alerts }}{{ .Value }}{{ .Labels.x }}{{ end }}", nil, nil},
		{"{{ $externalLabels.cluster }} {{ $externalURL }}", nil, nil},
		{"{{ if gt $value 1.0 }}high{{ end }}", []string{"$value"}, nil},
		{"{{ broken", nil, nil},
	} {
		u := templateUses(tc.text)
		if !slices.Equal(u.perEval, tc.perEval) || !slices.Equal(u.labels, tc.labels) {
			t.Errorf("%q: per evaluation %v, labels %v; want %v, %v", tc.text, u.perEval, u.labels, tc.perEval, tc.labels)
		}
	}
}

// A real rule set: the demo's rules, with the demo's intervals, are clean.
func TestDemoRulesAreClean(t *testing.T) {
	opts := testOptions()
	opts.EvaluationInterval, opts.ScrapeInterval = 5*time.Second, 2*time.Second
	if rep := lintFiles(t, opts, "../../demo/rules/matchmaking.rules.yml"); len(rep.Findings) > 0 {
		t.Errorf("demo rules:\n%s", table(rep))
	}
}

package slo

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// specFile is a test spec: the service and its SLOs and KPIs, as the
// catalogue will hold them.
type specFile struct {
	Service Service `yaml:"service"`
	Spec    `yaml:",inline"`
}

func loadSpec(t testing.TB, path string) specFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f specFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// rendered is every golden rule file by path, rendered now from the specs
// of testdata/specs and the Sloth files of testdata/sloth.
func rendered(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	specs, _ := filepath.Glob("testdata/specs/*.yml")
	for _, p := range specs {
		f := loadSpec(t, p)
		b, err := Render(f.Service, f.SLOs, f.KPIs)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[goldenPath(p)] = b
	}
	sloths, _ := filepath.Glob("testdata/sloth/*.yml")
	for _, p := range sloths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		services, err := ParseSloth(p, data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, s := range services {
			b, err := Render(Service{Name: s.Service, Runbook: "https://runbooks.example.com/" + s.Service}, s.SLOs, nil)
			if err != nil {
				t.Fatalf("%s: %s: %v", p, s.Service, err)
			}
			out[goldenPath(strings.TrimSuffix(p, ".yml")+"-"+s.Service+".yml")] = b
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d specs in testdata", len(out))
	}
	return out
}

func goldenPath(spec string) string {
	return filepath.Join("testdata", "golden", strings.TrimSuffix(filepath.Base(spec), ".yml")+".rules.yml")
}

// goldenFiles renders the rule files and compares them with testdata/golden
// (rewriting it with -update), so that every test reading the golden files
// reads what the generator makes now.
func goldenFiles(t *testing.T) []string {
	t.Helper()
	var paths []string
	for path, got := range rendered(t) {
		paths = append(paths, path)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator renders now (go test -update rewrites it):\n%s", path, firstDiff(string(want), string(got)))
		}
	}
	return paths
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func TestGolden(t *testing.T) { goldenFiles(t) }

// Both promtools accept the rendered files: the one of the Prometheus
// version oncall embeds, and Debian's 2.42.
func TestPromtoolsCheckRules(t *testing.T) {
	files := goldenFiles(t)
	tools := map[string]func(testing.TB) string{
		"same-version": testenv.SamePromtool,
		"debian-2.42":  func(t testing.TB) string { return testenv.RequireTool(t, "promtool", "prometheus") },
	}
	for name, find := range tools {
		t.Run(name, func(t *testing.T) {
			promtool := find(t)
			for _, f := range files {
				out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput()
				if err != nil {
					t.Errorf("%s check rules %s: %v\n%s", promtool, f, err, out)
				}
			}
		})
	}
}

package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLint feeds arbitrary bytes to the parser and every offline check:
// nothing panics, a file either parses or says where it is wrong, and a
// report always renders.
func FuzzLint(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	more, _ := filepath.Glob("testdata/*/*.yml")
	for _, p := range append(seeds, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: absent(x{a=~\"b\"})\n    labels: {l: '{{ $value }}'}\n"))
	f.Add([]byte("groups: []\n---\ngroups: x\n"))
	f.Add([]byte("groups:\n- &g {name: g, rules: [{record: 'a:b:c', expr: 'rate(sum(x)[5m:])'}]}\n- *g\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ParseFile("fuzz.yml", b)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yml:") {
					t.Fatalf("error without the file: %q", line)
				}
			}
			return
		}
		rep := Lint(context.Background(), []*File{file}, testOptions())
		var out bytes.Buffer
		if err := rep.WriteTable(&out); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatal(err)
		}
		for _, fd := range rep.Findings {
			if fd.Line <= 0 || fd.File != "fuzz.yml" {
				t.Fatalf("finding without a line: %+v", fd)
			}
		}
	})
}

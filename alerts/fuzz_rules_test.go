package alerts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The rule loader never panics on any file, and what it keeps is valid:
// every rule it lists has a name and parses again alone, and an error
// names the file.
func FuzzParseRuleFile(f *testing.F) {
	for _, seed := range []string{
		"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n",
		"groups:\n  - name: g\n    interval: 30s\n    rules:\n      - record: a:b\n        expr: sum(x)\n  - name: h\n    rules:\n      - alert: B\n        expr: sum(\n",
		"groups: []\n---\ngroups: []\n", // a second document (once a nil-logger panic)
		"groups:\n  - name: g\n  - name: g\n",
		"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels: {v: '{{ $value'}\n",
		"groups: [{name: g, rules: [{alert: A, expr: up, keep_firing_for: 1m}]}]",
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(dir, "rules.yml")
		rf, errs := parseRuleFile(path, content, nil)
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("error without the file: %v", err)
			}
		}
		if rf == nil {
			return
		}
		for _, g := range rf.groups {
			for _, r := range g.rules {
				if r.Name == "" || r.File != path || r.Group != g.def.Name {
					t.Errorf("rule %+v of group %q", r, g.def.Name)
				}
			}
		}
		// The groups kept load in Prometheus's manager.
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(EngineOptions{Files: []string{path}, Lenient: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(e0, nil); err != nil {
			t.Errorf("kept groups do not load: %v", err)
		}
	})
}

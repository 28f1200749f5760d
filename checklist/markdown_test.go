package checklist

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type wantCheck struct{ id, title, category, level, rationale string }

func TestImportMarkdown(t *testing.T) {
	for _, tc := range []struct {
		file   string
		title  string
		levels []string
		checks []wantCheck
	}{
		{"tasks.md", "Launch readiness", DefaultLevels, []wantCheck{
			{"structured-logs", "Structured logs", "observability", "silver", "every line is JSON with a request id"},
			{"dashboards", "Dashboards", "observability", "bronze", "one per service"},
			{"error-budget-panel", "Error budget panel", "observability", "gold", ""},
			{"secrets-in-the-vault", "Secrets in the vault", "security", "bronze", "no secret in the repository"},
			{"secrets-in-the-vault-2", "Secrets in the vault", "security", "bronze", "also rotated yearly"},
		}},
		{"levels.md", "levels", []string{"c", "b", "a"}, []wantCheck{
			{"graceful-shutdown", "Graceful shutdown", "reliability", "c", "Handles SIGTERM"},
			{"multi-zone", "Multi-zone", "reliability", "b", "Runs in two zones"},
			{"chaos-day", "Chaos day", "reliability", "a", "Survives a game day | twice"},
		}},
		{"priority.md", "priority", DefaultLevels, []wantCheck{
			{"redirect-http-to-https", "Redirect HTTP to HTTPS", "", "bronze", "the first hop stays on the host"},
			{"security-headers-grade-b", "Security headers grade B", "", "silver", ""},
			{"status-page", "Status page", "", "gold", ""},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "import", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(tc.file, ".md")
			cl, err := ImportMarkdown(name, src)
			if err != nil {
				t.Fatal(err)
			}
			if cl.Title != tc.title || !slices.Equal(cl.Levels, tc.levels) {
				t.Errorf("title %q levels %v, want %q %v", cl.Title, cl.Levels, tc.title, tc.levels)
			}
			var got []wantCheck
			for _, c := range cl.Checks {
				if c.Kind != KindAttestation {
					t.Errorf("%s: kind %s, want attestation", c.ID, c.Kind)
				}
				got = append(got, wantCheck{c.ID, c.Title, c.Category, c.Level, c.Rationale})
			}
			if !slices.Equal(got, tc.checks) {
				t.Errorf("checks:\n%+v\nwant\n%+v", got, tc.checks)
			}
			// What import writes is a checklist file that loads.
			b, err := cl.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(name+".yaml", b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !slices.Equal(back.IDs(), cl.IDs()) {
				t.Errorf("read back %v", back.IDs())
			}
		})
	}
}

func TestImportMarkdownRefuses(t *testing.T) {
	if _, err := ImportMarkdown("x", []byte("# Notes\n\nJust prose, and\n- a bullet\n")); err == nil || !strings.Contains(err.Error(), "no checklist items") {
		t.Errorf("prose: %v", err)
	}
	if _, err := ImportMarkdown("Bad Name", []byte("- [ ] a\n")); err == nil {
		t.Error("a bad name is refused")
	}
}

// FuzzImportMarkdown: whatever the Markdown, the import does not panic,
// and what it accepts is a checklist file that loads with the same checks.
func FuzzImportMarkdown(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "import", "*.md"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	for _, s := range []string{"- [ ] a", "| a |\n|---|\n| x |", "|a|b|\n|-|-|\n|**x**|:white_check_mark:|", "- [x] (gold)", "# T\n## 🔥\n- [ ] é — ü (level: b)",
		"| Level A |\n|:-:|\n| ✅ |", "```\n- [ ] x", "- [ ] [](", "- [ ] <b>bold</b>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cl, err := ImportMarkdown("fuzz", src)
		if err != nil {
			return
		}
		b, err := cl.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("fuzz.yaml", b)
		if err != nil {
			t.Fatalf("the import does not load: %v\n%s", err, b)
		}
		if !slices.Equal(back.IDs(), cl.IDs()) {
			t.Fatalf("ids %v, want %v", back.IDs(), cl.IDs())
		}
	})
}

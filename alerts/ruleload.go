package alerts

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// FileProblem is what is wrong with one rule file (or a pattern that
// matches none): its groups that are invalid do not run, or run as they
// were before the file broke.
type FileProblem struct {
	// File is the rule file, or the pattern that matched no file.
	File string
	Err  error
}

// Error names the file; Err already carries line and column.
func (p FileProblem) Error() string { return p.Err.Error() }

// GeneratedFile is a rule file made rather than read: from the service
// catalogue's SLOs and KPIs, or from Sloth specs. Name stands for its
// path in errors and in where a rule comes from.
type GeneratedFile struct {
	Name    string
	Content []byte
}

// Generator makes the generated rule files anew, at every load and
// reload. A problem names the file it could not make, which then keeps
// its last good version.
type Generator func() ([]GeneratedFile, []FileProblem)

// ruleFile is one rule file as the engine runs it: its groups in effect —
// the valid ones of the last read, and the last good version of any group
// that is invalid now — with their rules and lines.
type ruleFile struct {
	path   string
	groups []loadedGroup
}

type loadedGroup struct {
	def   rulefmt.RuleGroup
	rules []Rule
}

// readRuleFiles reads the files the patterns match, in order. Where a file
// or a group of it is invalid, the version in prev (the files in effect
// before) stands in, if there is one, and the problem is reported.
func readRuleFiles(patterns []string, gen []GeneratedFile, genProblems []FileProblem, prev []*ruleFile) ([]*ruleFile, []FileProblem) {
	old := map[string]*ruleFile{}
	for _, f := range prev {
		old[f.path] = f
	}
	var out []*ruleFile
	var problems []FileProblem
	seen := map[string]bool{}
	for _, pat := range patterns {
		paths, err := filepath.Glob(pat)
		if err != nil {
			problems = append(problems, FileProblem{pat, fmt.Errorf("rule_files: bad pattern %q: %w", pat, err)})
			continue
		}
		if len(paths) == 0 {
			problems = append(problems, FileProblem{pat, fmt.Errorf("rule_files: %q matches no file", pat)})
		}
		slices.Sort(paths)
		for _, path := range paths {
			if seen[path] {
				continue
			}
			seen[path] = true
			content, err := os.ReadFile(path)
			if err != nil {
				problems = append(problems, FileProblem{path, err})
				if o := old[path]; o != nil {
					out = append(out, o)
				}
				continue
			}
			f, errs := parseRuleFile(path, content, old[path])
			if len(errs) > 0 {
				problems = append(problems, FileProblem{path, errors.Join(errs...)})
			}
			if f != nil {
				out = append(out, f)
			}
		}
	}
	for _, g := range gen {
		if seen[g.Name] {
			continue
		}
		seen[g.Name] = true
		f, errs := parseRuleFile(g.Name, g.Content, old[g.Name])
		if len(errs) > 0 {
			problems = append(problems, FileProblem{g.Name, errors.Join(errs...)})
		}
		if f != nil {
			out = append(out, f)
		}
	}
	for _, p := range genProblems {
		problems = append(problems, p)
		if o := old[p.File]; o != nil && !seen[p.File] {
			seen[p.File] = true
			out = append(out, o)
		}
	}
	return out, problems
}

// parseRuleFile validates content as Prometheus does. A group with an
// error is left out, or replaced by its version in prev; an error that
// belongs to no group (YAML syntax, an unknown field) keeps prev whole.
func parseRuleFile(path string, content []byte, prev *ruleFile) (*ruleFile, []error) {
	set, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for i := range errs {
		errs[i] = fmt.Errorf("%s:%w", path, errs[i])
	}
	bad := map[string]bool{}
	whole := set == nil
	for _, err := range errs {
		var re *rulefmt.Error
		if errors.As(err, &re) && re.Group != "" {
			bad[re.Group] = true
		} else {
			whole = true
		}
	}
	if whole {
		return prev, errs
	}
	lines := ruleLines(content)
	f := &ruleFile{path: path}
	for gi, g := range set.Groups {
		if bad[g.Name] {
			if o, ok := prev.group(g.Name); ok {
				f.groups = append(f.groups, o)
			}
			continue
		}
		f.groups = append(f.groups, loadedGroup{def: g, rules: groupRules(path, gi, g, lines)})
	}
	return f, errs
}

// group is the named group of f, if f has it.
func (f *ruleFile) group(name string) (loadedGroup, bool) {
	if f == nil {
		return loadedGroup{}, false
	}
	for _, g := range f.groups {
		if g.def.Name == name {
			return g, true
		}
	}
	return loadedGroup{}, false
}

// groupRules are the Rules of group gi of a file.
func groupRules(path string, gi int, g rulefmt.RuleGroup, lines map[[2]int]int) []Rule {
	out := make([]Rule, 0, len(g.Rules))
	for ri, r := range g.Rules {
		out = append(out, ruleOf(path, gi, ri, g, r, lines))
	}
	return out
}

// inputsSum digests everything a load reads: the files the patterns
// match with their content, and what the generator made or could not.
func inputsSum(patterns []string, gen []GeneratedFile, genProblems []FileProblem) [32]byte {
	h := sha256.New()
	seen := map[string]bool{}
	for _, pat := range patterns {
		m, err := filepath.Glob(pat)
		if err != nil {
			fmt.Fprintf(h, "bad pattern %q\x00", pat)
			continue
		}
		slices.Sort(m)
		for _, p := range m {
			if seen[p] {
				continue
			}
			seen[p] = true
			b, err := os.ReadFile(p)
			if err != nil {
				fmt.Fprintf(h, "%s\x00unreadable %v\x00", p, err)
				continue
			}
			sum := sha256.Sum256(b)
			fmt.Fprintf(h, "%s\x00%x\x00", p, sum)
		}
	}
	for _, g := range gen {
		sum := sha256.Sum256(g.Content)
		fmt.Fprintf(h, "gen %s\x00%x\x00", g.Name, sum)
	}
	for _, p := range genProblems {
		fmt.Fprintf(h, "problem %s\x00%v\x00", p.File, p.Err)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// fileLoader serves Prometheus's rule manager the groups in effect, so
// that what runs is what was validated, whatever the files hold by then.
type fileLoader struct {
	mu    sync.Mutex
	files map[string]*rulefmt.RuleGroups
}

func (l *fileLoader) set(files []*ruleFile) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.files = map[string]*rulefmt.RuleGroups{}
	var paths []string
	for _, f := range files {
		rg := &rulefmt.RuleGroups{}
		for _, g := range f.groups {
			rg.Groups = append(rg.Groups, g.def)
		}
		l.files[f.path] = rg
		paths = append(paths, f.path)
	}
	return paths
}

// Load returns the groups in effect of a file.
func (l *fileLoader) Load(path string, _ bool, _ model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rg, ok := l.files[path]; ok {
		return rg, nil
	}
	return nil, []error{fmt.Errorf("%s: not loaded", path)}
}

// Parse parses a rule's expression.
func (l *fileLoader) Parse(query string) (parser.Expr, error) {
	return parser.NewParser(parser.Options{}).ParseExpr(query)
}

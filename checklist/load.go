package checklist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/suggest"
	"github.com/oncallhq/oncall/yamlnode"
)

// The probes oncall has; a probe check names one of them.
const (
	ProbeTLS     = "tls"     // plain HTTP redirects, TLS 1.2+, the chain, expiry, HSTS
	ProbeAlerts  = "alerts"  // a rule covers the service being down, routes to an incident, a person on call
	ProbeLogging = "logging" // recent log lines are JSON or logfmt with time, level, message, request ids
	ProbeRunbook = "runbook" // the runbook exists, its links resolve, it has command blocks
	ProbeStaging = "staging" // staging runs the version production runs
	ProbeDrill   = "drill"   // a drill incident for the service lately
)

// Probes lists the probe names a checklist may use.
var Probes = []string{ProbeAlerts, ProbeDrill, ProbeLogging, ProbeRunbook, ProbeStaging, ProbeTLS}

// DefaultLevels are a checklist's levels when it names none.
var DefaultLevels = []string{"bronze", "silver", "gold"}

// Problem is one thing wrong with a checklist file.
type Problem struct {
	File  string
	Line  int
	Field string // dotted path, e.g. "checks[2].level"
	Msg   string
}

// Error renders "file:line: field: message".
func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Field == "" {
		return loc + ": " + p.Msg
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg)
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	syntaxRE  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	topFields = []string{"name", "title", "description", "levels", "default_level", "tiers", "checks"}
	chkFields = []string{"id", "title", "category", "level", "kind", "probe", "params", "attestable", "evidence", "valid_for", "rationale", "remediation"}
)

// parser collects the problems of one file.
type parser struct {
	file     string
	problems []Problem
}

func (p *parser) add(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads one checklist file's content. The error lists every
// problem, one per line, as "file:line: field: message".
func Parse(file string, content []byte) (Checklist, error) {
	cl := Checklist{File: file}
	var root yaml.Node
	if err := yaml.Unmarshal(content, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return cl, Problem{File: file, Line: line, Field: "syntax", Msg: msg}
	}
	p := &parser{file: file}
	if len(root.Content) == 0 {
		return cl, Problem{File: file, Line: 1, Msg: "empty file: a checklist needs name and checks"}
	}
	doc := root.Content[0]
	p.top(doc, &cl)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
		errs := make([]error, len(p.problems))
		for i, pr := range p.problems {
			errs[i] = pr
		}
		return cl, errors.Join(errs...)
	}
	return cl, nil
}

// entries returns the key/value pairs of a mapping, reporting unknown and
// duplicate keys.
func (p *parser) entries(n *yaml.Node, path string, known []string) [][2]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a mapping, got %s", kindOf(n))
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := yamlnode.Join(path, k.Value)
		switch {
		case known != nil && !slices.Contains(known, k.Value):
			p.add(k, f, "unknown field%s (fields: %s)", nearest(k.Value, known), strings.Join(known, ", "))
		case seen[k.Value]:
			p.add(k, f, "given twice")
		default:
			out = append(out, [2]*yaml.Node{k, v})
		}
		seen[k.Value] = true
	}
	return out
}

// nearest suggests the known name closest to s, if one is close: at most
// two edits away, else the first that begins with the same four letters.
func nearest(s string, known []string) string {
	best := suggest.Closest(s, known, 2)
	for _, k := range known {
		if best == "" && len(s) >= 4 && len(k) >= 4 && s[:4] == k[:4] {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// kindOf is n in words, an alias and null by name.
func kindOf(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case yamlnode.IsNull(n):
		return "nothing"
	}
	return yamlnode.Describe(n)
}

func (p *parser) str(n *yaml.Node, field string) string {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.add(n, field, "want text, got %s", kindOf(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (p *parser) strs(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode {
		p.add(n, field, "want a list, got %s", kindOf(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, p.str(c, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (p *parser) top(doc *yaml.Node, cl *Checklist) {
	var levelsNode, defaultNode, tiersNode, checksNode *yaml.Node
	for _, kv := range p.entries(doc, "", topFields) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
			cl.Name = p.str(v, "name")
			if cl.Name != "" && !nameRE.MatchString(cl.Name) {
				p.add(v, "name", "%q: a checklist name is lower-case letters, digits, '-' or '_'", cl.Name)
			}
		case "title":
			cl.Title = p.str(v, "title")
		case "description":
			cl.Description = p.str(v, "description")
		case "levels":
			levelsNode = v
			cl.Levels = p.strs(v, "levels")
		case "default_level":
			defaultNode = v
			cl.DefaultLevel = p.str(v, "default_level")
		case "tiers":
			tiersNode = v
		case "checks":
			checksNode = v
		}
	}
	if cl.Name == "" {
		p.add(doc, "name", "missing: name the checklist (oncall checklist NAME)")
	}
	if cl.Title == "" {
		cl.Title = cl.Name
	}
	if levelsNode == nil {
		cl.Levels = slices.Clone(DefaultLevels)
	} else {
		if len(cl.Levels) == 0 {
			p.add(levelsNode, "levels", "want at least one level")
		}
		seen := map[string]bool{}
		for i, l := range cl.Levels {
			switch f := fmt.Sprintf("levels[%d]", i); {
			case !nameRE.MatchString(l):
				p.add(levelsNode.Content[i], f, "%q: a level is lower-case letters, digits, '-' or '_'", l)
			case seen[l]:
				p.add(levelsNode.Content[i], f, "level %q given twice", l)
			}
			seen[l] = true
		}
	}
	if defaultNode == nil {
		if len(cl.Levels) > 0 {
			cl.DefaultLevel = cl.Levels[0]
		}
	} else if cl.Rank(cl.DefaultLevel) < 0 {
		p.add(defaultNode, "default_level", "%q is not one of the levels (%s)", cl.DefaultLevel, strings.Join(cl.Levels, ", "))
	}
	if tiersNode != nil {
		cl.Tiers = map[int]string{}
		for _, kv := range p.entries(tiersNode, "tiers", nil) {
			k, v := kv[0], kv[1]
			f := "tiers." + k.Value
			tier, err := strconv.Atoi(k.Value)
			if err != nil || tier < 1 || tier > 5 {
				p.add(k, f, "%q: a tier is 1 (most critical) to 5", k.Value)
				continue
			}
			l := p.str(v, f)
			if cl.Rank(l) < 0 {
				p.add(v, f, "%q is not one of the levels (%s)", l, strings.Join(cl.Levels, ", "))
			}
			cl.Tiers[tier] = l
		}
	}
	if checksNode == nil {
		p.add(doc, "checks", "missing: a checklist needs at least one check")
		return
	}
	if checksNode.Kind != yaml.SequenceNode {
		p.add(checksNode, "checks", "want a list of checks, got %s", kindOf(checksNode))
		return
	}
	if len(checksNode.Content) == 0 {
		p.add(checksNode, "checks", "want at least one check")
	}
	ids := map[string]int{}
	for i, n := range checksNode.Content {
		f := fmt.Sprintf("checks[%d]", i)
		c := p.check(n, f, cl)
		if c.ID != "" {
			if first, dup := ids[c.ID]; dup {
				p.add(n, f+".id", "%q is also the id of checks[%d]: ids are unique", c.ID, first)
			}
			ids[c.ID] = i
		}
		cl.Checks = append(cl.Checks, c)
	}
}

func (p *parser) check(n *yaml.Node, f string, cl *Checklist) Check {
	c := Check{Line: n.Line}
	var kindNode, probeNode, levelNode, attestNode *yaml.Node
	for _, kv := range p.entries(n, f, chkFields) {
		k, v := kv[0], kv[1]
		field := f + "." + k.Value
		switch k.Value {
		case "id":
			c.ID = p.str(v, field)
			if c.ID != "" && !nameRE.MatchString(c.ID) {
				p.add(v, field, "%q: an id is lower-case letters, digits, '-' or '_' (it is stable: records name the check by it)", c.ID)
			}
		case "title":
			c.Title = p.str(v, field)
		case "category":
			c.Category = p.str(v, field)
		case "level":
			levelNode = v
			c.Level = p.str(v, field)
		case "kind":
			kindNode = v
			c.Kind = Kind(p.str(v, field))
		case "probe":
			probeNode = v
			c.Probe = p.str(v, field)
		case "params":
			c.Params = map[string]string{}
			for _, pkv := range p.entries(v, field, nil) {
				c.Params[pkv[0].Value] = p.str(pkv[1], field+"."+pkv[0].Value)
			}
		case "attestable":
			attestNode = v
			s := p.str(v, field)
			b, err := strconv.ParseBool(s)
			if err != nil {
				p.add(v, field, "%q: want true or false", s)
			}
			c.Attestable = b
		case "evidence":
			c.Evidence = Evidence(p.str(v, field))
			if c.Evidence != EvidenceOptional && c.Evidence != EvidenceRequired {
				p.add(v, field, "%q: want required or optional (an evidence URL with an attestation)", c.Evidence)
			}
		case "valid_for":
			s := p.str(v, field)
			d, err := ParseDuration(s)
			if err != nil || d <= 0 {
				p.add(v, field, "%q: want a positive duration such as 90d or 12h", s)
			}
			c.ValidFor = d
		case "rationale":
			c.Rationale = p.str(v, field)
		case "remediation":
			c.Remediation = p.str(v, field)
		}
	}
	if c.ID == "" {
		p.add(n, f+".id", "missing: every check needs a stable id")
	}
	if c.Title == "" {
		p.add(n, f+".title", "missing: say what the check asks")
	}
	switch {
	case levelNode == nil && len(cl.Levels) > 0:
		c.Level = cl.Levels[0]
	case levelNode != nil && cl.Rank(c.Level) < 0:
		p.add(levelNode, f+".level", "%q is not one of the levels (%s)", c.Level, strings.Join(cl.Levels, ", "))
	}
	if kindNode == nil {
		c.Kind = KindAttestation
		if probeNode != nil {
			c.Kind = KindProbe
		}
	}
	switch c.Kind {
	case KindProbe:
		switch {
		case probeNode == nil:
			p.add(n, f+".probe", "missing: a probe check names its probe (%s)", strings.Join(Probes, ", "))
		case !slices.Contains(Probes, c.Probe):
			p.add(probeNode, f+".probe", "unknown probe %q%s (probes: %s)", c.Probe, nearest(c.Probe, Probes), strings.Join(Probes, ", "))
		}
	case KindAttestation, KindExternal:
		if probeNode != nil {
			p.add(probeNode, f+".probe", "only a probe check has a probe (this one is kind %s)", c.Kind)
		}
		if attestNode != nil {
			p.add(attestNode, f+".attestable", "only a probe check takes an attestation in its place")
		}
	default:
		p.add(kindNode, f+".kind", "%q: want probe, attestation or external", c.Kind)
	}
	return c
}

// ParseDuration reads a duration: Prometheus's form (90d, 2w, 1y, 12h30m)
// or Go's.
func ParseDuration(s string) (time.Duration, error) {
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return time.ParseDuration(s)
}

// LoadDir reads every *.yaml and *.yml file of dir, one checklist each,
// in name order. Every problem of every file is returned together.
func LoadDir(dir string) ([]Checklist, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checklists: %w", err)
	}
	var out []Checklist
	var errs []error
	files := map[string]string{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cl, err := Parse(path, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := files[cl.Name]; dup {
			errs = append(errs, Problem{File: path, Line: 1, Field: "name", Msg: fmt.Sprintf("checklist %q is also defined in %s", cl.Name, other)})
			continue
		}
		files[cl.Name] = path
		out = append(out, cl)
	}
	return out, errors.Join(errs...)
}

// All returns the built-in checklists and those of dir ("" for none); a
// file of dir with a built-in checklist's name replaces it.
func All(dir string) ([]Checklist, error) {
	out := Builtin()
	if dir == "" {
		return out, nil
	}
	custom, err := LoadDir(dir)
	for _, c := range custom {
		if i := slices.IndexFunc(out, func(b Checklist) bool { return b.Name == c.Name }); i >= 0 {
			out[i] = c
		} else {
			out = append(out, c)
		}
	}
	return out, err
}

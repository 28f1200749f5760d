package lint

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/yamlnode"
)

// File is one parsed rule file.
type File struct {
	Path   string
	Groups []Group
}

// Group is one rule group of a file.
type Group struct {
	Name string
	Line int
	// Interval is the group's own evaluation interval; 0 when it sets none.
	Interval time.Duration
	Rules    []Rule
}

// Rule is one rule of a group, with the lines of its fields.
type Rule struct {
	// Alert or Record is set.
	Alert, Record string
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	// Labels are the group's labels and the rule's, merged; Annotations
	// are the rule's.
	Labels      map[string]string
	Annotations map[string]string
	// Line is the line the rule starts on.
	Line int

	expr   parser.Expr
	lines  map[string]int  // "expr", "for", "labels.NAME", "annotations.NAME", …
	ignore map[string]bool // checks an oncall-check comment turns off
}

// Name is the alert's name or the recorded series' name.
func (r *Rule) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// lineOf is the line of a field (see Rule.lines), else the rule's.
func (r *Rule) lineOf(field string) int {
	if n := r.lines[field]; n > 0 {
		return n
	}
	return r.Line
}

// promql parses expressions as oncall's rules engine does.
var promql = parser.NewParser(parser.Options{})

// ReadFile reads and parses one rule file; see ParseFile.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, b)
}

// ParseFile parses a Prometheus rule file with Prometheus's own validation
// (unknown fields, PromQL, label names, templates). Every problem is
// returned, each as "file:line: message".
func ParseFile(path string, content []byte) (*File, error) {
	var root yaml.Node
	// A YAML error is reported by rulefmt.Parse below with its line; root
	// then stays empty.
	_ = yaml.Unmarshal(content, &root)
	groupNodes := seqOf(yamlnode.MapValue(docOf(&root), "groups"))

	rgs, errs := rulefmt.Parse(content, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return nil, parseErrors(path, errs, groupNodes)
	}
	f := &File{Path: path}
	for gi, g := range rgs.Groups {
		var gn *yaml.Node
		if gi < len(groupNodes) {
			gn = groupNodes[gi]
		}
		grp := Group{Name: g.Name, Line: lineOfNode(gn), Interval: time.Duration(g.Interval)}
		ruleNodes := seqOf(yamlnode.MapValue(gn, "rules"))
		for ri, r := range g.Rules {
			var rn *yaml.Node
			if ri < len(ruleNodes) {
				rn = ruleNodes[ri]
			}
			expr, err := promql.ParseExpr(r.Expr)
			if err != nil { // rulefmt has parsed it already
				return nil, fmt.Errorf("%s:%d: %w", path, lineOfNode(rn), err)
			}
			labels := maps.Clone(g.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			maps.Copy(labels, r.Labels)
			rule := Rule{Alert: r.Alert, Record: r.Record, Expr: r.Expr, For: time.Duration(r.For), KeepFiringFor: time.Duration(r.KeepFiringFor),
				Labels: labels, Annotations: r.Annotations, Line: lineOfNode(rn), expr: expr, lines: fieldLines(rn), ignore: ignored(rn)}
			if rule.Line == 0 {
				rule.Line = grp.Line
			}
			if rule.Annotations == nil {
				rule.Annotations = map[string]string{}
			}
			for k := range g.Labels {
				if _, own := r.Labels[k]; !own {
					rule.lines["labels."+k] = lineOfNode(mapKey(yamlnode.MapValue(gn, "labels"), k))
				}
			}
			grp.Rules = append(grp.Rules, rule)
		}
		f.Groups = append(f.Groups, grp)
	}
	return f, nil
}

var (
	yamlLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	leadingPos    = regexp.MustCompile(`^(\d+):\d+: `)
	labelProblem  = regexp.MustCompile(`^invalid label (?:name|value): (.*)$`)
	repeatedGroup = regexp.MustCompile(`^groupname: "(.*)" is repeated`)
)

// parseErrors names file and line in every error of rulefmt.Parse.
func parseErrors(path string, errs []error, groups []*yaml.Node) error {
	var out []error
	yamlLines := map[int]bool{}
	add := func(line int, msg string) {
		if line > 0 {
			out = append(out, fmt.Errorf("%s:%d: %s", path, line, msg))
		} else {
			out = append(out, fmt.Errorf("%s: %s", path, msg))
		}
	}
	// rulefmt decodes the file twice: a YAML problem comes twice.
	addYAML := func(line int, msg string) {
		if !yamlLines[line] {
			yamlLines[line] = true
			add(line, msg)
		}
	}
	for _, err := range errs {
		msg := err.Error()
		var re *rulefmt.Error
		switch {
		case errors.As(err, &re):
			// "L:C: group …" when rulefmt knows the node, else the rule's line.
			if m := leadingPos.FindStringSubmatch(msg); m != nil && m[1] != "0" {
				n, _ := strconv.Atoi(m[1])
				add(n, msg[len(m[0]):])
				continue
			}
			msg = strings.TrimPrefix(msg, "0:0: ")
			add(ruleLine(groups, re.Group, re.Rule), msg)
		case strings.HasPrefix(msg, "yaml: unmarshal errors:"):
			for _, l := range strings.Split(msg, "\n")[1:] {
				if m := yamlLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
					n, _ := strconv.Atoi(m[1])
					addYAML(n, m[2])
				} else if strings.TrimSpace(l) != "" {
					add(0, strings.TrimSpace(l))
				}
			}
		default:
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				addYAML(n, m[2])
			} else if m := leadingPos.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				rest := msg[len(m[0]):]
				if r := repeatedGroup.FindStringSubmatch(rest); n == 0 && r != nil {
					n = repeatedGroupLine(groups, r[1])
				}
				add(n, rest)
			} else if m := labelProblem.FindStringSubmatch(msg); m != nil {
				add(groupLabelLine(groups, m[1]), "group labels: "+msg)
			} else {
				add(0, msg)
			}
		}
	}
	return errors.Join(out...)
}

// ruleLine is the line of the n-th (from 1) rule of the named group.
func ruleLine(groups []*yaml.Node, group string, n int) int {
	for _, g := range groups {
		if yamlnode.MapValue(g, "name") == nil || yamlnode.MapValue(g, "name").Value != group {
			continue
		}
		rules := seqOf(yamlnode.MapValue(g, "rules"))
		if n >= 1 && n <= len(rules) {
			return rules[n-1].Line
		}
		return g.Line
	}
	return 0
}

// repeatedGroupLine is the line of the second group of that name.
func repeatedGroupLine(groups []*yaml.Node, name string) int {
	seen := false
	for _, g := range groups {
		if n := yamlnode.MapValue(g, "name"); n != nil && n.Value == name {
			if seen {
				return g.Line
			}
			seen = true
		}
	}
	return 0
}

// groupLabelLine is the line of a group label whose name or value is s.
func groupLabelLine(groups []*yaml.Node, s string) int {
	for _, g := range groups {
		ls := yamlnode.MapValue(g, "labels")
		if ls == nil || ls.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(ls.Content); i += 2 {
			if ls.Content[i].Value == s || ls.Content[i+1].Value == s {
				return ls.Content[i].Line
			}
		}
	}
	return 0
}

// fieldLines maps a rule's fields to their lines: "expr", "for",
// "keep_firing_for", "labels", "labels.NAME", "annotations",
// "annotations.NAME".
func fieldLines(rule *yaml.Node) map[string]int {
	out := map[string]int{}
	if rule == nil || rule.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(rule.Content); i += 2 {
		k, v := rule.Content[i], rule.Content[i+1]
		out[k.Value] = k.Line
		if (k.Value == "labels" || k.Value == "annotations") && v.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(v.Content); j += 2 {
				out[k.Value+"."+v.Content[j].Value] = v.Content[j].Line
			}
		}
	}
	return out
}

// ignoreDirective is the comment that turns checks off for one rule.
var ignoreDirective = regexp.MustCompile(`oncall-check:\s*ignore((?:[\s,]+OC\d+)+)`)

// ignored collects the check ids of the oncall-check comments inside a
// rule: the comment above it, at the end of its lines, or above its fields.
func ignored(rule *yaml.Node) map[string]bool {
	out := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		for _, c := range []string{n.HeadComment, n.LineComment} {
			for _, m := range ignoreDirective.FindAllStringSubmatch(c, -1) {
				for _, id := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '#' }) {
					out[id] = true
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(rule)
	return out
}

// docOf is the top node of a document node.
func docOf(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return nil
}

// mapKey is the key node of key in a mapping node, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// seqOf is the items of a sequence node.
func seqOf(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func lineOfNode(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

package routing

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// locate turns an error of Alertmanager's configuration parser into one
// line per problem, "file:line: field: message", by finding the place in the
// YAML that the message talks about: the line a YAML error names, else the
// value the message quotes, else the field it is about.
//
// For a configuration embedded in another file (orig is its node there,
// prefix its dotted path), lines and fields are those of the outer file.
func locate(file string, content []byte, err error, orig *yaml.Node, prefix string) error {
	var root yaml.Node
	if yerr := yaml.Unmarshal(content, &root); yerr != nil {
		// The YAML itself is broken; yaml.v3 names the line.
		return fmt.Errorf("%s:%s", file, strings.TrimPrefix(strings.TrimPrefix(yerr.Error(), "yaml: "), "line "))
	}
	nodes := flatten(&root)
	out := func(line int, path, msg string) string {
		if orig != nil {
			line = 0
			for _, n := range flatten(orig) {
				if path == "" || n.path == path || strings.HasPrefix(path, n.path+".") || strings.HasPrefix(path, n.path+"[") {
					line = n.node.Line
					if n.path == path {
						break
					}
				}
			}
			if line == 0 {
				line = orig.Line
			}
			path = strings.TrimSuffix(prefix+"."+path, ".")
		}
		if path == "" {
			return fmt.Sprintf("%s:%d: %s", file, line, msg)
		}
		return fmt.Sprintf("%s:%d: %s: %s", file, line, path, msg)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "unmarshal errors:\n"); ok {
		var lines []string
		for _, l := range strings.Split(rest, "\n") {
			lines = append(lines, out(atLine(nodes, strings.TrimSpace(l))))
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	if lineMsg.MatchString(msg) {
		return errors.New(out(atLine(nodes, msg)))
	}
	if n, ok := quotedValue(nodes, msg); ok {
		return errors.New(out(n.node.Line, n.path, msg))
	}
	for phrase, path := range fieldOf {
		if strings.Contains(msg, phrase) {
			line := 1
			for _, n := range nodes {
				if n.path == path {
					line = n.node.Line
					break
				}
			}
			return errors.New(out(line, path, msg))
		}
	}
	return errors.New(out(1, "", msg))
}

var (
	lineMsg = regexp.MustCompile(`^line (\d+): (.*)$`)
	quoted  = regexp.MustCompile("\"((?:[^\"\\\\]|\\\\.)*)\"|`([^`]*)`")
	unknown = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	// fieldOf names the field of messages that quote no value.
	fieldOf = map[string]string{
		"no route":                            "route",
		"root route must specify a default":   "route.receiver",
		"cannot have continue in root route":  "route.continue",
		"root route must not have any match":  "route.matchers",
		"root route must not have any mute":   "route.mute_time_intervals",
		"root route must not have any active": "route.active_time_intervals",
		"missing name in receiver":            "receivers",
		"missing name in time interval":       "time_intervals",
	}
)

// quotedValue finds the scalar a message quotes: an exact value first
// (preferring one under a key the message names, and the last one for
// "not unique"), else the value containing the longest quoted text.
func quotedValue(nodes []located, msg string) (located, bool) {
	var needles []string
	for _, q := range quoted.FindAllStringSubmatch(msg, -1) {
		v := q[1] + q[2]
		if s, err := strconv.Unquote(q[0]); err == nil {
			v = s
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "^(?:"), ")$")
		needles = append(needles, v)
	}
	if len(needles) == 0 {
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			needles = append(needles, msg[i+2:])
		}
	}
	slices.SortStableFunc(needles, func(a, b string) int { return len(b) - len(a) })
	last := strings.Contains(msg, "not unique")
	best, score := located{}, -1
	for _, v := range needles {
		for _, n := range nodes {
			if n.key || n.node.Kind != yaml.ScalarNode || n.node.Value != v {
				continue
			}
			sc := 0
			if strings.Contains(msg, keyWords(n.path)) {
				sc = 2
			}
			if sc > score || (sc == score && last) {
				best, score = n, sc
			}
		}
		if score >= 0 {
			return best, true
		}
	}
	for _, v := range needles {
		if v == "" {
			continue
		}
		for _, n := range nodes {
			if !n.key && n.node.Kind == yaml.ScalarNode && strings.Contains(n.node.Value, v) {
				return n, true
			}
		}
	}
	return located{}, false
}

// keyWords is the last key of a path as words: "mute_time_intervals[0]" is
// "mute time intervals".
func keyWords(path string) string {
	k := path[strings.LastIndex(path, ".")+1:]
	if i := strings.IndexByte(k, '['); i >= 0 {
		k = k[:i]
	}
	return strings.ReplaceAll(k, "_", " ")
}

// atLine reads "line N: message" into the line, the field that sits on
// line N and the message.
func atLine(nodes []located, s string) (int, string, string) {
	m := lineMsg.FindStringSubmatch(s)
	if m == nil {
		return 1, "", s
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	want := ""
	if u := unknown.FindStringSubmatch(msg); u != nil {
		want, msg = u[1], "unknown field "+strconv.Quote(u[1])
	}
	path := ""
	for _, n := range nodes {
		if n.node.Line != line {
			continue
		}
		if want == "" || (n.key && n.node.Value == want) {
			path = n.path
			break
		}
	}
	return line, path, msg
}

// located is one YAML node with its dotted path, e.g. route.routes[1].receiver.
type located struct {
	node *yaml.Node
	path string
	key  bool
}

func flatten(root *yaml.Node) []located {
	var out []located
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				out = append(out, located{node: n.Content[i], path: p, key: true})
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.AliasNode:
		default:
			out = append(out, located{node: n, path: path})
		}
	}
	walk(root, "")
	return out
}

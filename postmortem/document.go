package postmortem

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/suggest"
	"github.com/oncallhq/oncall/yamlnode"
)

// Document is a postmortem file: its front matter, decoded, over the
// Markdown body exactly as the author wrote it.
type Document struct {
	FrontMatter
	// File is where the document was read from or is written to.
	File string `json:"file,omitempty"`
	// Body is everything after the front matter, byte for byte.
	Body []byte `json:"-"`
	// node is the front matter as parsed: writing the document back edits
	// it, so that keys oncall does not know and comments stay.
	node *yaml.Node
}

// Problem is one thing wrong in a postmortem file, by line and field.
type Problem struct {
	File  string
	Line  int
	Field string // dotted path, e.g. "actions[1].due"
	Msg   string
}

// Error renders "file:line: field: message".
func (p Problem) Error() string {
	loc := p.File
	if loc == "" {
		loc = "postmortem"
	}
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Field == "" {
		return loc + ": " + p.Msg
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg)
}

// New is a document of fm over body.
func New(fm FrontMatter, body []byte) Document {
	d := Document{FrontMatter: fm, Body: body}
	d.node = encodeFrontMatter(fm)
	return d
}

// encodeFrontMatter is fm as a YAML mapping, in field order, with UTC
// times and the services on one line.
func encodeFrontMatter(fm FrontMatter) *yaml.Node {
	for _, t := range []*time.Time{&fm.StatusSince, &fm.Started, &fm.Detected, &fm.Acknowledged, &fm.Mitigated, &fm.Resolved} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	var n yaml.Node
	if err := n.Encode(fm); err != nil {
		panic(fmt.Sprintf("postmortem: encoding the front matter: %v", err)) // every field's type encodes
	}
	if v := yamlnode.MapValue(&n, "services"); v != nil {
		v.Style = yaml.FlowStyle
	}
	return &n
}

// delimiter reads a front matter delimiter line (---, or ... to close).
func delimiter(line []byte, closing bool) bool {
	l := string(bytes.TrimRight(line, " \t\r"))
	return l == "---" || (closing && l == "...")
}

// closeFrontMatter splits what follows a front matter's opening line at
// the first closing line: the YAML before it, and the offset of what comes
// after it (-1 when no line closes the YAML).
func closeFrontMatter(rest []byte) (yml []byte, end int) {
	for off := 0; off <= len(rest); {
		l, _, more := bytes.Cut(rest[off:], []byte("\n"))
		if delimiter(l, true) {
			end = off + len(l)
			if more {
				end++
			}
			return rest[:off], end
		}
		if !more {
			break
		}
		off += len(l) + 1
	}
	return nil, -1
}

// Parse reads a postmortem file: YAML front matter between --- lines,
// then the Markdown body. Every problem of the front matter is reported,
// each naming file, line and field.
func Parse(file string, content []byte) (Document, error) {
	d := Document{File: file}
	rest := bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	first, rest, _ := bytes.Cut(rest, []byte("\n"))
	if !delimiter(first, false) {
		return d, Problem{File: file, Line: 1, Field: "front matter", Msg: "missing: a postmortem begins with a --- line and YAML (import one written with another template with `oncall postmortem import`)"}
	}
	fm, end := closeFrontMatter(rest)
	if end < 0 {
		return d, Problem{File: file, Line: 1, Field: "front matter", Msg: "not closed: no --- line after the YAML"}
	}
	d.Body = rest[end:]
	var root yaml.Node
	if err := yaml.Unmarshal(fm, &root); err != nil {
		return d, syntaxProblem(file, 2, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return d, Problem{File: file, Line: 2, Field: "front matter", Msg: "want a mapping of fields (id, title, status, …)"}
	}
	d.node = root.Content[0]
	// Aliases become copies: editing the status (or any field) in place
	// must not leave another field pointing at an anchor that is gone.
	if err := yamlnode.Expand(d.node); err != nil {
		return d, Problem{File: file, Line: 2, Field: "front matter", Msg: err.Error()}
	}
	dec := fieldDecoder{file: file, offset: 1}
	dec.frontMatter(d.node, &d.FrontMatter)
	if len(dec.problems) > 0 {
		errs := make([]error, len(dec.problems))
		for i, p := range dec.problems {
			errs[i] = p
		}
		return d, errors.Join(errs...)
	}
	return d, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem is a YAML syntax error at its line of the file.
func syntaxProblem(file string, first int, err error) Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: first + n - 1, Field: "front matter", Msg: "YAML syntax: " + m[2]}
	}
	return Problem{File: file, Line: first, Field: "front matter", Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// fieldDecoder decodes the front matter field by field, collecting every
// problem with its line (offset: the file's lines before the YAML).
type fieldDecoder struct {
	file     string
	offset   int
	problems []Problem
}

func (f *fieldDecoder) add(n *yaml.Node, field, format string, args ...any) {
	f.problems = append(f.problems, Problem{File: f.file, Line: n.Line + f.offset, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (f *fieldDecoder) frontMatter(m *yaml.Node, fm *FrontMatter) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		if first, dup := seen[key]; dup {
			f.add(k, key, "given twice (first at line %d)", first)
			continue
		}
		seen[key] = k.Line + f.offset
		switch key {
		case "id":
			fm.ID = f.str(v, key)
		case "incident":
			fm.Incident = f.incident(v, key)
		case "title":
			fm.Title = f.str(v, key)
		case "severity":
			if s := f.str(v, key); s != "" {
				sev, err := incidents.ParseSeverity(s)
				if err != nil {
					f.add(v, key, "%v", err)
				}
				fm.Severity = sev
			}
		case "status":
			s, err := ParseStatus(f.str(v, key))
			if err != nil && v.Kind == yaml.ScalarNode {
				f.add(v, key, "%v", err)
			}
			fm.Status = s
		case "status_since":
			fm.StatusSince = f.time(v, key)
		case "owner":
			fm.Owner = f.person(v, key)
		case "facilitator":
			fm.Facilitator = f.person(v, key)
		case "services":
			fm.Services = f.strs(v, key)
		case "drill":
			fm.Drill = f.boolean(v, key)
		case "declared_by":
			fm.DeclaredBy = f.person(v, key)
		case "started":
			fm.Started = f.time(v, key)
		case "detected":
			fm.Detected = f.time(v, key)
		case "acknowledged":
			fm.Acknowledged = f.time(v, key)
		case "mitigated":
			fm.Mitigated = f.time(v, key)
		case "resolved":
			fm.Resolved = f.time(v, key)
		case "due":
			fm.Due = f.date(v, key)
		case "actions":
			fm.Actions = f.actions(v, key)
		case "imported_from":
			fm.ImportedFrom = f.str(v, key)
		default:
			// Keys of other tools stay as they are; a near miss of one
			// of ours is a typo that would lose what it says.
			if near := nearest(key, fieldOrder); near != "" {
				f.add(k, key, "unknown field; did you mean %s?", near)
			}
		}
	}
	if _, ok := seen["id"]; !ok || strings.TrimSpace(fm.ID) == "" {
		f.add(at(m, "id"), "id", "missing: name the postmortem (INC-7)")
	}
	if _, ok := seen["title"]; !ok || strings.TrimSpace(fm.Title) == "" {
		f.add(at(m, "title"), "title", "missing: say what happened in a line")
	}
	if _, ok := seen["status"]; !ok {
		f.add(m, "status", "missing: want Draft, In review, Reviewed or Closed")
	}
}

// at is the node of key's value, else the mapping (for its line).
func at(m *yaml.Node, key string) *yaml.Node {
	if v := yamlnode.MapValue(m, key); v != nil {
		return v
	}
	return m
}

func (f *fieldDecoder) scalar(n *yaml.Node, field, want string) bool {
	if n.Kind == yaml.AliasNode {
		// The callers, and frontMatter's status check, read n itself.
		*n = *yamlnode.Resolve(n)
	}
	if n.Kind != yaml.ScalarNode {
		f.add(n, field, "want %s, got %s", want, yamlnode.Describe(n))
		return false
	}
	return true
}

func (f *fieldDecoder) str(n *yaml.Node, field string) string {
	if yamlnode.IsNull(n) || !f.scalar(n, field, "a string") {
		return ""
	}
	return n.Value
}

// person reads a user name, with or without its @.
func (f *fieldDecoder) person(n *yaml.Node, field string) string {
	return strings.TrimPrefix(strings.TrimSpace(f.str(n, field)), "@")
}

func (f *fieldDecoder) strs(n *yaml.Node, field string) []string {
	switch {
	case yamlnode.IsNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		// One service, or a comma-separated list.
		var out []string
		for _, s := range strings.Split(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case n.Kind != yaml.SequenceNode:
		f.add(n, field, "want a list of names, got %s", yamlnode.Describe(n))
		return nil
	}
	var out []string
	for i, item := range n.Content {
		if s := f.str(item, fmt.Sprintf("%s[%d]", field, i)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (f *fieldDecoder) boolean(n *yaml.Node, field string) bool {
	if yamlnode.IsNull(n) || !f.scalar(n, field, "true or false") {
		return false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		f.add(n, field, "%q: want true or false", n.Value)
	}
	return b
}

func (f *fieldDecoder) incident(n *yaml.Node, field string) int64 {
	if yamlnode.IsNull(n) || !f.scalar(n, field, "an incident number") {
		return 0
	}
	v := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(n.Value)), "INC-")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		f.add(n, field, "%q: want an incident number (7 or INC-7)", n.Value)
		return 0
	}
	return id
}

// timeLayouts are the times a front matter may hold: RFC 3339, and the
// shorter forms other templates write (read as UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly}

// ParseTime reads a front-matter time: RFC 3339, or 2006-01-02 15:04
// (UTC), or a date; "" is unset.
func ParseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339, like 2026-11-23T10:04:00Z", v)
}

func (f *fieldDecoder) time(n *yaml.Node, field string) time.Time {
	if yamlnode.IsNull(n) || !f.scalar(n, field, "a time") {
		return time.Time{}
	}
	t, err := ParseTime(n.Value)
	if err != nil {
		f.add(n, field, "%v", err)
	}
	return t
}

func (f *fieldDecoder) date(n *yaml.Node, field string) Date {
	if yamlnode.IsNull(n) || !f.scalar(n, field, "a date") || strings.TrimSpace(n.Value) == "" {
		return Date{}
	}
	d, err := ParseDate(n.Value)
	if err != nil {
		f.add(n, field, "%v", err)
	}
	return d
}

var actionFields = []string{"title", "owner", "due", "ticket", "status"}

func (f *fieldDecoder) actions(n *yaml.Node, field string) []Action {
	if yamlnode.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		f.add(n, field, "want a list of action items (title, owner, due, ticket, status), got %s", yamlnode.Describe(n))
		return nil
	}
	var out []Action
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", field, i)
		if item.Kind != yaml.MappingNode {
			f.add(item, p, "want an action item (title, owner, due, ticket, status), got %s", yamlnode.Describe(item))
			continue
		}
		var a Action
		seen := map[string]bool{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			kp := p + "." + k.Value
			if seen[k.Value] {
				f.add(k, kp, "given twice")
				continue
			}
			seen[k.Value] = true
			switch k.Value {
			case "title":
				a.Title = f.str(v, kp)
			case "owner":
				a.Owner = f.person(v, kp)
			case "due":
				a.Due = f.date(v, kp)
			case "ticket":
				a.Ticket = f.str(v, kp)
			case "status":
				s, err := ParseActionStatus(f.str(v, kp))
				if err != nil {
					f.add(v, kp, "%v", err)
				}
				a.Status = s
			default:
				msg := "unknown field; want title, owner, due, ticket or status"
				if near := nearest(k.Value, actionFields); near != "" {
					msg = "unknown field; did you mean " + near + "?"
				}
				f.add(k, kp, "%s", msg)
			}
		}
		if strings.TrimSpace(a.Title) == "" {
			f.add(item, p+".title", "missing: say what is to be done")
		}
		if a.Status == "" {
			a.Status = ActionOpen
		}
		out = append(out, a)
	}
	return out
}

// nearest is the known name an unknown key is a typo of, if any: the same
// but for case and separators, or (for a key of four letters or more) one
// or two edits away.
func nearest(key string, known []string) string {
	most := 0
	if len(key) > 3 {
		most = 2
	}
	return suggest.Closest(key, known, most)
}

// set replaces key's value in the front matter, or inserts it after the
// keys that come before it in field order.
func (d *Document) set(key string, v any) {
	if d.node == nil {
		d.node = encodeFrontMatter(d.FrontMatter)
		return
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic(fmt.Sprintf("postmortem: encoding %s: %v", key, err))
	}
	m := d.node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			// Keep the comments the author put on the old value.
			n.LineComment, n.HeadComment, n.FootComment = m.Content[i+1].LineComment, m.Content[i+1].HeadComment, m.Content[i+1].FootComment
			m.Content[i+1] = &n
			return
		}
	}
	pos := len(m.Content)
	rank := slices.Index(fieldOrder, key)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if r := slices.Index(fieldOrder, m.Content[i].Value); r > rank {
			pos = i
			break
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	m.Content = slices.Insert(m.Content, pos, k, &n)
}

// SetStatus moves the postmortem to status at at; the rest of the file
// stays as it is.
func (d *Document) SetStatus(s Status, at time.Time) {
	if d.Status == s && d.node != nil && yamlnode.MapValue(d.node, "status") != nil {
		return
	}
	d.Status, d.StatusSince = s, at.UTC()
	d.set("status", s)
	d.set("status_since", d.StatusSince)
}

// SetActions replaces the action items; the rest of the file stays as it
// is.
func (d *Document) SetActions(as []Action) {
	d.Actions = as
	d.set("actions", as)
}

// Bytes is the file: the front matter, then the body as it was.
func (d Document) Bytes() ([]byte, error) {
	node := d.node
	if node == nil {
		node = encodeFrontMatter(d.FrontMatter)
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("%s: writing the front matter: %w", d.File, err)
	}
	enc.Close()
	b.WriteString("---\n")
	b.Write(d.Body)
	return b.Bytes(), nil
}

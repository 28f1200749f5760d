package lint

import (
	"maps"
	"slices"
	"strings"
	"text/template/parse"
)

// templateDefs are the variables Prometheus defines before a rule's label
// or annotation template.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// tmplUses is what a label or annotation template reads.
type tmplUses struct {
	// perEval names what changes at every evaluation: "$value",
	// ".Value", "query".
	perEval []string
	// labels are the names read from $labels.
	labels []string
}

// templateUses parses a template as Prometheus does and reports what it
// reads. A template that does not parse (rulefmt has refused it already)
// reads nothing.
func templateUses(text string) tmplUses {
	var u tmplUses
	if !strings.Contains(text, "{{") {
		return u
	}
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(templateDefs+text, "", "", trees); err != nil {
		return u
	}
	w := &tmplWalker{defsEnd: parse.Pos(len(templateDefs)), uses: &u}
	for _, name := range slices.Sorted(maps.Keys(trees)) {
		if tr := trees[name]; tr != nil && tr.Root != nil {
			w.walk(tr.Root, true)
		}
	}
	return u
}

type tmplWalker struct {
	defsEnd parse.Pos
	uses    *tmplUses
}

func (w *tmplWalker) perEval(what string) {
	if !slices.Contains(w.uses.perEval, what) {
		w.uses.perEval = append(w.uses.perEval, what)
	}
}

func (w *tmplWalker) label(name string) {
	if !slices.Contains(w.uses.labels, name) {
		w.uses.labels = append(w.uses.labels, name)
	}
}

// walk visits n; topDot says whether dot is still the template's data
// (outside range and with).
func (w *tmplWalker) walk(n parse.Node, topDot bool) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.walk(c, topDot)
		}
	case *parse.ActionNode:
		if n.Position() < w.defsEnd {
			return // Prometheus's own definitions
		}
		w.walk(n.Pipe, topDot)
	case *parse.IfNode:
		w.walk(n.Pipe, topDot)
		w.walk(n.List, topDot)
		w.walk(n.ElseList, topDot)
	case *parse.RangeNode:
		w.walk(n.Pipe, topDot)
		w.walk(n.List, false)
		w.walk(n.ElseList, topDot)
	case *parse.WithNode:
		w.walk(n.Pipe, topDot)
		w.walk(n.List, false)
		w.walk(n.ElseList, topDot)
	case *parse.TemplateNode:
		w.walk(n.Pipe, topDot)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			w.walk(c, topDot)
		}
	case *parse.CommandNode:
		// index $labels "name"
		if len(n.Args) == 3 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" {
				if v, ok := n.Args[1].(*parse.VariableNode); ok && len(v.Ident) == 1 && v.Ident[0] == "$labels" {
					if s, ok := n.Args[2].(*parse.StringNode); ok {
						w.label(s.Text)
					}
				}
			}
		}
		for _, c := range n.Args {
			w.walk(c, topDot)
		}
	case *parse.IdentifierNode:
		if n.Ident == "query" {
			w.perEval("query")
		}
	case *parse.VariableNode:
		switch {
		case n.Ident[0] == "$value":
			w.perEval("$value")
		case n.Ident[0] == "$labels" && len(n.Ident) > 1:
			w.label(n.Ident[1])
		}
	case *parse.FieldNode:
		if !topDot {
			return
		}
		switch {
		case n.Ident[0] == "Value":
			w.perEval(".Value")
		case n.Ident[0] == "Labels" && len(n.Ident) > 1:
			w.label(n.Ident[1])
		}
	case *parse.ChainNode:
		w.walk(n.Node, topDot)
	}
}

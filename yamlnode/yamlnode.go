// Package yamlnode holds what the decoders of oncall's YAML files (the
// configuration, checklists, postmortem front matter, Sloth specs) ask of a
// yaml.v3 node to report a problem by line and field: what it is in words,
// whether it is null, what an alias stands for, the dotted field path.
package yamlnode

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Describe is n in words for "want …, got %s": "a mapping", "a list", or
// its value quoted.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// IsNull reports whether n is a null scalar (null, ~ or nothing).
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Resolve is the node an alias stands for, else n itself.
func Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// maxExpanded bounds the nodes Expand writes: aliases of aliases grow a
// tree exponentially (the billion laughs), and front matter is small.
const maxExpanded = 10_000

// Expand replaces every alias under n with a copy of the node it stands
// for and drops every anchor, so that a tree edited in place and written
// back never leaves an alias pointing at a value that was replaced. The
// copies keep their lines, for errors.
func Expand(n *yaml.Node) error {
	budget := maxExpanded
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if budget--; budget < 0 {
			return fmt.Errorf("line %d: aliases expand to more than %d nodes", n.Line, maxExpanded)
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			line, col := n.Line, n.Column
			*n = *deepCopy(Resolve(n))
			n.Line, n.Column = line, col
		}
		n.Anchor = ""
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(n)
}

// deepCopy copies n and everything under it; aliases inside stay aliases
// (Expand reaches them next).
func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = deepCopy(ch)
	}
	return &c
}

// MapValue is the value of key in the mapping n (nil if n is no mapping
// or has no such key).
func MapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Join is the dotted path of field key under path ("" is the top).
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

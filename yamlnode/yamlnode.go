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

// Join is the dotted path of field key under path ("" is the top).
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

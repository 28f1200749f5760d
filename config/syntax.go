package config

import (
	"errors"
	"fmt"

	yaml4 "go.yaml.in/yaml/v4"
)

// syntaxError reports a YAML syntax error at the line and column where
// the parser found it. yaml.v3, which decodes the file, names the line
// where the enclosing construct began instead (an unclosed "[" is
// reported on the line it opened, not where the list went wrong).
func syntaxError(file string, content []byte) error {
	var n yaml4.Node
	err := yaml4.Unmarshal(content, &n)
	var le *yaml4.LoadError
	if err == nil || !errors.As(err, &le) {
		return nil
	}
	loc := file
	if le.Mark.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", file, le.Mark.Line, le.Mark.Column)
	}
	msg := le.Message
	if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark.Line != le.Mark.Line {
		msg += fmt.Sprintf(" (%s at line %d)", le.ContextMsg, le.ContextMark.Line)
	}
	return fmt.Errorf("%s: syntax: %s", loc, msg)
}

package checklist

import (
	"embed"
	"path"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinFiles are the built-in checklists, in the order they are listed.
var builtinFiles = []string{"builtin/prod.yaml"}

// Builtin returns the checklists oncall ships: prod, Heroku's ten checks.
func Builtin() []Checklist {
	out := make([]Checklist, 0, len(builtinFiles))
	for _, f := range builtinFiles {
		b, err := builtinFS.ReadFile(f)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		cl, err := Parse(path.Join("builtin", path.Base(f)), b)
		if err != nil {
			panic(err) // the tests parse every built-in file
		}
		out = append(out, cl)
	}
	return out
}

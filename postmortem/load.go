package postmortem

import (
	"io/fs"
	"path"
	"strings"
)

// skipped are files a postmortem directory holds that are not
// postmortems: its README and the like, and names starting with _ or .
func skipped(name string) bool {
	base := strings.ToLower(path.Base(name))
	switch strings.TrimSuffix(base, path.Ext(base)) {
	case "readme", "changelog", "contributing", "license", "index", "template":
		return true
	}
	return strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".")
}

// Load reads every postmortem (*.md) under dir of fsys, and returns a
// problem for each file it cannot read, naming file, line and field: one
// bad file never keeps the others out. Each document's File is its path
// under fsys.
func Load(fsys fs.FS, dir string) ([]Document, []error) {
	var docs []Document
	var bad []error
	err := fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			bad = append(bad, Problem{File: p, Msg: err.Error()})
			if e != nil && e.IsDir() {
				return fs.SkipDir
			}
			return nil
		case e.IsDir():
			if p != dir && skipped(p) {
				return fs.SkipDir
			}
			return nil
		case !strings.EqualFold(path.Ext(p), ".md") || skipped(p):
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			bad = append(bad, Problem{File: p, Msg: err.Error()})
			return nil
		}
		d, err := Parse(p, b)
		if err != nil {
			bad = append(bad, err)
			return nil
		}
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		bad = append(bad, Problem{File: dir, Msg: err.Error()})
	}
	return docs, bad
}

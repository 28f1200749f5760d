package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/oncallhq/oncall/suggest"
	"github.com/oncallhq/oncall/yamlnode"
)

// decoder fills a value from a YAML node tree the way yaml.v3 would, but
// keeps going after a problem and names each one by line and dotted field
// path: unknown keys (with the nearest known one), duplicate keys, values
// of the wrong type, durations without a unit.
type decoder struct {
	file     string
	problems []Problem
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	timeType      = reflect.TypeFor[time.Time]()
	nodeType      = reflect.TypeFor[yaml.Node]()
	unmarshalerT  = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshal = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// decode fills v (settable) from n; path is v's dotted field path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	n = yamlnode.Resolve(n)
	t := v.Type()
	switch {
	case t == nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	case yamlnode.IsNull(n):
		// As yaml.v3: null empties a pointer, list or map and leaves
		// anything else (a default) as it was.
		switch t.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return
	case t == durationType:
		d.duration(n, v, path)
		return
	case t == timeType, reflect.PointerTo(t).Implements(unmarshalerT), reflect.PointerTo(t).Implements(textUnmarshal):
		d.scalar(n, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n, path, "want a list, got %s", yamlnode.Describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.add(n, path, "want a mapping, got %s", yamlnode.Describe(n))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		d.pairs(n, path, func(key, val *yaml.Node) {
			k := reflect.New(t.Key()).Elem()
			d.decode(key, k, path)
			e := reflect.New(t.Elem()).Elem()
			d.decode(val, e, yamlnode.Join(path, key.Value))
			m.SetMapIndex(k, e)
		})
		v.Set(m)
	default:
		d.scalar(n, v, path)
	}
}

// pairs calls f for each key and value of a mapping, reporting keys that
// appear twice (yaml.v3 would keep the last silently in a node tree).
func (d *decoder) pairs(n *yaml.Node, path string, f func(key, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if first, dup := seen[key.Value]; dup {
			d.add(key, yamlnode.Join(path, key.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[key.Value] = key.Line
		f(key, val)
	}
}

// structure decodes a mapping into a struct by its yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "want a mapping, got %s", yamlnode.Describe(n))
		return
	}
	fields := yamlFields(v.Type())
	d.pairs(n, path, func(key, val *yaml.Node) {
		i, ok := fields[key.Value]
		if !ok {
			msg := "unknown field"
			if s := nearest(key.Value, fields); s != "" {
				msg += "; did you mean " + yamlnode.Join(path, s) + "?"
			}
			if _, step := fields["delay"]; step && key.Value == "ack_timeout" {
				msg += " (a step's wait is now delay; ack_timeout is the policy's: how long an acknowledgement holds)"
			}
			if path == "alerts" && key.Value == "routes" {
				msg += " (routing is now Alertmanager's route tree: alerts.alertmanager_config or alerts.routing)"
			}
			d.add(key, yamlnode.Join(path, key.Value), "%s", msg)
			return
		}
		d.decode(val, v.Field(i), yamlnode.Join(path, key.Value))
	})
}

// yamlFields maps a struct's YAML keys to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out[name] = i
	}
	return out
}

// duration reads 30s, 5m, 1h30m; a bare number is refused, since yaml.v3
// would read it as nanoseconds.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.add(n, path, "want a duration like 30s, 5m or 1h30m, got %s", yamlnode.Describe(n))
		return
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		d.add(n, path, "%q has no unit: write it as a duration like %ss or %sm", n.Value, n.Value, n.Value)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		// Days and weeks, as Prometheus writes them: 7d, 2w, 1d12h.
		md, merr := model.ParseDuration(n.Value)
		if merr != nil {
			d.add(n, path, "%q is not a duration like 30s, 5m, 1h30m or 7d", n.Value)
			return
		}
		dur = time.Duration(md)
	}
	v.SetInt(int64(dur))
}

// scalar decodes a leaf with yaml.v3 itself, rewording its error.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.add(n, path, "%s", reword(err, n, v.Type()))
		return
	}
	v.Set(p.Elem())
}

// reword says what was wanted in the terms of the file, not of Go.
func reword(err error, n *yaml.Node, t reflect.Type) string {
	if n.Kind != yaml.ScalarNode {
		return fmt.Sprintf("want %s, got %s", want(t), yamlnode.Describe(n))
	}
	te, ok := err.(*yaml.TypeError)
	if ok && len(te.Errors) > 0 && !strings.Contains(te.Errors[0], "cannot unmarshal") {
		_, msg, _ := strings.Cut(te.Errors[0], ": ")
		return msg
	}
	if !ok && reflect.PointerTo(t).Implements(textUnmarshal) {
		return err.Error() // the type's own words: what it wants
	}
	return fmt.Sprintf("%q is not %s", n.Value, want(t))
}

func want(t reflect.Type) string {
	switch {
	case t == timeType:
		return "a time (RFC 3339, like 2026-11-23T09:00:00Z)"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.String:
		return "a string"
	}
	return "a " + strings.ToLower(t.Name())
}

// nearest is the known key closest to an unknown one, if it is close
// enough to be a typo.
func nearest(key string, known map[string]int) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	return suggest.Closest(key, names, len(key)/3+1)
}

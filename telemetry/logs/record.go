package logs

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// view is what a filter reads of a line: named fields, the level and the
// free text. Both a parsed Entry and a record (a line scanned in place)
// provide it, so filtering never has to build an Entry for lines it drops.
type view interface {
	get(key string) (string, bool)
	level() Level
	anyText(f func(string) bool) bool
}

func (e *Entry) level() Level { return e.Level }

func (e *Entry) get(key string) (string, bool) { return field(e, key) }

func (e *Entry) anyText(f func(string) bool) bool { return anyText(e, f) }

// record is a flat JSON object scanned in place: keys and values point into
// the line (or into scratch, for values with escapes). It is reused from
// line to line and valid only until the next scan.
type record struct {
	keys, vals []string
	scratch    []byte
}

// scanJSON scans a flat JSON object. It reports false for anything else,
// including nested objects and arrays (which the slow path handles).
func (r *record) scanJSON(line []byte) bool {
	r.keys, r.vals, r.scratch = r.keys[:0], r.vals[:0], r.scratch[:0]
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return end(line, i)
	}
	for i < len(line) {
		if line[i] != '"' {
			return false
		}
		key, j, ok := r.str(line, i)
		if !ok {
			return false
		}
		i = skipWS(line, j)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipWS(line, i+1)
		if i >= len(line) {
			return false
		}
		var val string
		switch c := line[i]; {
		case c == '"':
			val, j, ok = r.str(line, i)
			if !ok {
				return false
			}
		case c == '{' || c == '[':
			return false
		default:
			j = i
			for j < len(line) && line[j] != ',' && line[j] != '}' && line[j] != ' ' {
				j++
			}
			val = bstr(line[i:j])
			if val == "null" {
				val = ""
			}
		}
		r.set(key, val)
		i = skipWS(line, j)
		if i >= len(line) {
			return false
		}
		if line[i] == '}' {
			return end(line, i)
		}
		if line[i] != ',' {
			return false
		}
		i = skipWS(line, i+1)
	}
	return false
}

// end says whether the object closing at line[i] ends the line, as
// encoding/json wants it: anything but white space after it makes the
// line another format (logfmt, text).
func end(line []byte, i int) bool { return skipWS(line, i+1) == len(line) }

// set records a key's value; a repeated key keeps its last value, as
// encoding/json does.
func (r *record) set(key, val string) {
	for i, k := range r.keys {
		if k == key {
			r.vals[i] = val
			return
		}
	}
	r.keys, r.vals = append(r.keys, key), append(r.vals, val)
}

// str reads the JSON string starting at line[i] == '"'.
func (r *record) str(line []byte, i int) (string, int, bool) {
	j := i + 1
	esc := false
	for j < len(line) && line[j] != '"' {
		if line[j] == '\\' {
			esc = true
			j++
		}
		j++
	}
	if j >= len(line) {
		return "", 0, false
	}
	if !esc {
		return bstr(line[i+1 : j]), j + 1, true
	}
	s, err := strconv.Unquote(string(line[i : j+1]))
	if err != nil {
		return "", 0, false
	}
	return s, j + 1, true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// bstr views bytes as a string without copying; the record is only used
// while the line it points into is unchanged.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (r *record) lookup(keys ...string) (string, bool) {
	for _, k := range keys {
		for i, rk := range r.keys {
			if rk == k {
				return r.vals[i], true
			}
		}
	}
	return "", false
}

func (r *record) get(key string) (string, bool) {
	if v, ok := r.lookup(key); ok {
		return v, true
	}
	switch key {
	case "msg", "message":
		return r.lookup(messageKeys...)
	case "service", "svc", "app":
		return r.lookup(serviceKeys...)
	case "trace", "trace_id", "request_id", "txn", "transaction_id":
		return r.lookup(traceKeys...)
	}
	return r.lookup(key)
}

func (r *record) level() Level {
	v, _ := r.lookup(levelKeys...)
	return ParseLevel(v)
}

func (r *record) anyText(f func(string) bool) bool {
	for i, v := range r.vals {
		if isTimeKey(r.keys[i]) || isLevelKey(r.keys[i]) {
			continue
		}
		if f(v) {
			return true
		}
	}
	return false
}

func isTimeKey(k string) bool  { return contains(timeKeys, k) }
func isLevelKey(k string) bool { return contains(levelKeys, k) }

func contains(list []string, k string) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// valid reports whether every value is valid UTF-8 (the slow path repairs
// lines that are not).
func (r *record) valid() bool {
	for _, v := range r.vals {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// bstrS views a string as bytes without copying; the bytes must not be
// modified.
func bstrS(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

package logs

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Filter selects log entries. One syntax serves the CLI (--filter), the TUI
// (/) and log rules: space-separated terms that must all match.
//
//	payment declined        substring (smart case: case-insensitive when all lower-case)
//	"payment declined"      a quoted phrase
//	/time(d)? ?out/         a regular expression
//	level>=warn             the level, ordered trace < debug < info < warn < error < fatal
//	service=api service!=api   field equality (any field; the aliases msg, service, trace
//	                        read the well-known fields when the line has no field of that name)
//	status>=500 duration>1s numeric and duration comparisons (duration_ms fields read as milliseconds)
//	user_id=~^u00           field regular expression (=~ and !~)
//	-healthcheck            a leading minus negates any term
type Filter struct {
	terms []term
	// text is true when every term is a plain substring, so MatchRaw decides
	// on the raw line alone.
	text bool
}

type term struct {
	neg   bool
	match func(v view) bool
	// raw, when set, decides the term on the raw line; index finds the
	// term's first occurrence in a block of lines.
	raw   func(line []byte) bool
	index func(block []byte) int
}

// ParseFilter parses a filter expression. Errors name the column (1-based)
// of the offending term.
func ParseFilter(s string) (Filter, error) {
	f := Filter{text: true}
	toks, err := tokenize(s)
	if err != nil {
		return Filter{}, err
	}
	for _, tk := range toks {
		t, err := parseTerm(tk)
		if err != nil {
			return Filter{}, fmt.Errorf("filter: column %d: %w", tk.col, err)
		}
		if t.raw == nil {
			f.text = false
		}
		f.terms = append(f.terms, t)
	}
	return f, nil
}

// Empty reports whether the filter matches everything.
func (f Filter) Empty() bool { return len(f.terms) == 0 }

// Match reports whether the entry passes every term.
func (f Filter) Match(e *Entry) bool { return f.matchView(e) }

func (f Filter) matchView(v view) bool {
	for _, t := range f.terms {
		if t.match(v) == t.neg {
			return false
		}
	}
	return true
}

// MatchRaw decides on the raw line when the filter is made of substring
// terms only (decided is then true), skipping the parse entirely.
func (f Filter) MatchRaw(line []byte) (match, decided bool) {
	if !f.text {
		return false, false
	}
	for _, t := range f.terms {
		if t.raw(line) == t.neg {
			return false, true
		}
	}
	return true, true
}

type token struct {
	text   string
	quoted bool
	col    int
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		start := i
		neg := ""
		if s[i] == '-' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '/') {
			neg, i = "-", i+1
		}
		switch s[i] {
		case '"':
			j := i + 1
			for j < len(s) && (s[j] != '"' || s[j-1] == '\\') {
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("filter: column %d: unterminated quote", start+1)
			}
			uq, err := strconv.Unquote(s[i : j+1])
			if err != nil {
				uq = s[i+1 : j]
			}
			out = append(out, token{text: neg + uq, quoted: true, col: start + 1})
			i = j + 1
		case '/':
			j := i + 1
			for j < len(s) && (s[j] != '/' || s[j-1] == '\\') {
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("filter: column %d: unterminated /regex/", start+1)
			}
			out = append(out, token{text: neg + s[i:j+1], col: start + 1})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			out = append(out, token{text: s[i:j], col: start + 1})
			i = j
		}
	}
	return out, nil
}

var ops = []string{">=", "<=", "!=", "=~", "!~", "=", ">", "<"}

func parseTerm(tk token) (term, error) {
	s := tk.text
	var t term
	if strings.HasPrefix(s, "-") && len(s) > 1 {
		t.neg, s = true, s[1:]
	}
	if tk.quoted {
		return textTerm(t, s), nil
	}
	if len(s) >= 2 && s[0] == '/' && s[len(s)-1] == '/' {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return t, fmt.Errorf("bad regular expression %q: %w", s, err)
		}
		t.match = func(v view) bool { return v.anyText(re.MatchString) }
		return t, nil
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r == '=' || r == '>' || r == '<' || r == '!' }); i > 0 && isKey(s[:i]) {
		rest := s[i:]
		for _, op := range ops {
			if strings.HasPrefix(rest, op) {
				val := rest[len(op):]
				if op != "=~" && op != "!~" && val != "" && strings.ContainsRune("=<>!~", rune(val[0])) {
					break
				}
				return fieldTerm(t, s[:i], op, val)
			}
		}
		return t, fmt.Errorf("unknown operator in %q (want = != > >= < <= =~ !~)", s)
	}
	return textTerm(t, s), nil
}

func isKey(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' || r == '@') {
			return false
		}
	}
	return true
}

// textTerm matches a substring, case-insensitively when it has no upper case.
func textTerm(t term, s string) term {
	if s != strings.ToLower(s) {
		needle := []byte(s)
		t.raw = func(line []byte) bool { return bytes.Contains(line, needle) }
		t.index = func(b []byte) int { return bytes.Index(b, needle) }
		t.match = func(v view) bool { return v.anyText(func(x string) bool { return strings.Contains(x, s) }) }
		return t
	}
	needle := []byte(s)
	t.raw = func(line []byte) bool { return indexFold(line, needle) >= 0 }
	t.index = func(b []byte) int { return indexFold(b, needle) }
	t.match = func(v view) bool { return v.anyText(func(x string) bool { return indexFold(bstrS(x), needle) >= 0 }) }
	return t
}

// indexFold returns the index of the lower-case ASCII needle in b,
// ignoring ASCII case. It scans, with the vectorised bytes.IndexByte, for the
// needle's rarest byte (in either case) and verifies around each hit, so a
// common first letter does not slow it down.
func indexFold(b, needle []byte) int {
	if len(needle) == 0 {
		return 0
	}
	k := rarest(needle)
	lo := needle[k]
	hi := lo
	if 'a' <= lo && lo <= 'z' {
		hi = lo - 'a' + 'A'
	}
	for i := k; i+len(needle)-k <= len(b); {
		// The nearer of the two cases: the upper-case scan is bounded by
		// the lower-case hit, so repeated calls stay linear.
		j := bytes.IndexByte(b[i:], lo)
		if hi != lo {
			limit := len(b)
			if j >= 0 {
				limit = i + j
			}
			if u := bytes.IndexByte(b[i:limit], hi); u >= 0 {
				j = u
			}
		}
		if j < 0 {
			return -1
		}
		j += i
		if j+len(needle)-k > len(b) {
			return -1
		}
		if equalFold(b[j-k:], needle) {
			return j - k
		}
		i = j + 1
	}
	return -1
}

// byteRank orders bytes from most to least frequent in typical log text;
// bytes not listed are rarer still.
const byteRank = ` e"tairnosldc:,u0123456789phm_/-.fgwybvk{}=xjqz`

// rarest returns the index of the needle byte least likely to occur.
func rarest(needle []byte) int {
	best, bestRank := 0, -1
	for i, c := range needle {
		r := strings.IndexByte(byteRank, c)
		if r < 0 {
			r = len(byteRank)
		}
		if r > bestRank {
			best, bestRank = i, r
		}
	}
	return best
}

func equalFold(b, lowerNeedle []byte) bool {
	if len(b) < len(lowerNeedle) {
		return false
	}
	for k, n := range lowerNeedle {
		x := b[k]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != n {
			return false
		}
	}
	return true
}

// anyText applies f to the entry's message, service, trace id and field values.
func anyText(e *Entry, f func(string) bool) bool {
	if f(e.Message) || f(e.Service) || f(e.TraceID) {
		return true
	}
	for _, v := range e.Fields {
		if f(v) {
			return true
		}
	}
	return false
}

// field returns the value of a field by name, including the lifted ones.
// A field the line really has wins over an alias: `trace=` reads a field
// named trace before the trace id.
func field(e *Entry, key string) (string, bool) {
	if v, ok := e.Fields[key]; ok {
		return v, true
	}
	switch key {
	case "msg", "message":
		return e.Message, true
	case "service", "svc", "app":
		return e.Service, e.Service != ""
	case "trace", "trace_id", "request_id", "txn", "transaction_id":
		return e.TraceID, e.TraceID != ""
	case "source", "file":
		return e.Source, e.Source != ""
	}
	v, ok := e.Fields[key]
	return v, ok
}

func fieldTerm(t term, key, op, val string) (term, error) {
	if key == "level" {
		want := ParseLevel(val)
		if want == LevelUnknown {
			return t, fmt.Errorf("unknown level %q (want trace, debug, info, warn, error or fatal)", val)
		}
		cmp, err := comparer(op)
		if err != nil {
			return t, err
		}
		t.match = func(v view) bool { return cmp(int(v.level()) - int(want)) }
		return t, nil
	}
	switch op {
	case "=~", "!~":
		re, err := regexp.Compile(val)
		if err != nil {
			return t, fmt.Errorf("bad regular expression %q: %w", val, err)
		}
		want := op == "=~"
		t.match = func(v view) bool { x, ok := v.get(key); return ok && re.MatchString(x) == want }
		return t, nil
	case "=":
		t.match = func(v view) bool { x, ok := v.get(key); return ok && x == val }
		return t, nil
	case "!=":
		t.match = func(v view) bool { x, _ := v.get(key); return x != val }
		return t, nil
	}
	cmp, _ := comparer(op)
	if d, err := time.ParseDuration(val); err == nil && strings.IndexFunc(val, unicode.IsLetter) >= 0 {
		keys := []string{key, key + "_ms", key + "_us", key + "_seconds"}
		t.match = func(vw view) bool {
			// duration>1s also reads duration_ms, duration_us, duration_seconds.
			for _, k := range keys {
				if v, ok := vw.get(k); ok {
					got, ok := asDuration(k, v)
					return ok && cmp(sign(float64(got-d)))
				}
			}
			return false
		}
		return t, nil
	}
	n, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return t, fmt.Errorf("%s%s%s: %q is neither a number nor a duration", key, op, val, val)
	}
	t.match = func(vw view) bool {
		v, ok := vw.get(key)
		if !ok {
			return false
		}
		got, err := strconv.ParseFloat(v, 64)
		return err == nil && cmp(sign(got-n))
	}
	return t, nil
}

// asDuration reads a field as a duration: "1.2s", or a number in the unit
// its name says (duration_ms, latency_us, took_seconds…), seconds otherwise.
func asDuration(key, v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	unit := time.Second
	switch {
	case strings.HasSuffix(key, "_ms") || strings.HasSuffix(key, "Ms"):
		unit = time.Millisecond
	case strings.HasSuffix(key, "_us"):
		unit = time.Microsecond
	case strings.HasSuffix(key, "_ns"):
		unit = time.Nanosecond
	}
	return time.Duration(f * float64(unit)), true
}

func sign(x float64) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func comparer(op string) (func(int) bool, error) {
	switch op {
	case "=":
		return func(c int) bool { return c == 0 }, nil
	case "!=":
		return func(c int) bool { return c != 0 }, nil
	case ">":
		return func(c int) bool { return c > 0 }, nil
	case ">=":
		return func(c int) bool { return c >= 0 }, nil
	case "<":
		return func(c int) bool { return c < 0 }, nil
	case "<=":
		return func(c int) bool { return c <= 0 }, nil
	}
	return nil, fmt.Errorf("operator %q does not apply to levels", op)
}

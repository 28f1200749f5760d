package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/oncallhq/oncall/alerts"
)

// postableAlert is one alert of a POST /api/v2/alerts body, as posted:
// label pairs in the order read, a repeated name keeping its last value.
type postableAlert struct {
	Labels       []labels.Label
	HasLabels    bool // "labels" was present and not null
	Annotations  []labels.Label
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// schemaErr is a body that is JSON but not the API's schema.
type schemaErr struct{ msg string }

func (e *schemaErr) Error() string { return e.msg }

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", time.DateOnly}

// parseDateTime reads the date-time forms Alertmanager's API accepts; the
// empty string is no time.
func parseDateTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("parsing time %q: not an RFC 3339 date-time", s)
}

// decodeAlerts reads a POST /api/v2/alerts body: a JSON array of alerts,
// each with labels. It is a hand-written parser for this one shape (the
// ingest path's hottest code); FuzzDecodeAlerts holds it to encoding/json's
// verdicts. A body that is not JSON, or not one array, is an error and
// nothing of it applies; so is an alert without labels or with a
// generatorURL that is not a URI (a *schemaErr).
func decodeAlerts(r io.Reader) ([]postableAlert, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: body}
	out, err := d.alerts()
	if err != nil {
		return nil, err
	}
	for i := range out {
		if !out[i].HasLabels {
			return nil, &schemaErr{fmt.Sprintf("%d.labels in body is required", i)}
		}
		if u := out[i].GeneratorURL; u != "" {
			if _, err := url.Parse(u); err != nil {
				return nil, &schemaErr{fmt.Sprintf("%d.generatorURL in body must be of type uri: %q", i, u)}
			}
		}
	}
	return out, nil
}

// decoder parses JSON from b.
type decoder struct {
	b   []byte
	i   int
	buf []byte
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (d *decoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		if d.i >= len(d.b) {
			return d.errorf("unexpected end of JSON input")
		}
		return d.errorf("invalid character %q, want %q", d.b[d.i], c)
	}
	d.i++
	return nil
}

func (d *decoder) literal(word string) bool {
	if strings.HasPrefix(string(d.b[d.i:min(len(d.b), d.i+len(word))]), word) {
		d.i += len(word)
		return true
	}
	return false
}

func (d *decoder) alerts() ([]postableAlert, error) {
	if d.peek() == 'n' && d.literal("null") {
		return nil, d.end()
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	var out []postableAlert
	if d.peek() == ']' {
		d.i++
		return []postableAlert{}, d.end()
	}
	for {
		var a postableAlert
		if err := d.alert(&a); err != nil {
			return nil, fmt.Errorf("alert %d: %w", len(out), err)
		}
		out = append(out, a)
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return out, d.end()
		default:
			return nil, d.errorf("invalid character after alert %d", len(out)-1)
		}
	}
}

func (d *decoder) end() error {
	if d.ws(); d.i < len(d.b) {
		return d.errorf("invalid character %q after the array", d.b[d.i])
	}
	return nil
}

// alert reads one alert object; null is an alert with nothing set.
func (d *decoder) alert(a *postableAlert) error {
	if d.peek() == 'n' && d.literal("null") {
		return nil
	}
	return d.object(func(key string) error {
		var err error
		// encoding/json matches field names case-insensitively.
		switch {
		case strings.EqualFold(key, "labels"):
			key = "labels"
		case strings.EqualFold(key, "annotations"):
			key = "annotations"
		case strings.EqualFold(key, "startsAt"):
			key = "startsAt"
		case strings.EqualFold(key, "endsAt"):
			key = "endsAt"
		case strings.EqualFold(key, "generatorURL"):
			key = "generatorURL"
		}
		switch key {
		case "labels":
			a.Labels, a.HasLabels, err = d.stringMap(a.Labels, a.HasLabels)
		case "annotations":
			a.Annotations, _, err = d.stringMap(a.Annotations, false)
		case "startsAt", "endsAt":
			var s string
			if s, _, err = d.nullableString(); err == nil {
				t, perr := parseDateTime(s) // null is no time
				if perr != nil {
					return perr
				}
				if key == "startsAt" {
					a.StartsAt = t
				} else {
					a.EndsAt = t
				}
			}
		case "generatorURL":
			var s string
			var null bool
			if s, null, err = d.nullableString(); err == nil && !null {
				a.GeneratorURL = s
			}
		default:
			err = d.skip(0)
		}
		return err
	})
}

// object reads {"key": value, ...}, calling member for each key with the
// decoder at its value.
func (d *decoder) object(member func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.errorf("invalid character, want an object key")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		d.ws()
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("invalid character in object")
		}
	}
}

// stringMap reads an object of strings into pairs, merging into those read
// before (a repeated key, or a repeated "labels", keeps the last value), as
// encoding/json fills a map; null empties it, as encoding/json sets a map
// to nil.
func (d *decoder) stringMap(into []labels.Label, had bool) ([]labels.Label, bool, error) {
	if d.peek() == 'n' && d.literal("null") {
		return nil, false, nil
	}
	if into == nil {
		into = []labels.Label{}
	}
	// A few labels are searched; many get an index, so a body of a million
	// labels costs linear time.
	var idx map[string]int
	err := d.object(func(key string) error {
		v, null, err := d.nullableString()
		if err != nil {
			return err
		}
		if null {
			v = ""
		}
		if idx == nil && len(into) > 16 {
			idx = make(map[string]int, len(into))
			for i, l := range into {
				idx[l.Name] = i
			}
		}
		i := -1
		if idx != nil {
			if j, ok := idx[key]; ok {
				i = j
			}
		} else {
			i = slices.IndexFunc(into, func(l labels.Label) bool { return l.Name == key })
		}
		if i >= 0 {
			into[i].Value = v
			return nil
		}
		if idx != nil {
			idx[key] = len(into)
		}
		into = append(into, labels.Label{Name: key, Value: v})
		return nil
	})
	return into, true, err
}

func (d *decoder) nullableString() (string, bool, error) {
	switch d.peek() {
	case 'n':
		if d.literal("null") {
			return "", true, nil
		}
	case '"':
		s, err := d.str()
		return s, false, err
	}
	if err := d.skip(0); err != nil {
		return "", false, err
	}
	return "", false, errors.New("cannot unmarshal a non-string into a string")
}

// str reads a JSON string as encoding/json does: escapes decoded, invalid
// UTF-8 and lone surrogates replaced by U+FFFD.
func (d *decoder) str() (string, error) {
	d.i++ // the opening quote
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	d.buf = append(d.buf[:0], d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(d.buf), nil
		case c < 0x20:
			return "", d.errorf("invalid character in string literal")
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return "", d.errorf("unexpected end of JSON input")
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				d.buf = append(d.buf, e)
			case 'b':
				d.buf = append(d.buf, '\b')
			case 'f':
				d.buf = append(d.buf, '\f')
			case 'n':
				d.buf = append(d.buf, '\n')
			case 'r':
				d.buf = append(d.buf, '\r')
			case 't':
				d.buf = append(d.buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						if lo, ok := d.hex4(); ok {
							if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
								r2 = dec
							} else {
								d.i = save
							}
						} else {
							return "", d.errorf("invalid \\u escape")
						}
					}
					r = r2
				}
				d.buf = utf8.AppendRune(d.buf, r)
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			d.buf = append(d.buf, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			d.i += size
			d.buf = utf8.AppendRune(d.buf, r)
		}
	}
	return "", d.errorf("unexpected end of JSON input")
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// maxDepth bounds nesting in skipped values, as encoding/json does.
const maxDepth = 10000

// skip reads any JSON value.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return d.errorf("exceeded max depth")
	}
	switch c := d.peek(); {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{':
		return d.object(func(string) error { d.ws(); return d.skip(depth + 1) })
	case c == '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.errorf("invalid character in array")
			}
		}
	case c == 't':
		if d.literal("true") {
			return nil
		}
	case c == 'f':
		if d.literal("false") {
			return nil
		}
	case c == 'n':
		if d.literal("null") {
			return nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case d.i >= len(d.b):
		return d.errorf("unexpected end of JSON input")
	}
	return d.errorf("invalid character %q looking for a value", d.b[d.i])
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() error {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return d.errorf("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return d.errorf("invalid number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return d.errorf("invalid number")
		}
	}
	return nil
}

// prepare turns posted alerts into alerts received at now, as
// Alertmanager does: empty label values are dropped, a missing start is
// now (or the end), a missing end is now plus resolveTimeout (a timeout
// end a later explicit one overrides). It returns the valid alerts and one
// message per invalid one.
func prepare(posted []postableAlert, now time.Time, resolveTimeout time.Duration) ([]alerts.Alert, []string) {
	valid := make([]alerts.Alert, 0, len(posted))
	var invalid []string
	b := labels.NewScratchBuilder(8)
	for i := range posted {
		p := &posted[i]
		a := alerts.Alert{Labels: setOf(&b, p.Labels, true), Annotations: setOf(&b, p.Annotations, false), StartsAt: p.StartsAt,
			EndsAt: p.EndsAt, UpdatedAt: now, GeneratorURL: p.GeneratorURL}
		if a.StartsAt.IsZero() {
			if a.EndsAt.IsZero() {
				a.StartsAt = now
			} else {
				a.StartsAt = a.EndsAt
			}
		}
		if a.EndsAt.IsZero() {
			a.Timeout = true
			a.EndsAt = now.Add(resolveTimeout)
		}
		if err := a.Validate(); err != nil {
			invalid = append(invalid, err.Error())
			continue
		}
		valid = append(valid, a)
	}
	return valid, invalid
}

func setOf(b *labels.ScratchBuilder, pairs []labels.Label, dropEmpty bool) labels.Labels {
	b.Reset()
	for _, l := range pairs {
		if dropEmpty && l.Value == "" {
			continue
		}
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}

// dateTime is a date-time read by encoding/json (silence bodies).
type dateTime struct{ time.Time }

// UnmarshalJSON parses a quoted date-time.
func (d *dateTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := parseDateTime(s)
	d.Time = t
	return err
}

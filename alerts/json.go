package alerts

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// MarshalJSON writes the alert without reflection: alerts are encoded on
// every hot path (the store, the outbox, the API), and a label set is
// written from its sorted pairs rather than through a map. The output is
// what encoding/json would write for the struct's tags.
func (a Alert) MarshalJSON() ([]byte, error) {
	return a.AppendJSON(make([]byte, 0, 256)), nil
}

// AppendJSON appends the alert's JSON encoding to b.
func (a *Alert) AppendJSON(b []byte) []byte {
	b = append(b, `{"labels":`...)
	b = appendLabels(b, a.Labels)
	b = append(b, `,"annotations":`...)
	b = appendLabels(b, a.Annotations)
	b = append(b, `,"startsAt":`...)
	b = appendTime(b, a.StartsAt)
	if !a.EndsAt.IsZero() {
		b = append(b, `,"endsAt":`...)
		b = appendTime(b, a.EndsAt)
	}
	if !a.UpdatedAt.IsZero() {
		b = append(b, `,"updatedAt":`...)
		b = appendTime(b, a.UpdatedAt)
	}
	if a.GeneratorURL != "" {
		b = append(b, `,"generatorURL":`...)
		b = appendString(b, a.GeneratorURL)
	}
	if a.Timeout {
		b = append(b, `,"timeout":true`...)
	}
	b = append(b, `,"status":{"state":`...)
	b = appendString(b, a.Status.State.String())
	for _, f := range []struct {
		name string
		vs   []string
	}{{"silencedBy", a.Status.SilencedBy}, {"inhibitedBy", a.Status.InhibitedBy}, {"receivers", a.Status.Receivers}} {
		if len(f.vs) == 0 {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":[`...)
		for i, v := range f.vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...)
}

// alertJSON is the decoding shape of an alert.
type alertJSON struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Timeout      bool              `json:"timeout"`
	Status       Status            `json:"status"`
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Alert{Labels: labels.FromMap(j.Labels), Annotations: labels.FromMap(j.Annotations), StartsAt: j.StartsAt, EndsAt: j.EndsAt,
		UpdatedAt: j.UpdatedAt, GeneratorURL: j.GeneratorURL, Timeout: j.Timeout, Status: j.Status}
	return nil
}

// AppendLabelsJSON appends a label set as a JSON object, names in order.
func AppendLabelsJSON(b []byte, ls labels.Labels) []byte { return appendLabels(b, ls) }

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does: quotes,
// backslashes and control characters escaped, <, > and & escaped for HTML,
// invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

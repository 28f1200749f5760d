package postmortem

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/oncallhq/oncall/postmortem/textchart"
)

//go:embed template.md
var defaultTemplate string

// DefaultTemplateText is the text of the default body template, for a
// user to start an override from.
func DefaultTemplateText() string { return defaultTemplate }

// Funcs are the functions a body template may call besides text/template's
// own: utc (a time as 2006-01-02 15:04:05Z), hms (15:04:05Z), dur (a
// duration in words: 4m10s, 2h05m, 3d4h), since (the duration from one
// time to another), clean (outside text without control characters), cell
// (clean, for a table cell), code (an inline code span), lines (lines
// joined), value (a number in three digits and a suffix), pct (a share as
// a percentage, to two significant digits below 1%), trim, join, logline (a log line as one line of text), transactions (the
// distinct transaction ids of log lines) and times (once, twice, 3 times).
func Funcs() template.FuncMap {
	return template.FuncMap{
		"utc":          utc,
		"hms":          func(t time.Time) string { return t.UTC().Format("15:04:05Z") },
		"dur":          Duration,
		"since":        func(a, b time.Time) string { return Duration(b.Sub(a)) },
		"clean":        clean,
		"cell":         cell,
		"code":         code,
		"lines":        func(ls []string) string { return strings.Join(ls, "\n") },
		"value":        textchart.Value,
		"pct":          pct,
		"trim":         strings.TrimSpace,
		"join":         strings.Join,
		"logline":      logline,
		"transactions": transactions,
		"times": func(n int) string {
			switch n {
			case 1:
				return "once"
			case 2:
				return "twice"
			}
			return strconv.Itoa(n) + " times"
		},
	}
}

// pct writes a share as a percentage: 13.7%, 0.058%.
func pct(f float64) string {
	v := f * 100
	if v != 0 && math.Abs(v) < 1 {
		return strconv.FormatFloat(v, 'g', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// ParseTemplate reads a body template (a user's override) named name.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(Funcs()).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("postmortem template: %w", err)
	}
	return t, nil
}

// DefaultTemplate is the built-in body template.
func DefaultTemplate() *template.Template {
	t, err := ParseTemplate("postmortem", defaultTemplate)
	if err != nil {
		panic(err) // the embedded template is tested
	}
	return t
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Duration writes d in words a reader takes in at once: 45s, 4m10s,
// 2h05m, 3d4h.
func Duration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return neg + strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%s%dm", neg, m)
		}
		return fmt.Sprintf("%s%dm%02ds", neg, m, s)
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		return fmt.Sprintf("%s%dh%02dm", neg, h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%s%dd", neg, days)
	}
	return fmt.Sprintf("%s%dd%dh", neg, days, h)
}

// clean drops control characters from outside text (alert summaries,
// label values, log lines), which could hide or rewrite what a terminal
// shows of the file; a newline becomes a space.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			return -1
		}
		return r
	}, s)
}

// cell is clean text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(clean(s)), "|", `\|`)
}

// code is s as an inline code span, delimited by more backticks than s
// holds in a row.
func code(s string) string {
	s = clean(s)
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// logline writes a log line: time, level, service, message, fields in
// name order. Backtick runs are broken so that it cannot close the fence.
func logline(l LogLine) string {
	var b strings.Builder
	b.WriteString(l.Time.UTC().Format("2006-01-02 15:04:05.000Z"))
	b.WriteString(" " + strings.ToUpper(l.Level.String()))
	if l.Service != "" {
		b.WriteString(" " + l.Service)
	}
	b.WriteString(" " + l.Message)
	keys := make([]string, 0, len(l.Fields))
	for k := range l.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + l.Fields[k])
	}
	if l.TraceID != "" && l.Fields["trace_id"] == "" {
		b.WriteString(" trace_id=" + l.TraceID)
	}
	return strings.ReplaceAll(clean(b.String()), "```", "`\u200b``")
}

func transactions(ls []LogLine) []string {
	var out []string
	for _, l := range ls {
		if t := clean(l.Transaction); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Render writes the body of the scaffold's postmortem with t (the
// default template when nil).
func (s Scaffold) Render(t *template.Template) ([]byte, error) {
	if t == nil {
		t = DefaultTemplate()
	}
	var b bytes.Buffer
	if err := t.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("postmortem template: %w", err)
	}
	return b.Bytes(), nil
}

// Document is the scaffold's postmortem: its front matter over the body t
// renders.
func (s Scaffold) Document(t *template.Template) (Document, error) {
	body, err := s.Render(t)
	if err != nil {
		return Document{}, err
	}
	return New(s.FrontMatter, body), nil
}

// Package termtext makes text from outside safe to draw on a terminal.
//
// Alert summaries, label values, log lines and the names people type come
// from anyone who can post an alert or write a log line. Drawn raw, an
// escape sequence in them would recolour other people's consoles, move
// the cursor, retitle the window or hide text; a bidirectional override
// would reorder what is shown. Clean shows such characters visibly
// (caret notation, ^[ for ESC) instead of obeying them.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s with every control character made visible, newlines and
// tabs included, for one line of a table or a pane; bytes that are not
// UTF-8 become U+FFFD. Text without control
// characters is returned as is, without allocating.
func Clean(s string) string { return clean(s, false) }

// CleanLines is Clean for text shown on several lines: newlines are kept,
// tabs become spaces.
func CleanLines(s string) string { return clean(s, true) }

func clean(s string, lines bool) string {
	i := firstUnsafe(s, lines)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case r == '\n' && lines:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString("↵")
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			b.WriteByte('^')
			b.WriteByte(byte(r) ^ 0x40)
		case r == utf8.RuneError:
			b.WriteRune(r)
		case unsafeRune(r):
			b.WriteString("<U+")
			const hex = "0123456789ABCDEF"
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
			b.WriteByte('>')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// firstUnsafe is the byte offset of the first character Clean changes, or
// -1.
func firstUnsafe(s string, lines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && !(lines && c == '\n')) || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r) || (r == utf8.RuneError && n == 1) { // a lone 0x9b is CSI to an 8-bit terminal
			return i
		}
		i += n
	}
	return -1
}

// unsafeRune reports C1 controls (0x80–0x9f, which some terminals obey as
// escape sequences) and the bidirectional controls that reorder text.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

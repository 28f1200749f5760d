package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, one, lines string }{
		{"plain text", "plain text", "plain text"},
		{"ünïcödé ✓ 日本", "ünïcödé ✓ 日本", "ünïcödé ✓ 日本"},
		{"\x1b[41mred\x1b[0m", "^[[41mred^[[0m", "^[[41mred^[[0m"},
		{"title\x1b]0;pwned\x07", "title^[]0;pwned^G", "title^[]0;pwned^G"},
		{"a\nb\tc\r", "a↵b c^M", "a\nb c^M"},
		{"del\x7f", "del^?", "del^?"},
		{"c1\u009b31m", "c1<U+009B>31m", "c1<U+009B>31m"},
		{"abc\u202edcba", "abc<U+202E>dcba", "abc<U+202E>dcba"},
		{"bad \xff utf8", "bad \ufffd utf8", "bad \ufffd utf8"},
	} {
		if got := Clean(tc.in); got != tc.one {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.one)
		}
		if got := CleanLines(tc.in); got != tc.lines {
			t.Errorf("CleanLines(%q) = %q, want %q", tc.in, got, tc.lines)
		}
	}
}

func TestCleanDoesNotAllocateForSafeText(t *testing.T) {
	s := strings.Repeat("service=checkout ✓ ", 10)
	if n := testing.AllocsPerRun(100, func() { Clean(s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// Whatever the input, the output holds no control character a terminal
// would obey.
func FuzzClean(f *testing.F) {
	f.Add("\x1b[41m\u009b\u202e\n\t")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Clean(s), CleanLines(s)} {
			for _, r := range out {
				if (r < 0x20 && r != '\n') || r == 0x7f || unsafeRune(r) {
					t.Fatalf("%q -> %q keeps %U", s, out, r)
				}
			}
			if !utf8.ValidString(s) {
				continue
			}
			if firstUnsafe(s, false) < 0 && Clean(s) != s {
				t.Fatalf("safe %q changed", s)
			}
		}
		if strings.Contains(Clean(s), "\n") {
			t.Fatalf("Clean(%q) keeps a newline", s)
		}
	})
}

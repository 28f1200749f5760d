package notify

import (
	"testing"
	"unicode/utf8"
)

// Clip keeps text within a receiver's limit without cutting a character
// in two, and says it cut.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer text", 10, "a longe…"},
		{"ééééé", 8, "éé…"}, // 10 bytes; "…" is 3, a cut é would be invalid
	} {
		got := Clip(tc.in, tc.max)
		if got != tc.want || len(got) > tc.max || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

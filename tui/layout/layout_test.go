package layout

import (
	"testing"
	"time"
)

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{
		{"abc", 5, "abc  "},
		{"abcdef", 4, "abc…"},
		{"日本語", 4, "日… "}, // a wide rune does not fit the last cell
		{"", 2, "  "},
		{"x", 0, ""},
	} {
		if got := Fit(tc.in, tc.w); got != tc.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct{ n, sel, h, top, from, to int }{
		{5, 2, 10, 0, 0, 5},       // all fits
		{100, 50, 10, 45, 45, 55}, // the top stays while the selection is visible
		{100, 60, 10, 45, 51, 61}, // scrolls just enough down
		{100, 10, 10, 45, 10, 20}, // and up
		{100, 99, 10, 0, 90, 100},
		{0, 0, 10, 0, 0, 0},
	} {
		from, to := Window(tc.n, tc.sel, tc.h, tc.top)
		if from != tc.from || to != tc.to {
			t.Errorf("Window(%d, %d, %d, %d) = %d, %d; want %d, %d", tc.n, tc.sel, tc.h, tc.top, from, to, tc.from, tc.to)
		}
	}
}

func TestShortAndCount(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0s", 45 * time.Second: "45s", 83 * time.Second: "1m23s", 125 * time.Minute: "2h05m", 73 * time.Hour: "3d"} {
		if got := Short(d); got != want {
			t.Errorf("Short(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

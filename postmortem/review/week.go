package review

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Week is an ISO 8601 week: Monday 00:00 UTC to the next Monday, in the
// ISO year that holds its Thursday (so 2026-W53 ends on 3 January 2027).
type Week struct {
	Year, Num int
}

var weekRE = regexp.MustCompile(`^(\d{4})-?[Ww](\d{1,2})$`)

// ParseWeek reads 2026-W47 (or 2026W47).
func ParseWeek(s string) (Week, error) {
	m := weekRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Week{}, fmt.Errorf("%q is not an ISO week: want YYYY-Www, like 2026-W47", s)
	}
	y, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	if n < 1 || n > WeeksIn(y) {
		return Week{}, fmt.Errorf("%q: %d has weeks 1 to %d", s, y, WeeksIn(y))
	}
	return Week{y, n}, nil
}

// WeekOf is the ISO week holding t.
func WeekOf(t time.Time) Week {
	y, n := t.UTC().ISOWeek()
	return Week{y, n}
}

// WeeksIn is how many ISO weeks year has: 53 when it begins on a
// Thursday, or on a Wednesday in a leap year; else 52.
func WeeksIn(year int) int {
	_, n := time.Date(year, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return n
}

// Start is the week's Monday, 00:00 UTC.
func (w Week) Start() time.Time {
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, time.UTC) // always in week 1
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w.Num-1))
}

// End is the next week's Monday, 00:00 UTC.
func (w Week) End() time.Time { return w.Start().AddDate(0, 0, 7) }

// Prev is the week before.
func (w Week) Prev() Week { return WeekOf(w.Start().AddDate(0, 0, -7)) }

// String writes 2026-W47.
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// MarshalText writes the week.
func (w Week) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads what ParseWeek reads.
func (w *Week) UnmarshalText(b []byte) error {
	v, err := ParseWeek(string(b))
	*w = v
	return err
}

package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Length is how long one shift of a rotation lasts. Whole days (1d, 1w,
// 14d; "daily", "weekly") are calendar days in the rotation's time zone,
// so a 09:00 hand-off stays at 09:00 local time across a daylight-saving
// change; anything else (1h, 12h, 90m; "hourly") is elapsed time.
type Length struct {
	Days int           // calendar days; 0 when the length is elapsed time
	Time time.Duration // elapsed time; 0 when the length is in days
}

// Days returns a Length of n calendar days.
func Days(n int) Length { return Length{Days: n} }

// Hours returns a Length of n elapsed hours.
func Hours(n int) Length { return Length{Time: time.Duration(n) * time.Hour} }

// IsZero reports whether the length is unset.
func (l Length) IsZero() bool { return l.Days == 0 && l.Time == 0 }

// nominal is the length in elapsed time ignoring daylight saving.
func (l Length) nominal() time.Duration {
	if l.Days > 0 {
		return time.Duration(l.Days) * 24 * time.Hour
	}
	return l.Time
}

// after returns t moved n lengths on, in loc.
func (l Length) after(t time.Time, n int64, loc *time.Location) time.Time {
	if l.Days > 0 {
		lt := t.In(loc)
		return time.Date(lt.Year(), lt.Month(), lt.Day()+int(n)*l.Days, lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), loc)
	}
	return t.Add(time.Duration(n) * l.Time)
}

// String writes the length as the configuration would.
func (l Length) String() string {
	switch {
	case l.Days > 0 && l.Days%7 == 0:
		return strconv.Itoa(l.Days/7) + "w"
	case l.Days > 0:
		return strconv.Itoa(l.Days) + "d"
	case l.Time > 0:
		return model.Duration(l.Time).String()
	}
	return ""
}

// MarshalText writes the length as the configuration would.
func (l Length) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads hourly, daily, weekly or a duration (12h, 1d, 2w).
func (l *Length) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch s {
	case "hourly":
		*l = Hours(1)
		return nil
	case "daily":
		*l = Days(1)
		return nil
	case "weekly":
		*l = Days(7)
		return nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		if td, terr := time.ParseDuration(s); terr == nil {
			d, err = model.Duration(td), nil
		}
	}
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a shift length: write hourly, daily, weekly or a duration like 12h, 1d or 2w", s)
	}
	day := model.Duration(24 * time.Hour)
	if d%day == 0 {
		*l = Days(int(d / day))
	} else {
		*l = Length{Time: time.Duration(d)}
	}
	return nil
}

// Wall is a date and time of day: either a wall-clock reading that means
// that reading in some time zone (2026-01-05T09:00), or an instant with a
// UTC offset (RFC 3339).
type Wall struct {
	t     time.Time // in UTC when Local, else the instant
	Local bool      // a wall-clock reading, to be read in a time zone
}

// At returns the instant t as a Wall.
func At(t time.Time) Wall { return Wall{t: t} }

// WallClock returns a wall-clock reading, to be read in a time zone.
func WallClock(year int, month time.Month, day, hour, min int) Wall {
	return Wall{t: time.Date(year, month, day, hour, min, 0, 0, time.UTC), Local: true}
}

// IsZero reports whether the Wall is unset.
func (w Wall) IsZero() bool { return w.t.IsZero() }

// In returns the instant the Wall means in loc.
func (w Wall) In(loc *time.Location) time.Time {
	if !w.Local {
		return w.t
	}
	t := w.t
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
}

// exists reports an error for a wall-clock reading that loc skips (the
// hour the spring change jumps over): every hand-off would move.
func (w Wall) exists(loc *time.Location) error {
	if !w.Local {
		return nil
	}
	at := w.In(loc)
	if at.Hour() != w.t.Hour() || at.Minute() != w.t.Minute() {
		return fmt.Errorf("%s does not exist in %s (the clocks skip it): pick a time outside the change", w.t.Format("2006-01-02T15:04"), loc)
	}
	return nil
}

var wallLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// UnmarshalText reads RFC 3339 (an instant) or a date and time without an
// offset (a wall-clock reading in the rotation's time zone).
func (w *Wall) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*w = Wall{t: t}
		return nil
	}
	for _, layout := range wallLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			*w = Wall{t: t, Local: true}
			return nil
		}
	}
	return fmt.Errorf("%q is not a time: write 2026-01-05T09:00 (in the time zone) or RFC 3339 like 2026-01-05T09:00:00Z", s)
}

// MarshalText writes the Wall as UnmarshalText reads it.
func (w Wall) MarshalText() ([]byte, error) {
	if w.Local {
		return []byte(w.t.Format("2006-01-02T15:04:05")), nil
	}
	return []byte(w.t.Format(time.RFC3339Nano)), nil
}

// TimeOfDay is a wall-clock time within a day, in minutes after midnight.
type TimeOfDay int

// Clock returns the time of day h:m.
func Clock(h, m int) TimeOfDay { return TimeOfDay(h*60 + m) }

// UnmarshalText reads HH:MM (24:00 is the end of the day).
func (d *TimeOfDay) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return fmt.Errorf("%q is not a time of day: write HH:MM, like 09:00 or 17:30", s)
	}
	*d = Clock(hh, mm)
	return nil
}

// MarshalText writes HH:MM.
func (d TimeOfDay) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String writes HH:MM.
func (d TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(d)/60, int(d)%60) }

// DaySpan is a weekday or a run of weekdays (mon-fri; fri-mon wraps over
// the weekend).
type DaySpan struct{ From, To time.Weekday }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	d, ok := dayNames[s[:3]]
	if !ok || !strings.HasPrefix(strings.ToLower(d.String()), s) {
		return 0, false
	}
	return d, true
}

// UnmarshalText reads mon, monday, or mon-fri.
func (s *DaySpan) UnmarshalText(b []byte) error {
	from, to, isRange := strings.Cut(string(b), "-")
	f, ok1 := parseDay(from)
	t, ok2 := f, true
	if isRange {
		t, ok2 = parseDay(to)
	}
	if !ok1 || !ok2 {
		return fmt.Errorf("%q is not a weekday: write mon, tue, … sun, or a range like mon-fri", string(b))
	}
	*s = DaySpan{f, t}
	return nil
}

// MarshalText writes mon or mon-fri.
func (s DaySpan) MarshalText() ([]byte, error) {
	short := func(d time.Weekday) string { return strings.ToLower(d.String()[:3]) }
	if s.From == s.To {
		return []byte(short(s.From)), nil
	}
	return []byte(short(s.From) + "-" + short(s.To)), nil
}

// has reports whether d is in the span.
func (s DaySpan) has(d time.Weekday) bool {
	if s.From <= s.To {
		return d >= s.From && d <= s.To
	}
	return d >= s.From || d <= s.To
}

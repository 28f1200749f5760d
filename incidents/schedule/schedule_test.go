package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func users(names ...string) map[string]User {
	m := map[string]User{}
	for _, n := range names {
		m[n] = User{Name: n}
	}
	return m
}

// A weekly 09:00 Europe/Berlin hand-off stays at 09:00 local time across
// both daylight-saving changes of 2026 (29 March and 25 October): 08:00Z
// in winter, 07:00Z in summer.
func TestWeeklyHandOffKeepsLocalTimeAcrossDST(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	r := Rotation{Name: "r", Users: []string{"alice", "bob"}, Shift: Days(7), Start: WallClock(2026, 3, 23, 9, 0), TimeZone: "Europe/Berlin"}
	tests := []struct {
		at             time.Time
		user           string
		start, end     time.Time
		startHourLocal int
	}{
		// The week that holds the spring change: 23 March 09:00 CET (08:00Z) to 30 March 09:00 CEST (07:00Z): 167 hours.
		{time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), "alice", time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), 9},
		{time.Date(2026, 3, 30, 6, 59, 59, 0, time.UTC), "alice", time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), 9},
		{time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), "bob", time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), time.Date(2026, 4, 6, 7, 0, 0, 0, time.UTC), 9},
		// The autumn change, 30 weeks on: 19 October 09:00 CEST (07:00Z) to 26 October 09:00 CET (08:00Z): 169 hours.
		{time.Date(2026, 10, 25, 12, 0, 0, 0, time.UTC), "alice", time.Date(2026, 10, 19, 7, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC), 9},
		{time.Date(2026, 10, 26, 7, 30, 0, 0, time.UTC), "alice", time.Date(2026, 10, 19, 7, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC), 9},
		// Before the first hand-off the rotation runs backwards.
		{time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), "bob", time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC), 9},
	}
	for _, tc := range tests {
		u, start, end := r.At(tc.at, 0)
		if u != tc.user || !start.Equal(tc.start) || !end.Equal(tc.end) {
			t.Errorf("At(%v) = %s %v–%v, want %s %v–%v", tc.at, u, start.UTC(), end.UTC(), tc.user, tc.start, tc.end)
		}
		if h := start.In(berlin).Hour(); h != tc.startHourLocal {
			t.Errorf("At(%v): shift starts at %02d:00 Berlin, want %02d:00", tc.at, h, tc.startHourLocal)
		}
	}
}

// Hourly shifts are elapsed time: across the autumn change the repeated
// local hour is a shift of its own, and shifts are one hour long always.
func TestHourlyShiftsAreElapsedTime(t *testing.T) {
	r := Rotation{Name: "r", Users: []string{"a", "b", "c"}, Shift: Hours(1), Start: WallClock(2026, 10, 25, 0, 0), TimeZone: "Europe/Berlin"}
	at := time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC) // 00:00 CEST
	var got []string
	for i := range 5 {
		u, start, end := r.At(at.Add(time.Duration(i)*time.Hour+time.Minute), 0)
		if end.Sub(start) != time.Hour {
			t.Errorf("shift %d lasts %v", i, end.Sub(start))
		}
		got = append(got, u)
	}
	if want := []string{"a", "b", "c", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("hourly across the change: %v, want %v", got, want)
	}
}

func TestLengthSyntax(t *testing.T) {
	for in, want := range map[string]Length{"weekly": Days(7), "daily": Days(1), "hourly": Hours(1), "1w": Days(7), "3d": Days(3), "12h": Hours(12), "48h": Days(2), "90m": {Time: 90 * time.Minute}} {
		var l Length
		if err := l.UnmarshalText([]byte(in)); err != nil || l != want {
			t.Errorf("%q: %+v, %v; want %+v", in, l, err, want)
		}
	}
	for _, in := range []string{"", "0s", "-1d", "fortnightly"} {
		var l Length
		if err := l.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q: accepted as %+v", in, l)
		}
	}
}

func TestWallAndClockSyntax(t *testing.T) {
	var w Wall
	if err := w.UnmarshalText([]byte("2026-01-05T09:00")); err != nil || !w.Local {
		t.Fatalf("wall: %+v %v", w, err)
	}
	if got := w.In(mustLoc(t, "America/New_York")); !got.Equal(time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("09:00 New York = %v", got.UTC())
	}
	if err := w.UnmarshalText([]byte("2026-01-05T09:00:00+01:00")); err != nil || w.Local || !w.In(time.UTC).Equal(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("instant: %+v %v", w, err)
	}
	for _, bad := range []string{"tomorrow", "2026-13-01T00:00"} {
		if err := w.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var c TimeOfDay
	for in, want := range map[string]TimeOfDay{"09:00": 540, "17:30": 1050, "24:00": 1440, "00:00": 0} {
		if err := c.UnmarshalText([]byte(in)); err != nil || c != want {
			t.Errorf("%q: %d %v", in, c, err)
		}
	}
	for _, bad := range []string{"9", "25:00", "09:60", "24:30", "9:5"} {
		if err := c.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("time of day %q accepted", bad)
		}
	}
	var d DaySpan
	for in, want := range map[string]DaySpan{"mon": {1, 1}, "Monday": {1, 1}, "mon-fri": {1, 5}, "fri-mon": {5, 1}, "sun": {0, 0}} {
		if err := d.UnmarshalText([]byte(in)); err != nil || d != want {
			t.Errorf("%q: %+v %v", in, d, err)
		}
	}
	for _, bad := range []string{"mo", "funday", "mon-", "monx"} {
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("day %q accepted", bad)
		}
	}
}

// followTheSun is business hours in Berlin to one rotation, weeknights
// to another, and weekends to one person.
func followTheSun() Directory {
	return Directory{
		Users: users("alice", "bob", "carol", "dave", "dana", "erin"),
		Rotations: map[string]Rotation{
			"day":   {Name: "day", Users: []string{"alice", "bob"}, Shift: Days(7), Start: WallClock(2026, 1, 5, 9, 0), TimeZone: "Europe/Berlin"},
			"night": {Name: "night", Users: []string{"carol", "dave"}, Shift: Days(1), Start: WallClock(2026, 1, 5, 17, 0), TimeZone: "Europe/Berlin"},
		},
		Schedules: map[string]Schedule{"platform": {Name: "platform", TimeZone: "Europe/Berlin", Rules: []Rule{
			{Rotation: "day", Days: []DaySpan{{time.Monday, time.Friday}}, From: Clock(9, 0), To: Clock(17, 0)},
			{Rotation: "night", Days: []DaySpan{{time.Monday, time.Thursday}}, From: Clock(17, 0), To: Clock(9, 0)},
			{User: "dana", Days: []DaySpan{{time.Friday, time.Friday}}, From: Clock(17, 0), To: Clock(0, 0)},
			{User: "dana", Days: []DaySpan{{time.Saturday, time.Sunday}}},
			{User: "dana", Days: []DaySpan{{time.Monday, time.Monday}}, From: Clock(0, 0), To: Clock(9, 0)},
		}}},
	}
}

func TestRulesMapWindowsToRotationsAndPeople(t *testing.T) {
	d := followTheSun()
	berlin := mustLoc(t, "Europe/Berlin")
	at := func(month time.Month, day, h, m int) time.Time {
		return time.Date(2026, month, day, h, m, 0, 0, berlin)
	}
	tests := []struct {
		at     time.Time
		offset int
		want   []string
		until  time.Time
	}{
		{at(1, 5, 10, 0), 0, []string{"alice"}, at(1, 5, 17, 0)},  // Monday business hours
		{at(1, 5, 18, 0), 0, []string{"carol"}, at(1, 6, 9, 0)},   // Monday night
		{at(1, 6, 18, 0), 0, []string{"dave"}, at(1, 6, 17, 0+0)}, // Tuesday night: the next night shift
		{at(1, 9, 18, 0), 0, []string{"dana"}, at(1, 10, 0, 0)},   // Friday evening
		{at(1, 10, 12, 0), 0, []string{"dana"}, at(1, 12, 0, 0)},  // Saturday
		{at(1, 12, 8, 59), 0, []string{"dana"}, at(1, 12, 9, 0)},  // Monday early
		{at(1, 12, 9, 0), 0, []string{"bob"}, at(1, 12, 17, 0)},   // the next week's day shift
		{at(1, 5, 10, 0), 1, []string{"bob"}, at(1, 5, 17, 0)},    // secondary: the next in the day rotation
		{at(1, 10, 12, 0), 1, nil, at(1, 12, 0, 0)},               // a person has nobody further along
		// Summer time: the windows stay in local time.
		{at(7, 6, 16, 59), 0, []string{"alice"}, at(7, 6, 17, 0)},
		{at(7, 13, 9, 0), 0, []string{"bob"}, at(7, 13, 17, 0)},
	}
	for _, tc := range tests {
		got, until := d.OnCall("platform", tc.at, tc.offset)
		if tc.at.Equal(at(1, 6, 18, 0)) {
			tc.until = at(1, 7, 9, 0)
		}
		if !slices.Equal(got, tc.want) || !until.Equal(tc.until) {
			t.Errorf("OnCall(%v, %d) = %v until %v, want %v until %v", tc.at, tc.offset, got, until, tc.want, tc.until)
		}
	}
	if err := d.Schedules["platform"].Validate(d.Users, d.Rotations); err != nil {
		t.Errorf("follow the sun: %v", err)
	}
	if f := d.Lint("platform", at(1, 5, 0, 0), at(2, 5, 0, 0)); len(f) != 0 {
		t.Errorf("follow the sun covers every hour: %+v", f)
	}
}

func TestOverlappingRulesAreRefused(t *testing.T) {
	d := followTheSun()
	s := d.Schedules["platform"]
	s.Rules = append(s.Rules, Rule{User: "erin", Days: []DaySpan{{time.Saturday, time.Saturday}}, From: Clock(9, 0), To: Clock(17, 0)})
	err := s.Validate(d.Users, d.Rotations)
	if err == nil || !strings.Contains(err.Error(), "rules[5]: overlaps rules[3] from Sat 09:00") {
		t.Errorf("overlap: %v", err)
	}
	// A night window that runs into the next day overlaps that day's rule.
	s.Rules = []Rule{
		{User: "alice", From: Clock(18, 0), To: Clock(9, 0)},
		{User: "bob", Days: []DaySpan{{time.Tuesday, time.Tuesday}}, From: Clock(8, 0), To: Clock(12, 0)},
	}
	if err := s.Validate(d.Users, d.Rotations); err == nil || !strings.Contains(err.Error(), "from Tue 08:00") {
		t.Errorf("wrapped overlap: %v", err)
	}
}

func TestOverridesAndTemporarySchedules(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 2, d, h, 0, 0, 0, time.UTC) }
	d := Directory{Users: users("alice", "bob", "carol", "erin", "frank"), Schedules: map[string]Schedule{"s": {
		Name: "s", Users: []string{"alice", "bob", "carol"}, Start: At(day(2, 9)), Shift: Days(7),
		Overrides: []Override{
			{Replace: "alice", With: "erin", Start: day(3, 0), End: day(4, 0)},
			{Add: "frank", Start: day(5, 12), End: day(5, 14)},
			{Remove: "bob", Start: day(10, 0), End: day(11, 0)},
			{User: "carol", Start: day(12, 0), End: day(12, 6)},
		},
		Temporary: []Temporary{{Start: day(20, 0), End: day(22, 0), Shifts: []Shift{
			{User: "erin", Start: day(20, 0), End: day(21, 0)},
			{User: "frank", Start: day(21, 12), End: day(22, 0)},
		}}},
	}}}
	tests := []struct {
		at     time.Time
		offset int
		want   []string
		until  time.Time
	}{
		{day(2, 10), 0, []string{"alice"}, day(3, 0)},
		{day(3, 10), 0, []string{"erin"}, day(4, 0)},
		{day(3, 10), 1, []string{"bob"}, day(9, 9)},
		{day(5, 13), 0, []string{"alice", "frank"}, day(5, 14)},
		{day(10, 1), 0, nil, day(11, 0)}, // bob removed: nobody
		{day(12, 1), 0, []string{"carol"}, day(12, 6)},
		{day(20, 1), 0, []string{"erin"}, day(21, 0)},
		{day(21, 1), 0, nil, day(21, 12)}, // a gap in the temporary roster
		{day(21, 13), 0, []string{"frank"}, day(22, 0)},
		{day(21, 13), 1, []string{"alice"}, day(23, 9)}, // the rotation goes on behind it
	}
	for _, tc := range tests {
		got, until := d.OnCall("s", tc.at, tc.offset)
		if !slices.Equal(got, tc.want) || !until.Equal(tc.until) {
			t.Errorf("OnCall(%v, %d) = %v until %v, want %v until %v", tc.at, tc.offset, got, until, tc.want, tc.until)
		}
	}
	lint := d.Lint("s", day(1, 0), day(23, 0))
	var checks []string
	for _, f := range lint {
		checks = append(checks, f.Check+" "+f.User+" "+f.Start.Format("02T15"))
	}
	want := []string{"uncovered  10T00", "uncovered  21T00"}
	if !slices.Equal(checks, want) {
		t.Errorf("lint: %q, want %q\n%+v", checks, want, lint)
	}
}

func TestSpansAndNextChange(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := Directory{Users: users("a", "b"), Schedules: map[string]Schedule{"s": {Name: "s", Users: []string{"a", "b"}, Start: At(start), Shift: Days(1),
		Overrides: []Override{{User: "a", Start: start.Add(24 * time.Hour), End: start.Add(48 * time.Hour)}}}}}
	spans := d.Spans("s", start, start.Add(4*24*time.Hour), 0)
	var got []string
	for _, sp := range spans {
		got = append(got, strings.Join(sp.Users, ",")+"@"+sp.Start.Format("02T15"))
	}
	// a's day and the override that gives a b's day too merge into one span.
	if want := []string{"a@02T09", "b@05T09"}; !slices.Equal(got, want) {
		t.Errorf("spans %v, want %v", got, want)
	}
	at, who := d.NextChange("s", start, 0, 30*24*time.Hour)
	if !at.Equal(start.Add(3*24*time.Hour)) || !slices.Equal(who, []string{"b"}) {
		t.Errorf("next change %v %v", at, who)
	}
}

func TestLongStretchOfAOnePersonRotation(t *testing.T) {
	d := Directory{Users: users("solo"), Schedules: map[string]Schedule{"s": {Name: "s", Users: []string{"solo"}, Start: WallClock(2026, 1, 5, 9, 0), MaxStretch: 72 * time.Hour}}}
	from := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f := d.Lint("s", from, from.Add(14*24*time.Hour))
	if len(f) != 1 || f[0].Check != "long-stretch" || !f[0].Open || !strings.Contains(f[0].Message, "solo is on call for 14d or more") {
		t.Errorf("lint %+v", f)
	}
}

func TestScheduleValidation(t *testing.T) {
	us := users("alice")
	rots := map[string]Rotation{}
	tests := []struct {
		s    Schedule
		want []string
	}{
		{Schedule{}, []string{"name: must not be empty", "rules: schedule \"\" needs rules"}},
		{Schedule{Name: "s", Users: []string{"alice", "zed"}}, []string{`users[1]: unknown user "zed"`, "start: schedule \"s\" needs its first hand-off"}},
		{Schedule{Name: "s", TimeZone: "Mars/Olympus", Users: []string{"alice"}, Start: WallClock(2026, 1, 1, 0, 0)}, []string{`time_zone: unknown time zone "Mars/Olympus"`}},
		{Schedule{Name: "s", Users: []string{"alice"}, Start: WallClock(2026, 1, 1, 0, 0), Rules: []Rule{{User: "alice"}}}, []string{"rules: schedule \"s\" sets users"}},
		{Schedule{Name: "s", Rules: []Rule{{}, {Rotation: "nope"}, {User: "alice", Rotation: "x"}}}, []string{"rules[0]: set rotation or user", `rules[1].rotation: unknown rotation "nope"`, "rules[2]: set rotation or user, not both"}},
		{Schedule{Name: "s", Rules: []Rule{{User: "alice"}}, Overrides: []Override{{Add: "alice", Replace: "alice"}, {Replace: "alice"}, {Add: "bob", Start: time.Unix(10, 0), End: time.Unix(5, 0)}}},
			[]string{"overrides[0]: set exactly one of", "overrides[1].with: replace needs with", `overrides[2].add: unknown user "bob"`, "overrides[2].end: must be after start"}},
	}
	for i, tc := range tests {
		err := tc.s.Validate(us, rots)
		if err == nil {
			t.Errorf("%d: no error", i)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: error lacks %q:\n%v", i, w, err)
			}
		}
	}
	if err := (Rotation{Name: "r", Users: []string{"alice"}, Start: WallClock(2026, 1, 1, 0, 0), TimeZone: "Europe/Nowhere"}).Validate(us); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Errorf("rotation zone: %v", err)
	}
	// A hand-off in the hour the spring change skips would move every week.
	if err := (Rotation{Name: "r", Users: []string{"alice"}, Start: WallClock(2026, 3, 29, 2, 30), TimeZone: "Europe/Berlin"}).Validate(us); err == nil || !strings.Contains(err.Error(), "start: 2026-03-29T02:30 does not exist in Europe/Berlin") {
		t.Errorf("a start in the gap: %v", err)
	}
}

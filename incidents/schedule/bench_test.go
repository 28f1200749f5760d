package schedule

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The layered year: a schedule in Europe/Berlin whose rules follow the
// sun over three rotations (Tokyo daily, Berlin weekly, New York every
// 90 minutes) on weekdays and hand weekends to a fourth (weekly, UTC),
// with about 500 overrides spread over 2026 and a holiday roster over
// Christmas. It is what `oncall who` and `oncall schedule show` read.
var (
	layeredFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	layeredTo   = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

func layeredDirectory(overrides int) Directory {
	us := map[string]User{}
	var names []string
	for i := range 24 {
		n := fmt.Sprintf("u%02d", i)
		names = append(names, n)
		us[n] = User{Name: n}
	}
	start := WallClock(2026, 1, 5, 9, 0)
	d := Directory{
		Users: us,
		Rotations: map[string]Rotation{
			"apac":    {Name: "apac", Users: names[0:5], Shift: Days(1), Start: start, TimeZone: "Asia/Tokyo"},
			"emea":    {Name: "emea", Users: names[5:10], Shift: Days(7), Start: start, TimeZone: "Europe/Berlin"},
			"amer":    {Name: "amer", Users: names[10:15], Shift: Length{Time: 90 * time.Minute}, Start: start, TimeZone: "America/New_York"},
			"weekend": {Name: "weekend", Users: names[15:20], Shift: Days(7), Start: At(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))},
		},
		Policies: map[string]Policy{"layered": {Name: "layered", Steps: []Step{
			{Name: "primary", Targets: []Target{{Schedule: "layered"}}, Delay: 5 * time.Minute},
			{Name: "secondary", Targets: []Target{{Schedule: "layered", Offset: 1}}, Delay: 5 * time.Minute},
			{Name: "manager", Targets: []Target{{User: "u20"}}, Delay: 5 * time.Minute},
		}}},
		Commander: &Step{Targets: []Target{{Schedule: "ic"}}, Delay: 5 * time.Minute},
	}
	weekdays := []DaySpan{{time.Monday, time.Friday}}
	s := Schedule{Name: "layered", TimeZone: "Europe/Berlin", Rules: []Rule{
		{Rotation: "apac", Days: weekdays, From: Clock(0, 0), To: Clock(8, 0)},
		{Rotation: "emea", Days: weekdays, From: Clock(8, 0), To: Clock(16, 0)},
		{Rotation: "amer", Days: weekdays, From: Clock(16, 0), To: Clock(0, 0)},
		{Rotation: "weekend", Days: []DaySpan{{time.Saturday, time.Sunday}}},
	}}
	rng := rand.New(rand.NewPCG(2026, 1))
	year := layeredTo.Sub(layeredFrom)
	for range overrides {
		at := layeredFrom.Add(time.Duration(rng.Int64N(int64(year))).Truncate(15 * time.Minute))
		o := Override{Start: at, End: at.Add(time.Duration(1+rng.IntN(12)) * time.Hour), Reason: "swap"}
		who := names[rng.IntN(20)]
		switch k := rng.IntN(20); {
		case k < 12:
			o.User = who
		case k < 15:
			o.Add = who
		case k < 17:
			o.Remove = who
		default:
			o.Replace, o.With = who, names[rng.IntN(20)]
		}
		s.Overrides = append(s.Overrides, o)
	}
	slices.SortFunc(s.Overrides, func(a, b Override) int { return a.Start.Compare(b.Start) })
	xmas := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	s.Temporary = []Temporary{{Start: xmas, End: xmas.Add(72 * time.Hour), Shifts: []Shift{
		{User: "u21", Start: xmas, End: xmas.Add(24 * time.Hour)},
		{User: "u22", Start: xmas.Add(24 * time.Hour), End: xmas.Add(48 * time.Hour)},
		{User: "u23", Start: xmas.Add(48 * time.Hour), End: xmas.Add(66 * time.Hour)}, // six hours nobody covers
	}}}
	d.Schedules = map[string]Schedule{
		"layered": s,
		"ic":      {Name: "ic", Users: []string{"u20", "u21"}, Shift: Days(14), Start: At(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))},
	}
	return d
}

func TestLayeredYearIsValid(t *testing.T) {
	d := layeredDirectory(500)
	if err := d.Schedules["layered"].Validate(d.Users, d.Rotations); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Rotations {
		if err := r.Validate(d.Users); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Policies["layered"].Validate(d); err != nil {
		t.Fatal(err)
	}
}

// Spans over the layered year agree with OnCall asked minute by minute
// (every 17 minutes, and just before and at every span's edges): no change
// of on-call is missed, and no span ends where nothing changes.
func TestLayeredSpansAgreeWithOnCall(t *testing.T) {
	d := layeredDirectory(500)
	for _, offset := range []int{0, 1} {
		spans := d.Spans("layered", layeredFrom, layeredTo, offset)
		if len(spans) == 0 || !spans[0].Start.Equal(layeredFrom) || !spans[len(spans)-1].End.Equal(layeredTo) {
			t.Fatalf("offset %d: spans do not cover the year", offset)
		}
		check := func(at time.Time, sp Span) {
			t.Helper()
			if got, _ := d.OnCall("layered", at, offset); !slices.Equal(got, sp.Users) {
				t.Errorf("offset %d: OnCall at %v = %v, the span %v–%v says %v", offset, at, got, sp.Start, sp.End, sp.Users)
			}
		}
		i := 0
		for at := layeredFrom; at.Before(layeredTo); at = at.Add(17 * time.Minute) {
			for !at.Before(spans[i].End) {
				i++
			}
			check(at, spans[i])
		}
		for i, sp := range spans {
			check(sp.Start, sp)
			check(sp.End.Add(-time.Second), sp)
			if i > 0 && slices.Equal(spans[i-1].Users, sp.Users) {
				t.Errorf("offset %d: spans %d and %d both %v", offset, i-1, i, sp.Users)
			}
			if !sp.End.After(sp.Start) || (i > 0 && !spans[i-1].End.Equal(sp.Start)) {
				t.Errorf("offset %d: span %d %v–%v does not follow on", offset, i, sp.Start, sp.End)
			}
		}
		t.Logf("offset %d: %d spans over the year", offset, len(spans))
	}
}

// BenchmarkWhoLayeredYear times the answers `oncall who`, `oncall
// schedule show` and `oncall schedule lint` give over the layered year.
// The target is under 50 ms for a year.
func BenchmarkWhoLayeredYear(b *testing.B) {
	d := layeredDirectory(500)
	rng := rand.New(rand.NewPCG(7, 7))
	year := layeredTo.Sub(layeredFrom)
	instants := make([]time.Time, 1024)
	for i := range instants {
		instants[i] = layeredFrom.Add(time.Duration(rng.Int64N(int64(year))))
	}
	b.Run("who-policy", func(b *testing.B) {
		// `oncall who`: the policy's steps, now and next, and its schedules.
		for i := 0; b.Loop(); i++ {
			if _, err := d.Who(instants[i%len(instants)], "layered", "layered", "ic"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("who-all-schedules", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := d.Who(instants[i%len(instants)], ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oncall", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			d.OnCall("layered", instants[i%len(instants)], 0)
		}
	})
	var n int
	b.Run("spans-year", func(b *testing.B) {
		for b.Loop() {
			n = len(d.Spans("layered", layeredFrom, layeredTo, 0))
		}
		b.ReportMetric(float64(n), "spans")
	})
	b.Run("spans-year-secondary", func(b *testing.B) {
		for b.Loop() {
			n = len(d.Spans("layered", layeredFrom, layeredTo, 1))
		}
		b.ReportMetric(float64(n), "spans")
	})
	b.Run("lint-year", func(b *testing.B) {
		for b.Loop() {
			n = len(d.Lint("layered", layeredFrom, layeredTo))
		}
		b.ReportMetric(float64(n), "findings")
	})
}

// A rule edge at 02:30 Berlin time falls in the hour the spring change
// skips and in the hour the autumn change repeats. Whatever OnCall says
// there (it decides who is paged), Spans — and so Who's hand-off times,
// the timeline, the lint and iCalendar — must say the same.
func TestRuleEdgeInDaylightSavingHourAgreesWithOnCall(t *testing.T) {
	d := Directory{Users: map[string]User{"night": {Name: "night"}, "day": {Name: "day"}}, Schedules: map[string]Schedule{
		"s": {Name: "s", TimeZone: "Europe/Berlin", Rules: []Rule{
			{User: "night", From: Clock(2, 30), To: Clock(8, 0)},
			{User: "day", From: Clock(8, 0), To: Clock(2, 30)},
		}},
	}}
	for _, from := range []time.Time{time.Date(2026, 3, 28, 20, 0, 0, 0, time.UTC), time.Date(2026, 10, 24, 20, 0, 0, 0, time.UTC)} {
		to := from.Add(14 * time.Hour)
		spans := d.Spans("s", from, to, 0)
		i := 0
		for at := from; at.Before(to); at = at.Add(time.Minute) {
			for !at.Before(spans[i].End) {
				i++
			}
			if got, _ := d.OnCall("s", at, 0); !slices.Equal(got, spans[i].Users) {
				t.Errorf("at %v OnCall says %v, Spans says %v (%v–%v)", at, got, spans[i].Users, spans[i].Start.UTC(), spans[i].End.UTC())
				break
			}
		}
	}
}

package schedule

import (
	"fmt"
	"time"
)

const (
	day  = 24 * 60 * 60 // seconds
	week = 7 * day
)

// interval is [a, b) in seconds after Sunday 00:00 local time; b may pass
// the end of the week, which then wraps to its start.
type interval struct{ a, b int }

// intervals are the windows of the week the rule covers.
func (r Rule) intervals() []interval {
	length := (int(r.To) - int(r.From) + 24*60) % (24 * 60)
	if length == 0 {
		length = 24 * 60
	}
	spans := r.Days
	if len(spans) == 0 {
		if length == 24*60 {
			return []interval{{0, week}}
		}
		spans = []DaySpan{{time.Sunday, time.Saturday}}
	}
	var out []interval
	for d := time.Sunday; d <= time.Saturday; d++ {
		for _, s := range spans {
			if s.has(d) {
				a := int(d)*day + int(r.From)*60
				if n := len(out); n > 0 && out[n-1].b == a {
					out[n-1].b = a + length*60 // contiguous days are one window
				} else {
					out = append(out, interval{a, a + length*60})
				}
				break
			}
		}
	}
	// A window that runs to the end of the week and one that starts the
	// week are one window across the weekend.
	if n := len(out); n > 1 && out[n-1].b == week && out[0].a == 0 {
		out[n-1].b = week + out[0].b
		out = out[1:]
	}
	if len(out) == 1 && out[0].b-out[0].a >= week {
		return []interval{{0, week}}
	}
	return out
}

// secondOfWeek is lt's wall-clock second after Sunday 00:00.
func secondOfWeek(lt time.Time) int {
	return int(lt.Weekday())*day + lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
}

// window is a rule's intervals read in a time zone, with their edges
// (starts and ends) by weekday as seconds after midnight.
type window struct {
	ivs   []interval
	edges [7][]int
	whole bool
	loc   *time.Location
}

func newWindow(r Rule, loc *time.Location) window {
	w := window{ivs: r.intervals(), loc: loc}
	if len(w.ivs) == 1 && w.ivs[0] == (interval{0, week}) {
		w.whole = true
		return w
	}
	for _, iv := range w.ivs {
		for _, e := range []int{iv.a % week, iv.b % week} {
			w.edges[e/day] = append(w.edges[e/day], e%day)
		}
	}
	return w
}

// covers reports whether the window holds t.
func (w window) covers(t time.Time) bool {
	if w.whole {
		return true
	}
	sow := secondOfWeek(t.In(w.loc))
	for _, iv := range w.ivs {
		if (iv.a <= sow && sow < iv.b) || (iv.a <= sow+week && sow+week < iv.b) {
			return true
		}
	}
	return false
}

// next returns the first instant after t at which the window may begin
// or end; zero when the window is the whole week. Edges are wall-clock
// times: one the spring change skips takes effect when the clocks jump
// (the zone transition is a candidate), one the autumn change repeats
// takes effect at both occurrences.
func (w window) next(t time.Time) time.Time {
	if w.whole {
		return time.Time{}
	}
	lt := t.In(w.loc)
	best := time.Time{}
	consider := func(c time.Time) {
		if c.After(t) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if _, end := lt.ZoneBounds(); !end.IsZero() && end.Sub(t) < 8*24*time.Hour {
		consider(end)
	}
	y, m, d := lt.Date()
	wd := int(lt.Weekday())
	// Days in order; an edge found on one day can be beaten only by one
	// on the next (a repeated hour), so look one day further and stop.
	found := -2
	for k := -1; k <= 8 && (found == -2 || k <= found+1); k++ {
		for _, sec := range w.edges[((wd+k)%7+7)%7] {
			c := time.Date(y, m, d+k, 0, 0, sec, 0, w.loc)
			cands := [5]time.Time{c}
			// The same wall clock an hour (or half) earlier or later: the
			// hour the autumn change repeats.
			_, cs := c.Zone()
			for i, dlt := range []time.Duration{-time.Hour, time.Hour, -30 * time.Minute, 30 * time.Minute} {
				if o := c.Add(dlt); o.Hour() == c.Hour() && o.Minute() == c.Minute() && o.Day() == c.Day() {
					if _, os := o.Zone(); os != cs {
						cands[i+1] = o
					}
				}
			}
			for _, x := range cands {
				if !x.IsZero() && x.After(t) {
					consider(x)
					if found == -2 {
						found = k
					}
				}
			}
		}
	}
	return best
}

// pieces splits an interval at the end of the week.
func (iv interval) pieces() []interval {
	if iv.b <= week {
		return []interval{iv}
	}
	return []interval{{iv.a, week}, {0, iv.b - week}}
}

// overlaps reports every pair of rules that cover the same time.
func overlaps(rules []Rule) []error {
	var errs []error
	for i := range rules {
		for j := range i {
			if at, ok := firstOverlap(rules[j].intervals(), rules[i].intervals()); ok {
				errs = append(errs, fmt.Errorf("rules[%d]: overlaps rules[%d] from %s: at any time one rule says who is on call (put two people in one policy step to page both)", i, j, describe(at)))
			}
		}
	}
	return errs
}

func firstOverlap(x, y []interval) (int, bool) {
	best, found := 0, false
	for _, a := range x {
		for _, pa := range a.pieces() {
			for _, b := range y {
				for _, pb := range b.pieces() {
					lo, hi := max(pa.a, pb.a), min(pa.b, pb.b)
					if lo < hi && (!found || lo < best) {
						best, found = lo, true
					}
				}
			}
		}
	}
	return best, found
}

// describe writes a second of the week as "Sat 09:00".
func describe(sow int) string {
	d := time.Weekday(sow / day)
	s := sow % day
	return fmt.Sprintf("%s %02d:%02d", d.String()[:3], s/3600, s%3600/60)
}

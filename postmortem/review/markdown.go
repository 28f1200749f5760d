package review

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/oncallhq/oncall/postmortem"
	"github.com/oncallhq/oncall/postmortem/textchart"
)

// WriteMarkdown writes the agenda as Markdown.
func (r Review) WriteMarkdown(w io.Writer) error {
	m := &md{w: w}
	m.f("# Postmortem review, %s\n\n", r.Week)
	m.f("%s to %s (UTC). Overdue and stuck as of %s.\n", day(r.From), day(r.To.Add(-time.Second)), stamp(r.At))

	m.f("\n## Incidents\n\n")
	if len(r.Incidents) == 0 {
		m.f("No incidents this week.\n")
	} else {
		m.f("| Incident | Severity | Service | Opened | Duration | Postmortem |\n|---|---|---|---|---|---|\n")
		for _, i := range r.Incidents {
			title := i.Ref + " " + cell(i.Title)
			if i.Drill {
				title += " (drill)"
			}
			if i.DeclaredBy != "" {
				title += " (declared by " + cell(i.DeclaredBy) + ")"
			}
			dur := postmortem.Duration(time.Duration(i.Duration))
			if i.Open {
				dur += ", open"
			}
			pm := or(i.Postmortem, "—")
			if i.PostmortemFile != "" {
				pm += " (" + cell(i.PostmortemFile) + ")"
			}
			m.f("| %s | %s | %s | %s | %s | %s |\n", title, or(i.Severity, "—"), or(cell(i.Service), "—"), stamp(i.Opened), dur, pm)
		}
	}

	m.f("\n## Postmortems due or stuck in review\n\n")
	if len(r.Due)+len(r.Stuck) == 0 {
		m.f("None.\n")
	}
	for _, p := range r.Due {
		switch {
		case p.NotStarted:
			m.f("- **%s** %s: no postmortem yet; its severity requires one (`oncall postmortem new %s`)\n", p.ID, cell(p.Title), p.ID)
		case p.Overdue:
			m.f("- **%s** %s: draft overdue since %s%s\n", p.ID, cell(p.Title), p.Due, owner(p.Owner))
		default:
			m.f("- **%s** %s: draft due %s%s\n", p.ID, cell(p.Title), p.Due, owner(p.Owner))
		}
	}
	for _, p := range r.Stuck {
		m.f("- **%s** %s: in review for %s (since %s)%s\n", p.ID, cell(p.Title), postmortem.Duration(time.Duration(p.For)), day(p.Since), owner(p.Owner))
	}

	m.f("\n## Overdue action items\n\n")
	if len(r.OverdueActions) == 0 {
		m.f("None.\n")
	}
	for _, o := range r.OverdueActions {
		m.f("- **%s**\n", cell(o.Owner))
		for _, a := range o.Items {
			t := ""
			if a.Ticket != "" {
				t = " " + cell(a.Ticket)
			}
			m.f("  - %s (%s): due %s, %d days late, %s%s\n", cell(a.Title), a.Postmortem, a.Due, a.DaysLate, a.Status, t)
		}
	}

	l := r.Load
	m.f("\n## On-call load\n\n")
	m.f("%s", plural(l.Pages, "page"))
	if l.DrillPages > 0 {
		m.f(" (and %s, not counted)", plural(l.DrillPages, "drill page"))
	}
	m.f("; %d of %s paged, %d over %d pages in 12 hours.", len(l.Shifts), plural(len(l.Shifts)+l.Quiet, "shift"), l.Flagged, pagesPer12h)
	if l.OutsideShifts > 0 {
		m.f(" %s to people no schedule had on call.", plural(l.OutsideShifts, "page"))
	}
	m.f("\n")
	if len(l.Shifts) > 0 {
		m.f("\n| Schedule | On call | From | To | Pages | Busiest 12 h |\n|---|---|---|---|---|---|\n")
		for _, s := range l.Shifts {
			flag := strconv.Itoa(s.Busiest12h)
			if s.Flagged {
				flag = "**" + flag + " ⚠**"
			}
			m.f("| %s | %s | %s | %s | %d | %s |\n", cell(s.Label()), cell(strings.Join(s.Users, ", ")), stamp(s.Start), stamp(s.End), s.Pages, flag)
		}
	}
	if len(l.People) > 0 {
		m.f("\nBy person, in their own time zone (working hours Monday to Friday 08:00–18:00; sleep 22:00–06:00):\n\n")
		m.f("| Person | Time zone | Pages | Working hours | Off hours | Sleep hours |\n|---|---|---|---|---|---|\n")
		for _, p := range l.People {
			m.f("| %s | %s | %d | %d | %d | %d |\n", cell(p.User), cell(p.TimeZone), p.Pages, p.WorkingHours, p.OffHours, p.SleepHours)
		}
	}

	s := r.Signal
	m.f("\n## Signal quality\n\n### Noisiest alerts\n\n")
	if len(s.Noisiest) == 0 {
		m.f("No alert fired.\n")
	} else {
		m.f("| Alert | Firings | Series | Median time firing | Under 5 min |\n|---|---|---|---|---|\n")
		for _, a := range s.Noisiest {
			med := "—"
			if a.Ended > 0 {
				med = fmt.Sprintf("%s (n=%d)", postmortem.Duration(time.Duration(a.MedianFiring)), a.Ended)
			}
			m.f("| %s | %d | %d | %s | %d |\n", cell(a.Alert), a.Firings, a.Series, med, a.Short)
		}
	}
	m.notes("Pages that needed no action", s.NoAction)
	m.f("\n### Repeat incidents\n\n")
	if len(s.Repeats) == 0 {
		m.f("None.\n")
	}
	for _, rp := range s.Repeats {
		m.f("- %s **%s**: %s\n", rp.Kind, cell(rp.Name), strings.Join(rp.Incidents, ", "))
	}
	m.notes("Declared by hand, no alert caught", s.Uncaught)

	t := r.Times
	m.f("\n## Time to acknowledge and to resolve\n\nMedians (n = incidents counted), from the first page; drills apart.\n\n")
	m.f("| Week | Incidents | Time to acknowledge | Time to resolve |\n|---|---|---|---|\n")
	var counts, ttas []float64
	for _, wt := range append(append([]WeekTimes{}, t.Previous...), t.This) {
		m.f("| %s | %d | %s | %s |\n", wt.Week, wt.Incidents, stat(wt.TTA), stat(wt.TTR))
		counts = append(counts, float64(wt.Incidents))
		tta := float64(wt.TTA.Median)
		if wt.TTA.N == 0 {
			tta = nanValue()
		}
		ttas = append(ttas, tta)
	}
	m.f("| previous %d weeks | | %s | %s |\n", len(t.Previous), stat(t.PrevTTA), stat(t.PrevTTR))
	m.f("\nIncidents per week `%s`, median time to acknowledge `%s` (oldest first).\n", textchart.Sparkline(counts, len(counts)), textchart.Sparkline(ttas, len(ttas)))
	m.f("\nThis week against the previous %d: time to acknowledge %s, time to resolve %s.\n", len(t.Previous), trend(t.This.TTA, t.PrevTTA), trend(t.This.TTR, t.PrevTTR))

	if len(r.Skipped) > 0 || len(r.Notes) > 0 {
		m.f("\n## Not counted\n\n")
		for _, sk := range r.Skipped {
			m.f("- skipped %s\n", clean(sk))
		}
		for _, n := range r.Notes {
			m.f("- %s\n", clean(n))
		}
	}
	return m.err
}

type md struct {
	w   io.Writer
	err error
}

func (m *md) f(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *md) notes(title string, ns []IncidentNote) {
	m.f("\n### %s\n\n", title)
	if len(ns) == 0 {
		m.f("None.\n")
	}
	for _, n := range ns {
		m.f("- **%s** %s: %s\n", n.Ref, cell(n.Title), clean(n.Why))
	}
}

func nanValue() float64 { return math.NaN() }

// String is the median with its count, and how many never got there:
// "5m (n=7), 2 never"; "—" with none counted.
func (s Stat) String() string { return stat(s) }

// Trend says how this week's median compares with the previous weeks':
// "faster (2m, was 3m)", "slower …", "the same (3m)".
func Trend(this, prev Stat) string { return trend(this, prev) }

func stat(s Stat) string {
	if s.N == 0 {
		if s.Without > 0 {
			return fmt.Sprintf("— (%d never)", s.Without)
		}
		return "—"
	}
	out := fmt.Sprintf("%s (n=%d)", postmortem.Duration(time.Duration(s.Median)), s.N)
	if s.Without > 0 {
		out += fmt.Sprintf(", %d never", s.Without)
	}
	return out
}

// trend says how this week's median compares with the previous weeks'.
func trend(this, prev Stat) string {
	switch {
	case this.N == 0:
		return "not measured this week"
	case prev.N == 0:
		return "nothing to compare with"
	}
	a, b := time.Duration(this.Median), time.Duration(prev.Median)
	switch {
	case a == b:
		return "the same (" + postmortem.Duration(a) + ")"
	case a < b:
		return fmt.Sprintf("faster (%s, was %s)", postmortem.Duration(a), postmortem.Duration(b))
	}
	return fmt.Sprintf("slower (%s, was %s)", postmortem.Duration(a), postmortem.Duration(b))
}

// Label names the shift's on-call: the schedule, with "(secondary)" or
// "(+2)" for those behind its primary.
func (s ShiftLoad) Label() string {
	switch s.Offset {
	case 0:
		return s.Schedule
	case 1:
		return s.Schedule + " (secondary)"
	}
	return fmt.Sprintf("%s (+%d)", s.Schedule, s.Offset)
}

// plural is "1 page", "2 pages".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func owner(o string) string {
	if o == "" {
		return ", no owner"
	}
	return ", owner " + cell(o)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format("Monday 2 January 2006") }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

func cell(s string) string { return strings.ReplaceAll(strings.TrimSpace(clean(s)), "|", `\|`) }

package schedule

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one calendar entry: a stretch of time on call.
type Event struct {
	// UID stays the same for the same shift across exports, so that a
	// subscribed calendar updates a changed shift instead of adding one.
	UID         string
	Start, End  time.Time
	Summary     string
	Description string
}

// ScheduleEvents are the schedule's on-call stretches over [from, to),
// one event per stretch.
func (d Directory) ScheduleEvents(name string, from, to time.Time) []Event {
	var out []Event
	for _, sp := range d.Spans(name, from, to, 0) {
		if len(sp.Users) == 0 {
			continue
		}
		who := strings.Join(sp.Users, ", ")
		out = append(out, Event{
			UID:   uid(name, who, sp.Start),
			Start: sp.Start, End: sp.End,
			Summary:     fmt.Sprintf("On call: %s (%s)", who, name),
			Description: fmt.Sprintf("%s on call for schedule %s.", who, name),
		})
	}
	return out
}

// UserEvents are the stretches over [from, to) in which user is on call
// in any schedule, one event per schedule and stretch.
func (d Directory) UserEvents(user string, from, to time.Time) []Event {
	names := make([]string, 0, len(d.Schedules))
	for n := range d.Schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []Event
	for _, n := range names {
		var cur *Event
		for _, sp := range d.Spans(n, from, to, 0) {
			on := slices.Contains(sp.Users, user)
			switch {
			case on && cur != nil && cur.End.Equal(sp.Start):
				cur.End = sp.End
			case on:
				out = append(out, Event{UID: uid(n, user, sp.Start), Start: sp.Start, End: sp.End,
					Summary: fmt.Sprintf("On call: %s", n), Description: fmt.Sprintf("%s on call for schedule %s.", user, n)})
				cur = &out[len(out)-1]
			default:
				cur = nil
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Start.Compare(b.Start) })
	return out
}

func uid(schedule, who string, start time.Time) string {
	h := sha256.Sum256([]byte(schedule + "\x00" + who + "\x00" + start.UTC().Format(time.RFC3339)))
	return hex.EncodeToString(h[:12]) + "@oncall"
}

// WriteICal writes events as an iCalendar (RFC 5545) calendar named name;
// now stamps the events.
func WriteICal(w io.Writer, name string, events []Event, now time.Time) error {
	bw := bufio.NewWriter(w)
	line := func(s string) { writeFolded(bw, s) }
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//oncall//schedule//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeText(name))
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + escapeText(e.UID))
		line("DTSTAMP:" + stamp(now))
		line("DTSTART:" + stamp(e.Start))
		line("DTEND:" + stamp(e.End))
		line("SUMMARY:" + escapeText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + escapeText(e.Description))
		}
		line("TRANSP:OPAQUE")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return bw.Flush()
}

// escapeText escapes an iCalendar TEXT value.
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// writeFolded writes a content line folded at 75 octets, never inside a
// UTF-8 sequence, ended by CRLF.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}

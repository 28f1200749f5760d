package schedule

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oncallhq/oncall/internal/testenv"
)

// The iCalendar export reads back in a real iCalendar parser (Debian's
// python3-icalendar) as the same shifts: start, end, summary and a UID
// that stays put across exports.
func TestICalReadsBackInARealParser(t *testing.T) {
	py := testenv.RequirePython(t, "icalendar", "python3-icalendar")
	d := followTheSun()
	berlin := mustLoc(t, "Europe/Berlin")
	from := time.Date(2026, 3, 27, 0, 0, 0, 0, berlin) // across the spring change
	to := from.Add(5 * 24 * time.Hour)
	events := d.ScheduleEvents("platform", from, to)
	// A summary that needs escaping and folding.
	events[0].Description = "Hand-off notes; see runbook, section 3\nline two — " + strings.Repeat("ü", 60)
	var buf bytes.Buffer
	if err := WriteICal(&buf, "platform; on call", events, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = {"name": str(cal.get("X-WR-CALNAME")), "events": []}
for e in cal.walk("VEVENT"):
    out["events"].append({"uid": str(e.get("UID")), "start": e.decoded("DTSTART").isoformat(),
        "end": e.decoded("DTEND").isoformat(), "summary": str(e.get("SUMMARY")), "description": str(e.get("DESCRIPTION") or "")})
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("icalendar: %v\n%s", err, out)
	}
	var got struct {
		Name   string
		Events []struct{ UID, Start, End, Summary, Description string }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Name != "platform; on call" || len(got.Events) != len(events) {
		t.Fatalf("calendar %q with %d events, want %d", got.Name, len(got.Events), len(events))
	}
	for i, e := range events {
		g := got.Events[i]
		if g.UID != e.UID || g.Summary != e.Summary || g.Description != e.Description {
			t.Errorf("event %d: %+v, want %+v", i, g, e)
		}
		start, _ := time.Parse(time.RFC3339, g.Start)
		end, _ := time.Parse(time.RFC3339, g.End)
		if !start.Equal(e.Start) || !end.Equal(e.End) {
			t.Errorf("event %d: %s–%s, want %v–%v", i, g.Start, g.End, e.Start.UTC(), e.End.UTC())
		}
	}
	// Monday's day shift starts at 09:00 Berlin, summer time now.
	var monday bool
	for _, e := range events {
		if e.Start.Equal(time.Date(2026, 3, 30, 9, 0, 0, 0, berlin)) && strings.Contains(e.Summary, "alice") {
			monday = true
		}
	}
	if !monday {
		t.Errorf("no 09:00 CEST day shift on 30 March: %+v", events)
	}
	// The same shift keeps its UID in a later export over a different span.
	again := d.ScheduleEvents("platform", from.Add(24*time.Hour), to)
	if again[len(again)-1].UID != events[len(events)-1].UID {
		t.Error("UIDs change between exports")
	}
}

func TestUserEventsAcrossSchedules(t *testing.T) {
	d := platform()
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	ev := d.UserEvents("riley", from, from.Add(30*24*time.Hour))
	if len(ev) != 2 || ev[0].Summary != "On call: ic" || !ev[0].End.Equal(time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)) || !ev[1].Start.Equal(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("riley: %+v", ev)
	}
}
